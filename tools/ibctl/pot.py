"""The translation template: Odoo's own export of the addon's strings, without the export's timestamps."""
import re

from .common import ADDON, PG_DB_USER, REPO, RUN_DIR, run

POT = REPO / ADDON / "i18n" / f"{ADDON}.pot"


def normalize_pot(text):
    """Drop the export's timestamps, so the template only changes when a translatable string does."""
    return re.sub(r'^"(POT-Creation-Date|PO-Revision-Date): [^"]*\\n"$', r'"\1: \\n"', text, flags=re.M)


def export_cmd(tree, py, pg, db, target, addons):
    """The command exporting ``ADDON``'s template from ``db`` into ``target``: 18.0 has ``--i18n-export``; 19.0 has
    the ``i18n export`` command, which reads the addons path and the database server from a configuration file."""
    if tree.version < 19:
        return tree.cmd(py, pg, db, "--i18n-export", str(target), "--modules", ADDON, "--stop-after-init",
                        "--log-level=warn", addons=addons)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    conf = RUN_DIR / f"odoo{tree.version}-i18n-{db}.conf"
    conf.write_text(f"[options]\naddons_path = {tree.addons_path(*addons)}\ndb_host = {pg.socket_dir}\n"
                    f"db_port = {pg.port}\ndb_user = {PG_DB_USER}\nlog_level = warn\n")
    return [py, tree.odoo_bin, "i18n", "export", "-c", conf, "-d", db, "-o", str(target), ADDON]


def export_pot(tree, py, pg, db, env, target, addons=(REPO,)):
    """Odoo's own export of the addon's translatable strings (code, views, data) into ``target``."""
    run(export_cmd(tree, py, pg, db, target, addons), env=env)
    target.write_text(normalize_pot(target.read_text(encoding="utf-8")), encoding="utf-8")
