"""The committed translation template is what Odoo exports from the code today (regenerate: ``make pot``)."""
import os
import subprocess
import sys
import types

from tests.conftest import REPO, load_plain_package

ibctl = load_plain_package("ibctl", REPO / "tools" / "ibctl")  # the export command `make pot` runs, per version


def test_pot_is_current(odoo_src, dbname, tmp_path):
    exported = tmp_path / "invoice_bridge.pot"
    tree = ibctl.odoo_tree.OdooTree(odoo_src)
    pg = types.SimpleNamespace(socket_dir=os.environ["PGHOST"], port=int(os.environ.get("PGPORT", "5432")))
    cmd = ibctl.pot.export_cmd(tree, os.environ.get("IB_PYTHON", sys.executable), pg, dbname, exported, (REPO,))
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Failed to extract terms" not in result.stderr, result.stderr[-3000:]
    current = ibctl.normalize_pot(exported.read_text(encoding="utf-8"))
    committed = ibctl.POT.read_text(encoding="utf-8")
    assert current == committed, "invoice_bridge/i18n/invoice_bridge.pot is stale: run `make pot` and commit it"
    assert 'msgid "Send to easybill"' in committed
