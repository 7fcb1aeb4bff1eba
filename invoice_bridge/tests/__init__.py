from . import test_outbox
from . import test_sync_log
from . import test_security
