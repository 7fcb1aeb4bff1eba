"""The addon as a pip package, the way OCA ships addons.

whool builds ``odoo-addon-invoice_bridge`` from ``invoice_bridge/pyproject.toml`` offline (no build isolation, no
index); pip installs the wheel, with its dependencies, into a throwaway virtualenv where Odoo itself is installed as
a distribution (a PEP 660 editable install of the Odoo tree, in setuptools' "compat" mode, which writes nothing
into that tree). Odoo must then find
the addon in ``site-packages/odoo/addons/invoice_bridge`` — the repository is on no path — and install it on a fresh
database.

The throwaway virtualenv reuses the project virtualenv's packages (Odoo's requirements, ``requests``,
``standardwebhooks``) through a ``.pth`` file, so nothing is downloaded.
"""
import ast
import contextlib
import email.parser
import json
import os
import subprocess
import sys
import uuid
import zipfile

import pytest
from packaging.requirements import Requirement

from tests.conftest import REPO, _psql

ADDON = "invoice_bridge"
DIST_NAME = "odoo-addon-invoice_bridge"
PYTHON = os.environ.get("IB_PYTHON", sys.executable)
MANIFEST = ast.literal_eval((REPO / ADDON / "__manifest__.py").read_text())

# run inside the throwaway virtualenv: where Odoo finds the addon, and what it reads there
PROBE = """
import importlib.metadata, importlib.util, json, sys
import odoo
import odoo.modules.module
import odoo.tools.config
odoo.tools.config.parse_config(["--addons-path", sys.argv[1]])
odoo.modules.module.initialize_sys_path()
spec = importlib.util.find_spec("odoo.addons.invoice_bridge")
print(json.dumps({
    "odoo_file": odoo.__file__,
    "odoo_dist_version": importlib.metadata.version("odoo"),
    "addon_dist_files": [str(f) for f in importlib.metadata.files("odoo-addon-invoice_bridge")],
    "spec_origin": spec.origin,
    "module_path": odoo.modules.module.get_module_path("invoice_bridge"),
    "manifest": {k: v for k, v in odoo.modules.module.get_manifest("invoice_bridge").items()
                 if k in ("name", "version", "depends", "data")},
}))
"""


def _run(cmd, timeout=300, **kw):
    """Run ``cmd`` without the repository on PYTHONPATH (``make test`` puts it there); fail with its output."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PIP_NO_INPUT"] = "1"
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False, timeout=timeout,
                            env=env, **kw)
    if result.returncode:
        pytest.fail(f"{' '.join(str(c) for c in cmd)} exited with {result.returncode}:\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}", pytrace=False)
    return result


def _purelib(python):
    return _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    if subprocess.run([PYTHON, "-c", "import whool.buildapi"], capture_output=True, check=False).returncode:
        pytest.fail(f"whool is not installed in {PYTHON}: run `make setup` (it is in requirements-test.txt)",
                    pytrace=False)
    out = tmp_path_factory.mktemp("dist")
    _run([PYTHON, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", out,
          REPO / ADDON])
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def site_venv(tmp_path_factory, odoo_src):
    """A new virtualenv with Odoo installed as a distribution; returns (python, site-packages)."""
    venv = tmp_path_factory.mktemp("venv")
    _run([PYTHON, "-m", "venv", venv])
    python = venv / "bin" / "python"
    site = _purelib(python)
    # after the new virtualenv's own site-packages: the project virtualenv's packages (Odoo's requirements)
    with open(os.path.join(site, "zz_invoice_bridge_project_venv.pth"), "w") as pth:
        pth.write(_purelib(PYTHON) + "\n")
    # editable_mode=compat: a .pth file puts the Odoo tree on sys.path, so the regular ``odoo`` package is found
    # there although ``site-packages/odoo`` (the addon wheels' namespace directory) comes first; setuptools' default
    # editable finder sits after the path finder, which would make ``odoo`` a bare namespace package
    _run([python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--use-pep517",
          "--config-settings", "editable_mode=compat", "--editable", odoo_src])
    return python, site


@pytest.fixture
def fresh_db():
    name = f"ib_pkg_{uuid.uuid4().hex[:8]}"
    yield name
    with contextlib.suppress(subprocess.CalledProcessError):
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_wheel_metadata_and_contents(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.parser.HeaderParser().parsestr(zf.read(f"{dist_info}/METADATA").decode())
    assert metadata["Name"] == DIST_NAME
    # whool's version is the manifest's, plus a post-release suffix counting the commits since it changed
    assert metadata["Version"] == MANIFEST["version"] or metadata["Version"].startswith(MANIFEST["version"] + ".")
    requires = {Requirement(r).name: Requirement(r) for r in metadata.get_all("Requires-Dist")}
    assert requires["odoo"].specifier.contains("18.0", prereleases=True)
    assert not requires["odoo"].specifier.contains("17.0") and not requires["odoo"].specifier.contains("19.0")
    assert set(MANIFEST["external_dependencies"]["python"]) <= set(requires)
    prefix = f"odoo/addons/{ADDON}/"
    missing = [p for p in ["__init__.py", "__manifest__.py", *MANIFEST["data"]] if prefix + p not in names]
    assert not missing, f"not in the wheel (whool packages only the files git tracks: `git add` them): {missing}"
    assert prefix + "pyproject.toml" not in names
    assert all(n.startswith((prefix, dist_info + "/")) for n in names), sorted(names)


def test_installed_wheel_is_found_by_odoo_and_installs_on_a_fresh_database(wheel, site_venv, odoo_src, fresh_db):
    python, site = site_venv
    # with its dependencies: Odoo's distribution satisfies odoo==18.0.*, the project virtualenv the others
    _run([python, "-m", "pip", "install", "--no-index", "--no-build-isolation", wheel])

    addons_path = str(odoo_src / "addons")  # account, iap; Odoo adds its own odoo/addons; not the repository
    probe = json.loads(_run([python, "-c", PROBE, addons_path], cwd=site).stdout)
    installed = os.path.join(site, "odoo", "addons", ADDON)
    assert probe["odoo_file"] == str(odoo_src / "odoo" / "__init__.py")
    assert probe["odoo_dist_version"].startswith("18.0")
    assert probe["spec_origin"] == os.path.join(installed, "__init__.py")
    assert probe["module_path"] == installed
    assert f"odoo/addons/{ADDON}/__manifest__.py" in probe["addon_dist_files"]
    assert probe["manifest"]["version"] == MANIFEST["version"]
    assert probe["manifest"]["depends"] == MANIFEST["depends"]

    # the console script of Odoo's distribution, from a neutral directory
    _run([python.parent / "odoo", "-d", fresh_db, "-i", ADDON, "--addons-path", addons_path, "--stop-after-init",
          "--without-demo=all", "--no-http", "--max-cron-threads=0", "--log-level=warn"], cwd=site, timeout=600)
    state = subprocess.run(["psql", "-d", fresh_db, "-qAtc",
                            f"SELECT name, state FROM ir_module_module WHERE name IN ('{ADDON}', 'account') "
                            "ORDER BY name"], capture_output=True, text=True, check=True).stdout.split()
    assert state == ["account|installed", f"{ADDON}|installed"]
    tables = subprocess.run(["psql", "-d", fresh_db, "-qAtc",
                             "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'invoice_bridge%'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert int(tables) > 0
