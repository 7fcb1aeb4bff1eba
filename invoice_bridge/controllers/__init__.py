from . import iap_extract
from . import import_api
