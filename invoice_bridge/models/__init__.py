from . import sync_log
from . import outbox_target
from . import outbox
from . import account_move
from . import res_partner
from . import res_config_settings
