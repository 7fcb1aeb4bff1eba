"""Load a plain-Python package of the addon (``invoice_bridge/lib``, ``invoice_bridge/tests/fakes``) on its own.

Both are part of the addon, but neither imports Odoo: loading them under an alias (``ib_lib``, ``ib_fakes``)
skips ``invoice_bridge/__init__.py`` (which imports Odoo's models), so the pytest tier, the benchmarks, the demo
and the command line use the addon's own fakes without an Odoo server. Standard library only.
"""
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDON_DIR = REPO / "invoice_bridge"


def load_package(alias, directory):
    """Import ``directory`` as the package ``alias`` (once); its relative imports work as in the addon."""
    if alias in sys.modules:
        return sys.modules[alias]
    directory = Path(directory)
    spec = importlib.util.spec_from_file_location(alias, directory / "__init__.py",
                                                  submodule_search_locations=[str(directory)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module
    spec.loader.exec_module(module)
    return module


def load_lib():
    return load_package("ib_lib", ADDON_DIR / "lib")


def load_fakes():
    return load_package("ib_fakes", ADDON_DIR / "tests" / "fakes")
