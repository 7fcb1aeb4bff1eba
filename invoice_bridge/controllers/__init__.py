from . import easybill_webhook
from . import extract_webhook
from . import import_api
from . import import_api_docs
from . import import_api_stream
