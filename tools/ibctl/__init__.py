"""Developer entry point behind ``make setup``, ``make test``, ``make demo``, ``make bench`` and ``make pot``:
``python3 tools/ibctl <command>``.

Standard library only: it runs before the virtualenvs exist and builds them. One module per concern:

* ``odoo_tree`` — finding the Odoo source tree of each version (18, 19), its addons path, version differences;
* ``setup_env`` — the Debian packages and one virtualenv per Odoo version;
* ``postgres`` — the throwaway PostgreSQL cluster;
* ``standalone`` — the copy of the addon that Odoo's test runner runs from;
* ``results`` — reading Odoo's log and pytest's summary (skipped tests are failures);
* ``pot`` — the translation template;
* ``commands`` — the commands and their options.
"""
from .common import ADDON, CACHE, REPO, RUN_DIR, die, run, say
from .commands import main
from .odoo_tree import find_tree, selected_version
from .pot import POT, normalize_pot
from .setup_env import runtime_constraints_file, venv_dir, venv_python

__all__ = ["ADDON", "CACHE", "POT", "REPO", "RUN_DIR", "die", "find_tree", "main", "normalize_pot", "run",
           "runtime_constraints_file", "say", "selected_version", "venv_dir", "venv_python"]
