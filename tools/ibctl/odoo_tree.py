"""Finding the Odoo source trees, one per supported version, and what differs between them.

Which version a command works on:

* ``ODOO_SRC`` — a source tree; its version is read from its ``odoo/release.py``;
* else ``ODOO_VERSION`` — ``18`` or ``19``;
* else 18.

Where the tree of a version is:

1. ``ODOO_SRC``, when its version is that version;
2. ``ODOO<version>_SRC`` (``ODOO18_SRC``, ``ODOO19_SRC``);
3. the default place: ``/opt/odoo`` for 18, ``/opt/odoo19`` for 19;
4. an ``odoo`` package importable by the interpreter running ibctl, when it is a source tree of that version;
5. the official nightly source archive, unpacked in the cache (``odoo-nightly-<version>``); downloaded when
   missing, and when that fails (offline) the command stops and says what to install. Never skipped.
"""
import ast
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

from .common import CACHE, PG_DB_USER, die, say

SUPPORTED = (18, 19)
DEFAULT_VERSION = 18
DEFAULT_TREES = {18: Path("/opt/odoo"), 19: Path("/opt/odoo19")}
NIGHTLY_URL = "https://nightly.odoo.com/{v}.0/nightly/src/odoo_{v}.0.latest.tar.gz"
DOWNLOAD_DEADLINE = float(os.environ.get("IB_DOWNLOAD_TIMEOUT", "900"))  # seconds for the whole archive


def release_version(path):
    """``(major, minor)`` from ``<path>/odoo/release.py``'s ``version_info``, without importing it; None if absent."""
    release = Path(path) / "odoo" / "release.py"
    if not release.is_file():
        return None
    for node in ast.parse(release.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "version_info"
                                                 for t in node.targets)
                and isinstance(node.value, ast.Tuple) and len(node.value.elts) >= 2):
            major, minor = node.value.elts[:2]
            if isinstance(major, ast.Constant) and isinstance(minor, ast.Constant):
                return int(major.value), int(minor.value)
    return None


def is_tree(path):
    return bool(path) and (Path(path) / "odoo-bin").is_file() and release_version(path) is not None


class OdooTree:
    """An Odoo source tree: where it is, its version, its addons directories."""

    def __init__(self, path):
        self.path = Path(path)
        self.version_info = release_version(self.path)
        self.version = self.version_info[0]

    def __repr__(self):
        return f"OdooTree({str(self.path)!r}, {self.label})"

    @property
    def label(self):
        return f"{self.version_info[0]}.{self.version_info[1]}"

    @property
    def odoo_bin(self):
        return self.path / "odoo-bin"

    @property
    def requirements(self):
        return self.path / "requirements.txt"

    @property
    def addons_dirs(self):
        """The tree's own addons directories, in Odoo's order: ``addons/`` (when the tree has one), ``odoo/addons``.

        An 18.0 checkout has both; the 19.0 Community tree used here ships every addon in ``odoo/addons``."""
        dirs = [self.path / "addons", self.path / "odoo" / "addons"]
        return [d for d in dirs if d.is_dir()]

    def addons_path(self, *extra):
        return ",".join(str(p) for p in [*self.addons_dirs, *extra])

    # command-line differences between the versions
    def no_demo_args(self):
        """Arguments for a new database without demo data (19.0 installs none unless ``--with-demo``)."""
        return ["--without-demo=all"] if self.version < 19 else []

    def demo_args(self):
        """Arguments for a new database with Odoo's demo data (18.0 loads it by default)."""
        return ["--with-demo"] if self.version >= 19 else []

    def cmd(self, py, pg, db, *extra, command=None, addons=()):
        """odoo-bin on the cluster ``pg`` and database ``db``, with ``addons`` after the tree's own addons directories;
        ``command`` (e.g. "shell") must come first."""
        return [py, self.odoo_bin, *([command] if command else []), "--addons-path", self.addons_path(*addons),
                "--db_host", pg.socket_dir, "--db_port", str(pg.port), "--db_user", PG_DB_USER, "-d", db,
                "--db-filter", f"^{db}$", *extra]

    def as_dict(self):
        return {"src": str(self.path), "version": self.version, "label": self.label,
                "addons_path": self.addons_path()}


def parse_versions(text, what):
    versions = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        major = part.split(".")[0]
        if not major.isdigit() or int(major) not in SUPPORTED:
            die(f"{what}: unsupported Odoo version {part!r} (supported: {', '.join(map(str, SUPPORTED))})")
        if int(major) not in versions:
            versions.append(int(major))
    if not versions:
        die(f"{what} is empty")
    return versions


def selected_version():
    """The version a single-version command (setup, demo, bench, pot, lint) works on."""
    src = os.environ.get("ODOO_SRC")
    env_version = os.environ.get("ODOO_VERSION")
    if src:
        if not is_tree(src):
            die(f"ODOO_SRC={src} is not an Odoo source tree (no odoo-bin + odoo/release.py with version_info)")
        version = release_version(src)[0]
        if env_version and parse_versions(env_version, "ODOO_VERSION") != [version]:
            die(f"ODOO_SRC={src} is Odoo {version}, but ODOO_VERSION={env_version}")
        if version not in SUPPORTED:
            die(f"ODOO_SRC={src} is Odoo {version}; supported: {', '.join(map(str, SUPPORTED))}")
        return version
    if env_version:
        return parse_versions(env_version, "ODOO_VERSION")[0]
    return DEFAULT_VERSION


def _check_version(path, version, origin):
    found = release_version(path)
    if found[0] != version:
        die(f"{origin} ({path}) is an Odoo {found[0]}.{found[1]} tree, not {version}.0")
    if found[1] != 0:
        say(f"warning: {path} is Odoo {found[0]}.{found[1]}, not {version}.0")
    return OdooTree(path)


def _importable_tree():
    """The source tree of an ``odoo`` package importable by this interpreter, if any."""
    probe = subprocess.run(
        [sys.executable, "-c", "import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))"],
        capture_output=True, text=True, check=False, cwd=tempfile.gettempdir())
    if probe.returncode == 0 and is_tree(probe.stdout.strip()):
        return Path(probe.stdout.strip())
    return None


def _download(url, target):
    """Fetch ``url`` into ``target``: 30 s per network read, ``IB_DOWNLOAD_TIMEOUT`` for everything."""
    deadline = time.monotonic() + DOWNLOAD_DEADLINE
    with urllib.request.urlopen(url, timeout=30) as resp, open(target, "wb") as fh:  # noqa: S310 - fixed https URL
        while chunk := resp.read(1 << 20):
            fh.write(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError(f"not complete after {DOWNLOAD_DEADLINE:.0f} s (IB_DOWNLOAD_TIMEOUT)")


def find_tree(version, download=True):
    """The Odoo source tree of ``version`` (18 or 19), following the documented order; dies when there is none."""
    src = os.environ.get("ODOO_SRC")
    if src:
        if not is_tree(src):
            die(f"ODOO_SRC={src} is not an Odoo source tree (no odoo-bin + odoo/release.py with version_info)")
        if release_version(src)[0] == version:
            return _check_version(src, version, "ODOO_SRC")
    var = f"ODOO{version}_SRC"
    if os.environ.get(var):
        if not is_tree(os.environ[var]):
            die(f"{var}={os.environ[var]} is not an Odoo source tree (no odoo-bin + odoo/release.py)")
        return _check_version(os.environ[var], version, var)
    default = DEFAULT_TREES[version]
    if is_tree(default):
        return _check_version(default, version, "the default tree")
    importable = _importable_tree()
    if importable and release_version(importable)[0] == version:
        return OdooTree(importable)
    cached = CACHE / f"odoo-nightly-{version}"
    if is_tree(cached):
        return _check_version(cached, version, "the cached nightly tree")
    url = NIGHTLY_URL.format(v=version)
    how = (f"  Install it one of these ways, then run the command again:\n"
           f"   - put an Odoo {version}.0 source tree at {default} (e.g. `git clone -b {version}.0 --depth 1 "
           f"https://github.com/odoo/odoo {default}`), or\n"
           f"   - point {var} (or ODOO_SRC) at an Odoo {version}.0 source tree, or\n"
           f"   - unpack {url} to {cached}.")
    if not download:
        die(f"Odoo {version}.0 not found.\n{how}")
    say(f"no Odoo {version}.0 tree found; trying the official nightly archive {url}")
    tmp = Path(tempfile.mkdtemp(prefix=f"odoo-nightly-{version}-"))
    try:
        archive = tmp / "odoo.tar.gz"
        _download(url, archive)
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        top = next(p for p in tmp.iterdir() if p.is_dir())
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(top), cached)
        return _check_version(cached, version, "the nightly archive")
    except Exception as exc:  # noqa: BLE001 - any failure means "offline": say what to do
        die(f"Odoo {version}.0 was not found and could not be downloaded ({exc.__class__.__name__}: {exc}).\n{how}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
