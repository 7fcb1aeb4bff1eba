from . import iap_extract
