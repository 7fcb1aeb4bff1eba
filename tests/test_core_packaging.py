"""The addon as a pip package, the way OCA ships addons.

whool builds ``odoo-addon-invoice_bridge`` from ``invoice_bridge/pyproject.toml`` offline (no build isolation, no
index); pip installs the wheel, with its dependencies, into a throwaway virtualenv where Odoo itself is installed as
a distribution (a PEP 660 editable install of the Odoo tree, in setuptools' "compat" mode, which writes nothing
into that tree). Odoo must then find the addon in ``site-packages/odoo/addons/invoice_bridge`` — the repository is
on no path — install it on a fresh database, and pass the addon's own tests from there: from a neutral working
directory, with nothing of the repository on any path.

The throwaway virtualenv reuses the project virtualenv's packages of the same Odoo version (Odoo's requirements,
``requests``, ``standardwebhooks``) through a ``.pth`` file, so nothing is downloaded. The tests run per Odoo version
of ``IB_PACKAGING_VERSIONS`` (comma list; default: the version of this pytest run), each with the tree and the
virtualenv ``make test`` prepared for it (``IB_ODOO_TREES``).
"""
import ast
import contextlib
import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import types
import uuid
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import REPO, _psql, free_port, load_plain_package, odoo_addons_path, odoo_trees

ADDON = "invoice_bridge"
DIST_NAME = "odoo-addon-invoice_bridge"
PYTHON = os.environ.get("IB_PYTHON", sys.executable)
MANIFEST = ast.literal_eval((REPO / ADDON / "__manifest__.py").read_text())
SUPPORTED_SERIES = ("18.0", "19.0")
# every version `make test` prepared (IB_ODOO_TREES: 18 and 19 by default), else the one of this pytest run
VERSIONS = [int(v) for v in (os.environ.get("IB_PACKAGING_VERSIONS")
                             or ",".join(json.loads(os.environ.get("IB_ODOO_TREES") or "{}"))
                             or os.environ.get("IB_ODOO_VERSION") or "18").split(",") if v.strip()]

# run inside the throwaway virtualenv: where Odoo finds the addon, and what it reads there
PROBE = """
import importlib.metadata, importlib.util, json, sys
if importlib.util.find_spec("odoo.init"):  # 19.0: odoo is a namespace package
    import odoo.init
import odoo.release
import odoo.modules.module
import odoo.tools.config
odoo.tools.config.parse_config(["--addons-path", sys.argv[1]])
odoo.modules.module.initialize_sys_path()
spec = importlib.util.find_spec("odoo.addons.invoice_bridge")
print(json.dumps({
    "odoo_release_file": odoo.release.__file__,
    "odoo_dist_version": importlib.metadata.version("odoo"),
    "addon_dist_files": [str(f) for f in importlib.metadata.files("odoo-addon-invoice_bridge")],
    "spec_origin": spec.origin,
    "module_path": odoo.modules.module.get_module_path("invoice_bridge"),
    "manifest": {k: v for k, v in odoo.modules.module.get_manifest("invoice_bridge").items()
                 if k in ("name", "version", "depends", "data")},
}))
"""


def _env(with_repo=False):
    """The environment of the throwaway virtualenv's processes: nothing of the repository (``make test`` puts it on
    PYTHONPATH), unless ``with_repo``."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "IB_REPO")}
    env["PIP_NO_INPUT"] = "1"
    if with_repo:
        env["PYTHONPATH"] = str(REPO)
    return env


def _run(cmd, timeout=300, with_repo=False, check=True, extra_env=None, **kw):
    """Run ``cmd`` (without the repository on PYTHONPATH unless ``with_repo``); fail with its output."""
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, check=False, timeout=timeout,
                            env={**_env(with_repo), **(extra_env or {})}, **kw)
    if check and result.returncode:
        pytest.fail(f"{' '.join(str(c) for c in cmd)} exited with {result.returncode}:\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}", pytrace=False)
    return result


def _purelib(python):
    return _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()


def manifest_series():
    """The Odoo series the wheel is for: the manifest version's first two parts, else whool's override."""
    parts = MANIFEST["version"].split(".")
    if len(parts) >= 5:  # noqa: PLR2004 - whool's rule: "<series>.x.y.z"
        return ".".join(parts[:2])
    # [tool.whool] odoo_series_override / odoo_version_override (no tomllib: the repository targets Python 3.10 too)
    pyproject = (REPO / ADDON / "pyproject.toml").read_text()
    m = re.search(r'^\s*odoo_(?:series|version)_override\s*=\s*["\']([^"\']+)', pyproject, re.M)
    return m.group(1) if m else None


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


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"odoo{v}")
def odoo_dist(request):
    """The Odoo tree and the project virtualenv of one version, as ``make test`` prepared them."""
    version = request.param
    info = odoo_trees().get(version)
    if info is None and str(version) == os.environ.get("IB_ODOO_VERSION"):
        info = {"src": os.environ["IB_ODOO_SRC"], "python": PYTHON}
    if info is None:
        pytest.fail(f"no Odoo {version} tree in this run: run `IB_TEST_VERSIONS=...,{version} make test` (its tree "
                    "and virtualenv are prepared then)", pytrace=False)
    return types.SimpleNamespace(version=version, src=Path(info["src"]), python=info["python"])


def _odoo_project(odoo_src, tmp):
    """What pip installs Odoo from: the tree itself, or — when the tree lacks the ``setup/odoo`` script its setup.py
    declares (the 19.0 tree here) — a staging directory with the tree's packaging files, that script, and a symbolic
    link to the tree's ``odoo`` package (nothing is written into the tree either way)."""
    if (odoo_src / "setup" / "odoo").is_file():
        return odoo_src
    stage = tmp / "odoo-project"
    (stage / "setup").mkdir(parents=True)
    for name in ("setup.py", "setup.cfg", "MANIFEST.in", "README.md", "LICENSE", "requirements.txt"):
        if (odoo_src / name).is_file():
            shutil.copy2(odoo_src / name, stage / name)
    (stage / "setup" / "odoo").write_text("#!/usr/bin/env python3\n__import__('os').environ['TZ'] = 'UTC'\n"
                                          "import odoo.cli\n\nif __name__ == '__main__':\n    odoo.cli.main()\n")
    (stage / "odoo").symlink_to(odoo_src / "odoo", target_is_directory=True)
    return stage


@pytest.fixture(scope="module")
def site_venv(tmp_path_factory, odoo_dist):
    """A new virtualenv with Odoo installed as a distribution; returns (python, site-packages)."""
    tmp = tmp_path_factory.mktemp(f"odoo{odoo_dist.version}")
    venv = tmp / "venv"
    _run([odoo_dist.python, "-m", "venv", venv])
    python = venv / "bin" / "python"
    site = _purelib(python)
    # after the new virtualenv's own site-packages: the project virtualenv's packages (Odoo's requirements)
    with open(os.path.join(site, "zz_invoice_bridge_project_venv.pth"), "w") as pth:
        pth.write(_purelib(odoo_dist.python) + "\n")
    # editable_mode=compat: a .pth file puts the Odoo tree on sys.path, so the regular ``odoo`` package is found
    # there although ``site-packages/odoo`` (the addon wheels' namespace directory) comes first; setuptools' default
    # editable finder sits after the path finder, which would make ``odoo`` a bare namespace package
    _run([python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--use-pep517",
          "--config-settings", "editable_mode=compat", "--editable", _odoo_project(odoo_dist.src, tmp)],
         timeout=900)
    return python, site


@pytest.fixture(scope="module")
def series_wheel(wheel, odoo_dist, tmp_path_factory):
    """The wheel for ``odoo_dist``'s series. A wheel declares one series (``odoo==<series>.*``), as OCA publishes
    one per branch: the committed ``[tool.whool]`` override builds 18.0's; another series' is built the same way
    from the files git tracks, with the override set to that series (the README's *Deployment* says so)."""
    series = f"{odoo_dist.version}.0"
    if series == manifest_series():
        return wheel
    tmp = tmp_path_factory.mktemp(f"wheel{odoo_dist.version}")
    tracked = _run(["git", "ls-files", "-z", ADDON], cwd=REPO).stdout.split("\0")
    for name in filter(None, tracked):
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, tmp / name)
    pyproject = tmp / ADDON / "pyproject.toml"
    text, count = re.subn(r'^(\s*odoo_series_override\s*=\s*)"[^"]*"', rf'\g<1>"{series}"',
                          pyproject.read_text(), flags=re.M)
    assert count == 1, "pyproject.toml has no odoo_series_override line"
    pyproject.write_text(text)
    out = tmp / "dist"
    _run([PYTHON, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", out,
          tmp / ADDON], extra_env={"WHOOL_POST_VERSION_STRATEGY_OVERRIDE": "none"})  # no git history there
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed_wheel(series_wheel, site_venv):
    python, site = site_venv
    # with its dependencies: Odoo's distribution satisfies odoo==<series>.*, the project virtualenv the others
    _run([python, "-m", "pip", "install", "--no-index", "--no-build-isolation", series_wheel])
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
    # whool declares one series, odoo==<series>.*: the manifest's ("18.0.x.y.z"), or [tool.whool]'s override when
    # the manifest version has no series ("1.0.0")
    series = manifest_series()
    assert series in SUPPORTED_SERIES, f"the wheel's Odoo series {series!r} is none of {SUPPORTED_SERIES}"
    assert requires["odoo"].specifier.contains(series, prereleases=True)
    for other in ("17.0", *SUPPORTED_SERIES, "20.0"):
        if other != series:
            assert not requires["odoo"].specifier.contains(other), (series, other, str(requires["odoo"]))
    assert set(MANIFEST["external_dependencies"]["python"]) <= set(requires)
    prefix = f"odoo/addons/{ADDON}/"
    missing = [p for p in ["__init__.py", "__manifest__.py", *MANIFEST["data"]] if prefix + p not in names]
    assert not missing, f"not in the wheel (whool packages only the files git tracks: `git add` them): {missing}"
    assert prefix + "pyproject.toml" not in names
    assert all(n.startswith((prefix, dist_info + "/")) for n in names), sorted(names)


def test_installed_wheel_is_found_by_odoo_and_installs_on_a_fresh_database(installed_wheel, odoo_dist, fresh_db,
                                                                           tmp_path):
    python, site = installed_wheel
    addons_path = odoo_addons_path(odoo_dist.src)  # account, iap; not the repository
    probe = json.loads(_run([python, "-c", PROBE, addons_path], cwd=tmp_path).stdout)
    installed = os.path.join(site, "odoo", "addons", ADDON)
    assert os.path.realpath(probe["odoo_release_file"]) == os.path.realpath(odoo_dist.src / "odoo" / "release.py")
    assert probe["odoo_dist_version"].startswith(f"{odoo_dist.version}.0")
    assert probe["spec_origin"] == os.path.join(installed, "__init__.py")
    assert probe["module_path"] == installed
    assert f"odoo/addons/{ADDON}/__manifest__.py" in probe["addon_dist_files"]
    assert probe["manifest"]["version"].endswith(MANIFEST["version"])  # Odoo prefixes a series-less version
    assert probe["manifest"]["depends"] == MANIFEST["depends"]

    # the console script of Odoo's distribution, from a neutral directory
    no_demo = ["--without-demo=all"] if odoo_dist.version < 19 else []  # noqa: PLR2004 - 19.0 installs none by default
    _run([python.parent / "odoo", "-d", fresh_db, "-i", ADDON, "--addons-path", addons_path, "--stop-after-init",
          *no_demo, "--no-http", "--max-cron-threads=0", "--log-level=warn"], cwd=tmp_path, timeout=600)
    state = subprocess.run(["psql", "-d", fresh_db, "-qAtc",
                            f"SELECT name, state FROM ir_module_module WHERE name IN ('{ADDON}', 'account') "
                            "ORDER BY name"], capture_output=True, text=True, check=True).stdout.split()
    assert state == ["account|installed", f"{ADDON}|installed"]
    tables = subprocess.run(["psql", "-d", fresh_db, "-qAtc",
                             "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'invoice_bridge%'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert int(tables) > 0


def test_addon_tests_pass_from_the_installed_wheel(installed_wheel, odoo_dist, fresh_db, tmp_path):
    """Odoo's test runner on the installed addon's own tests, like OCA's CI runs them."""
    ibctl = load_plain_package("ibctl", REPO / "tools" / "ibctl")  # the log reader `make test` uses
    python, site = installed_wheel
    no_demo = ["--without-demo=all"] if odoo_dist.version < 19 else []  # noqa: PLR2004 - 19.0 installs none by default
    result = _run([python.parent / "odoo", "-d", fresh_db, "-i", ADDON, "--test-enable", "--test-tags", f"/{ADDON}",
                   "--addons-path", odoo_addons_path(odoo_dist.src), "--stop-after-init", *no_demo,
                   "--http-port", str(free_port()), "--max-cron-threads=0", "--log-level=test"],
                  cwd=tmp_path, timeout=3600, check=False)
    text = result.stdout + result.stderr
    log = REPO / ".run" / "logs" / f"packaging-odoo{odoo_dist.version}-tests.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(text)
    tier = ibctl.results.parse_odoo(text, result.returncode, ibctl.results.Tier("wheel"), ADDON)
    assert tier.total, f"Odoo's runner ran no test of the installed addon: {tier.problems} (log: {log})"
    assert (tier.failed, tier.skipped, tier.problems) == (0, [], []), f"{tier.summary()} (log: {log})"

