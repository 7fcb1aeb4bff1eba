-- A copied (neutralized) database must not talk to the outside world. One section per channel.

-- core: pause every outbound channel (the master switch of the delivery engine)
INSERT INTO ir_config_parameter (key, value, create_date, write_date)
VALUES ('invoice_bridge.outbound_disabled', 'True', now() at time zone 'UTC', now() at time zone 'UTC')
ON CONFLICT (key) DO UPDATE SET value = 'True';

-- webhooks: archive every endpoint, so re-enabling traffic on the copy needs a deliberate step
UPDATE invoice_bridge_webhook_endpoint SET active = false;

-- IAP Extract: no token of the production account (Odoo's iap module disables the IAP accounts' tokens)
UPDATE res_company SET ib_extract_token = NULL, ib_extract_test_mode = false;

-- easybill: neither create documents nor export months on its own
UPDATE res_company SET ib_easybill_enabled = false, ib_easybill_api_key = NULL;

-- easybill back-sync: the copy's webhook URL stops answering (a new nonce is needed to register one)
UPDATE res_company SET ib_easybill_webhook_nonce = NULL, ib_easybill_webhook_id = NULL;
