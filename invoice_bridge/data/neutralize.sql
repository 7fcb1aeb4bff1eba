-- a copied (neutralized) database must not talk to the outside world: pause every outbound channel
INSERT INTO ir_config_parameter (key, value, create_date, write_date)
VALUES ('invoice_bridge.outbound_disabled', 'True', now() at time zone 'UTC', now() at time zone 'UTC')
ON CONFLICT (key) DO UPDATE SET value = 'True';

-- and archive every webhook endpoint, so re-enabling traffic on the copy needs a deliberate step
UPDATE invoice_bridge_webhook_endpoint SET active = false;

-- a copy must neither create easybill documents nor export months on its own
UPDATE res_company SET ib_easybill_enabled = false, ib_easybill_api_key = NULL;
