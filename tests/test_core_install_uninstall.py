"""Uninstall and reinstall the addon from outside (its own tests cannot uninstall it)."""
import os
import subprocess
import sys

from tests.conftest import REPO, odoo_addons_path


def _odoo(odoo_src, dbname, *args, stdin=None):
    addons = odoo_addons_path(odoo_src, REPO)
    return subprocess.run(
        [os.environ.get("IB_PYTHON", sys.executable), str(odoo_src / "odoo-bin"), *args, "--addons-path", addons,
         "-d", dbname, "--log-level", "warn", "--no-http"],
        input=stdin, capture_output=True, text=True, check=False, timeout=600)


def _tables(dbname):
    out = subprocess.run(["psql", "-d", dbname, "-qAtc",
                          "SELECT tablename FROM pg_tables WHERE tablename LIKE 'invoice_bridge%' ORDER BY 1"],
                         capture_output=True, text=True, check=True).stdout
    return out.split()


def _module_state(dbname):
    return subprocess.run(["psql", "-d", dbname, "-qAtc",
                           "SELECT state FROM ir_module_module WHERE name = 'invoice_bridge'"],
                          capture_output=True, text=True, check=True).stdout.strip()


def _count(dbname, table):
    return int(subprocess.run(["psql", "-d", dbname, "-qAtc", f"SELECT count(*) FROM {table}"],
                              capture_output=True, text=True, check=True).stdout)


def test_uninstall_then_reinstall(odoo_src, dbname):
    assert "invoice_bridge_outbox" in _tables(dbname)
    # an append-only log and undeletable messages must not stop the uninstall (#16.3): write some first
    history = ("Outbox = env['invoice_bridge.outbox']\n"
               "msg = Outbox._enqueue({'channel': 'http', 'target': 'uninstall-test', 'url': 'http://127.0.0.1:9/',"
               " 'payload': '{}', 'idempotency_key': 'uninstall-test'})\n"
               "env['invoice_bridge.sync.log']._log({'channel': 'http', 'state': 'failed', 'outbox_id': msg.id,"
               " 'message': 'before uninstall'})\n"
               "env.cr.commit()\n")
    result = _odoo(odoo_src, dbname, "shell", stdin=history)
    assert _count(dbname, "invoice_bridge_sync_log") > 0, result.stderr[-3000:]
    assert _count(dbname, "invoice_bridge_outbox") > 0
    script = ("env['ir.module.module'].search([('name', '=', 'invoice_bridge')]).button_immediate_uninstall()\n"
              "env.cr.commit()\n")
    result = _odoo(odoo_src, dbname, "shell", stdin=script)
    assert _module_state(dbname) == "uninstalled", result.stderr[-3000:]
    assert _tables(dbname) == []
    result = _odoo(odoo_src, dbname, "-i", "invoice_bridge", "--stop-after-init")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _module_state(dbname) == "installed"
    assert {"invoice_bridge_outbox", "invoice_bridge_sync_log", "invoice_bridge_outbox_target"} <= set(
        _tables(dbname))
