from . import webhook_preview
from . import webhook_replay
from . import easybill_export_wizard
from . import import_api_key_show
from . import import_api_return_wizard
