# core: the delivery engine, the sync log, access rights
from . import test_core_outbox
from . import test_core_sync_log
from . import test_core_security
from . import test_core_http
from . import test_core_access
from . import test_core_constraints
from . import test_core_labels
from . import test_core_live
from . import test_core_secrets
# webhooks
from . import test_webhook_events
from . import test_webhook_pdf
from . import test_webhook_golden
from . import test_webhook_delivery
from . import test_webhook_subscriptions
from . import test_webhook_rotation
# IAP Extract
from . import test_extract
from . import test_extract_golden
# easybill
from . import test_easybill
from . import test_easybill_golden
from . import test_easybill_file_format
# the import API
from . import test_import_api
from . import test_import_api_attacks
from . import test_import_api_golden
from . import test_import_api_docs
from . import test_import_api_read
from . import test_import_api_batch
# the accountant's path in a browser (JS tours)
from . import test_ui_tours
from . import test_ui_tours_easybill
from . import test_easybill_sync
from . import test_extract_edi
