# core: the delivery engine, the sync log, the settings reader
from . import core_config
from . import core_sync_log
from . import core_sync_log_mixin
from . import core_outbox_target
from . import core_refused_request
from . import core_outbox
from . import core_account_move
from . import core_res_partner
from . import core_res_config_settings
from . import core_res_groups
from . import core_bus
# webhooks: signed invoice events (seed 000)
from . import webhook_event_type
from . import webhook_endpoint
from . import webhook_endpoint_stat
from . import webhook_outbox
from . import webhook_account_move
from . import webhook_res_partner
from . import webhook_res_company
from . import webhook_res_config_settings
# IAP Extract: vendor bill digitization (seed 001)
from . import extract_outbox
from . import extract_account_move
from . import extract_iap_account
from . import extract_res_company
from . import extract_res_config_settings
# easybill: the monthly export (seed 004)
from . import easybill_export
from . import easybill_export_line
from . import easybill_outbox
from . import easybill_account_journal
from . import easybill_account_move
from . import easybill_product_template
from . import easybill_res_partner
from . import easybill_res_company
from . import easybill_res_config_settings
from . import easybill_sync
# the import API: keys, imported invoices, the event stream (seeds 002 and 003)
from . import import_api_key
from . import import_api_event
from . import import_api_idempotency
from . import import_api_salesman
from . import import_api_service
from . import import_api_res_config_settings
from . import import_api_account_move
from . import import_api_account_move_line
from . import import_api_product_template
from . import import_api_res_partner
from . import import_api_sync_log
# webhooks announce the import API's events too (after both are loaded)
from . import webhook_api_event
