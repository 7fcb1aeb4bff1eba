"""The committed translation template is what Odoo exports from the code today (regenerate: ``make pot``)."""
import importlib.util

from tests.conftest import REPO
from tests.test_core_install_uninstall import _odoo

_spec = importlib.util.spec_from_file_location("ibctl", REPO / "tools" / "ibctl.py")
ibctl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ibctl)


def test_pot_is_current(odoo_src, dbname, tmp_path):
    exported = tmp_path / "invoice_bridge.pot"
    result = _odoo(odoo_src, dbname, "--i18n-export", str(exported), "--modules", "invoice_bridge",
                   "--stop-after-init")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Failed to extract terms" not in result.stderr, result.stderr[-3000:]
    current = ibctl.normalize_pot(exported.read_text(encoding="utf-8"))
    committed = ibctl.POT.read_text(encoding="utf-8")
    assert current == committed, "invoice_bridge/i18n/invoice_bridge.pot is stale: run `make pot` and commit it"
    assert 'msgid "Send to easybill"' in committed
