from . import test_outbox
from . import test_sync_log
from . import test_security
from . import test_webhook
from . import test_webhook_pdf
from . import test_iap_extract
from . import test_easybill
from . import test_import_api
