"""The Debian packages and the virtualenvs, one per Odoo version (``~/.cache/invoice_bridge/venv-18``, ``venv-19``).

A virtualenv gets Odoo's ``requirements.txt`` (minus ``python-ldap``: it needs LDAP headers and is unused here),
then this repository's ``requirements.txt`` and ``requirements-test.txt``. It is rebuilt only when one of these
files, the Odoo tree or the recipe below changes.

Two setuptools constraints, each where it belongs:

* building: Odoo's ``cbor2==5.4.2`` (Python < 3.12) has no wheel for 3.11, and its ``setup.py`` needs a setuptools
  older than 70. That constraint goes to that build only (``PIP_CONSTRAINT`` reaches pip's isolated build
  environment), never to the virtualenv;
* running: the virtualenv's own setuptools must still ship ``pkg_resources`` and read distributions installed under
  normalized names. Odoo's ``gevent==22.10.2`` (Python 3.11) calls ``pkg_resources`` when patching, and gevent
  requires ``zope.interface``, installed as ``zope_interface-8.x.dist-info``: setuptools < 75.8.1 cannot find it
  (``DistributionNotFound: The 'zope.interface' distribution was not found``: the gevent worker dies at start);
  80.9 to 81 warn on every import of ``pkg_resources`` (a UserWarning, printed by each gevent worker); 82 and later
  have no ``pkg_resources`` at all (``ModuleNotFoundError``). Hence ``setuptools>=75.8.2,<80.9``, checked after
  every build by patching gevent in the new virtualenv.

Odoo 19.0's ``setup.py`` requires ``lxml_html_clean`` on every Python while its ``requirements.txt`` installs it only
from 3.12: it is added to the 19 virtualenv, or pip cannot install an addon wheel where Odoo 19 is a distribution.
"""
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import CACHE, REPO, die, run, say

DEBIAN_PACKAGES = ["libpq-dev", "wkhtmltopdf", "postgresql", "chromium"]  # chromium: Odoo's browser tests (tours)
DEBIAN_PACKAGES_BY_VERSION = {19: ["libmagic1"]}  # python-magic, in Odoo 19's requirements
SKIPPED_REQUIREMENTS = {"python-ldap"}
BUILD_CONSTRAINTS = {"cbor2": "setuptools<70"}  # requirement name -> constraint for building it only
RUNTIME_CONSTRAINTS = "setuptools>=75.8.2,<80.9\n"  # see the module docstring
# Odoo's setup.py requires what its requirements.txt leaves out on this Python: pip checks an installed distribution's
# requirements, so installing an addon wheel where Odoo is a distribution (tests/test_core_packaging.py) needs them
# 19.0: install_requires has lxml_html_clean on every Python, requirements.txt only from 3.12 (lxml 5.2 split it off)
EXTRA_REQUIREMENTS = {19: ["lxml_html_clean"]}
RECIPE = "4"  # bump when the way a virtualenv is built changes: every virtualenv is then rebuilt
GEVENT_CHECK = "import gevent.monkey; gevent.monkey.patch_all(); import gevent.events; print('gevent ok')"

_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def venv_dir(version):
    """``IB_VENV_<version>``, else ``IB_VENV`` (one version only: the caller checks), else <cache>/venv-<version>."""
    override = os.environ.get(f"IB_VENV_{version}") or os.environ.get("IB_VENV")
    return Path(override) if override else CACHE / f"venv-{version}"


def venv_python(version):
    return venv_dir(version) / "bin" / "python"


def check_single_venv_override(versions):
    if os.environ.get("IB_VENV") and len(set(versions)) > 1:
        die(f"IB_VENV names one virtualenv, but this run uses Odoo {', '.join(map(str, sorted(set(versions))))}: "
            "set IB_VENV_18 / IB_VENV_19 instead")


def _installed(package):
    return subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True,
                          check=False).stdout.strip() == "install ok installed"


def ensure_debian_packages(versions=()):
    wanted = list(DEBIAN_PACKAGES)
    for version in versions:
        wanted += [p for p in DEBIAN_PACKAGES_BY_VERSION.get(version, []) if p not in wanted]
    missing = [p for p in wanted if not _installed(p)]
    if not missing:
        return
    if os.geteuid() != 0:
        die(f"missing Debian packages {missing}: run `sudo apt-get install -y {' '.join(missing)}`")
    say(f"installing Debian packages {missing}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env, check=False)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


def _normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def split_odoo_requirements(text):
    """Odoo's requirement lines as (plain, {constraint: lines}); ``python-ldap`` dropped."""
    plain, constrained = [], {}
    for line in text.splitlines():
        m = _NAME_RE.match(line)
        name = _normalized(m.group(1)) if m else None
        if name in SKIPPED_REQUIREMENTS:
            continue
        build = BUILD_CONSTRAINTS.get(name)
        (constrained.setdefault(build, []) if build else plain).append(line)
    return plain, constrained


def _stamp(tree):
    h = hashlib.sha256(RECIPE.encode())
    for f in (tree.requirements, REPO / "requirements.txt", REPO / "requirements-test.txt"):
        h.update(f.read_bytes() if f.exists() else b"")
    h.update(str(tree.path).encode())
    return h.hexdigest()


def _pip_env():
    """The environment of our pip runs: no inherited PIP_CONSTRAINT (each step says which constraint it needs)."""
    return {k: v for k, v in os.environ.items() if k != "PIP_CONSTRAINT"}


def gevent_works(py):
    """(ok, output) of patching with gevent in the virtualenv, from a neutral directory."""
    proc = subprocess.run([py, "-c", GEVENT_CHECK], capture_output=True, text=True, check=False,
                          cwd=tempfile.gettempdir(), env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    return proc.returncode == 0 and "Warning" not in proc.stderr, (proc.stdout + proc.stderr).strip()


def runtime_constraints_file():
    """The constraints every pip run into a virtualenv gets (``-c``): the setuptools window above."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "pip-runtime-constraints.txt"
    path.write_text(RUNTIME_CONSTRAINTS)
    return path


def ensure_venv(tree):
    """The virtualenv's python for ``tree``'s version, built or rebuilt when needed."""
    venv = venv_dir(tree.version)
    py = venv / "bin" / "python"
    stamp_file = venv / ".ib-stamp"
    stamp = _stamp(tree)
    if py.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        return py
    say(f"building the Odoo {tree.version} virtualenv {venv} (Odoo's and this repository's requirements)")
    if not py.exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "venv", venv])
    runtime = runtime_constraints_file()
    plain, constrained = split_odoo_requirements(tree.requirements.read_text())
    env = _pip_env()
    pip = [py, "-m", "pip", "install", "-q"]
    run([*pip, "-c", runtime, "setuptools", "wheel"], env=env)
    for i, (constraint, lines) in enumerate(sorted(constrained.items())):
        build_c = CACHE / f"pip-build-constraints-{i}.txt"
        build_c.write_text(constraint + "\n")
        reqs = CACHE / f"odoo{tree.version}-requirements-built-with-{i}.txt"
        reqs.write_text("\n".join(lines) + "\n")
        names = dict.fromkeys(_NAME_RE.match(line).group(1) for line in lines)  # one line per Python: once each
        say(f"building {', '.join(names)} with {constraint} (when the line's marker applies)")
        run([*pip, "-r", reqs], env=dict(env, PIP_CONSTRAINT=str(build_c)))
    odoo_reqs = CACHE / f"odoo{tree.version}-requirements.txt"
    odoo_reqs.write_text("\n".join([*plain, *EXTRA_REQUIREMENTS.get(tree.version, [])]) + "\n")
    run([*pip, "-c", runtime, "-r", odoo_reqs], env=env)
    run([*pip, "-c", runtime, "-r", REPO / "requirements.txt", "-r", REPO / "requirements-test.txt"], env=env)
    ok, output = gevent_works(py)
    if not ok:
        die(f"gevent does not patch cleanly in {venv} (Odoo's gevent worker would not start):\n{output}")
    stamp_file.write_text(stamp)
    return py
