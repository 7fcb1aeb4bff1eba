#!/usr/bin/env python3
"""Developer entry point behind ``make setup``, ``make test``, ``make demo`` and ``make bench``.

Standard library only: it runs before the virtualenv exists and builds it.

* Odoo is looked up in this order: ``$ODOO_SRC`` (a source tree), ``/opt/odoo`` (a source tree), an
  ``odoo`` package importable by the interpreter running this script; otherwise the official nightly
  18.0 source archive is downloaded into the cache, and when that fails (offline) we stop with a message
  saying what to install.
* PostgreSQL is a throwaway cluster under ``.run/`` in the repository, listening on a unix socket only,
  with fsync off, owned by a non-root user (PostgreSQL refuses to run as root).
"""
import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("IB_RUN_DIR", REPO / ".run"))
CACHE = Path(os.environ.get("IB_CACHE", Path.home() / ".cache" / "invoice_bridge"))
VENV = Path(os.environ.get("IB_VENV", CACHE / "venv"))
NIGHTLY_URL = "https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz"
DEBIAN_PACKAGES = ["libpq-dev", "wkhtmltopdf", "postgresql"]
PG_DB_USER = "odoo"  # Odoo refuses to run as the 'postgres' database user
ADDON = "invoice_bridge"


def say(msg):
    print(f"[ibctl] {msg}", flush=True)


def die(msg, code=2):
    print(f"[ibctl] ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def run(cmd, **kw):
    say("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=kw.pop("check", True), **kw)


# --------------------------------------------------------------------------------------------- Odoo
def _is_odoo_tree(path):
    return path and (Path(path) / "odoo" / "release.py").is_file() and (Path(path) / "odoo-bin").is_file()


def find_odoo(download=True):
    """Return the Odoo source tree (a directory with odoo-bin), following the documented order."""
    env_src = os.environ.get("ODOO_SRC")
    if env_src:
        if not _is_odoo_tree(env_src):
            die(f"ODOO_SRC={env_src} is not an Odoo source tree (no odoo/release.py + odoo-bin)")
        return Path(env_src)
    if _is_odoo_tree("/opt/odoo"):
        return Path("/opt/odoo")
    probe = subprocess.run(
        [sys.executable, "-c", "import odoo, os; print(os.path.dirname(os.path.dirname(odoo.__file__)))"],
        capture_output=True, text=True, check=False)
    if probe.returncode == 0:
        root = Path(probe.stdout.strip())
        if _is_odoo_tree(root):
            return root
    cached = CACHE / "odoo-nightly"
    if _is_odoo_tree(cached):
        return cached
    if download:
        say(f"no Odoo 18 found; trying the official nightly archive {NIGHTLY_URL}")
        try:
            tmp = Path(tempfile.mkdtemp(prefix="odoo-nightly-"))
            archive = tmp / "odoo.tar.gz"
            with urllib.request.urlopen(NIGHTLY_URL, timeout=60) as resp, open(archive, "wb") as fh:
                shutil.copyfileobj(resp, fh)
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            top = next(p for p in tmp.iterdir() if p.is_dir())
            shutil.move(str(top), cached)
            return cached
        except Exception as exc:  # noqa: BLE001 - any failure means "offline": say what to do
            die(
                "Odoo 18.0 was not found and could not be downloaded "
                f"({exc.__class__.__name__}: {exc}).\n"
                "  Install it one of these ways, then run the command again:\n"
                "   - put an Odoo 18.0 source tree at /opt/odoo (e.g. `git clone -b 18.0 --depth 1 "
                "https://github.com/odoo/odoo /opt/odoo`), or\n"
                "   - point ODOO_SRC at an Odoo 18.0 source tree, or\n"
                f"   - unpack {NIGHTLY_URL} to {cached}.")
    die("Odoo 18.0 not found (set ODOO_SRC or install it at /opt/odoo)")


# --------------------------------------------------------------------------------------------- venv
def venv_python():
    return VENV / "bin" / "python"


def _requirements_stamp(odoo_src):
    h = hashlib.sha256()
    for f in (odoo_src / "requirements.txt", REPO / "requirements.txt", REPO / "requirements-test.txt"):
        h.update(f.read_bytes() if f.exists() else b"")
    h.update(str(odoo_src).encode())
    return h.hexdigest()


def ensure_debian_packages():
    missing = [p for p in DEBIAN_PACKAGES if subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True, check=False
    ).stdout.strip() != "install ok installed"]
    if not missing:
        return
    if os.geteuid() != 0:
        die(f"missing Debian packages {missing}: run `sudo apt-get install -y {' '.join(missing)}`")
    say(f"installing Debian packages {missing}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "update", "-qq"], env=env, check=False)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)


def ensure_venv(odoo_src):
    ensure_debian_packages()
    stamp_file = VENV / ".ib-stamp"
    stamp = _requirements_stamp(odoo_src)
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return venv_python()
    if not venv_python().exists():
        VENV.parent.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "venv", VENV])
    py = venv_python()
    # Odoo 18 pins (cbor2 5.4.2) build from sdist with a setuptools that must be < 70; python-ldap
    # needs system headers and is unused here.
    constraints = CACHE / "pip-constraints.txt"
    constraints.write_text("setuptools<70\n")
    odoo_reqs = CACHE / "odoo-requirements.txt"
    odoo_reqs.write_text("".join(
        line for line in (odoo_src / "requirements.txt").read_text().splitlines(keepends=True)
        if not line.lower().startswith("python-ldap")))
    env = dict(os.environ, PIP_CONSTRAINT=str(constraints))
    run([py, "-m", "pip", "install", "-q", "setuptools<70", "wheel"], env=env)
    run([py, "-m", "pip", "install", "-q", "-r", odoo_reqs], env=env)
    run([py, "-m", "pip", "install", "-q", "-r", REPO / "requirements.txt",
         "-r", REPO / "requirements-test.txt"], env=env)
    stamp_file.write_text(stamp)
    return py


# ----------------------------------------------------------------------------------------- postgres
def _pg_bin():
    override = os.environ.get("PG_BIN")
    candidates = [Path(override)] if override else sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for c in candidates:
        if (c / "pg_ctl").exists():
            return c
    die("PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and $PG_BIN): "
        "install the Debian package `postgresql` (apt-get install postgresql)")


class Postgres:
    """A throwaway cluster in ``RUN_DIR/pg-<name>``, reachable on a unix socket in the same directory."""

    def __init__(self, name="test"):
        self.dir = RUN_DIR / f"pg-{name}"
        self.data = self.dir / "data"
        self.socket_dir = self.dir
        self.port = 5432
        self.bin = _pg_bin()
        self.as_user = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]

    def _run(self, args, **kw):
        return run([*self.as_user, *args], **kw)

    def start(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
            # the cluster user must be able to reach its directory
            for parent in self.dir.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    die(f"{parent} is not traversable by the 'postgres' user (chmod o+x it or set IB_RUN_DIR)")
        if not (self.data / "PG_VERSION").exists():
            self._run([self.bin / "initdb", "-D", self.data, "-U", PG_DB_USER, "--auth=trust",
                       "-E", "UTF8", "--locale=C.UTF-8"], stdout=subprocess.DEVNULL)
        if self.running():
            return self
        opts = (f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' -p {self.port} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                "-c shared_buffers=256MB")
        self._run([self.bin / "pg_ctl", "-D", self.data, "-o", opts, "-l", self.dir / "server.log",
                   "-w", "-t", "60", "start"], stdout=subprocess.DEVNULL)
        return self

    def running(self):
        return subprocess.run([*self.as_user, self.bin / "pg_ctl", "-D", self.data, "status"],
                              capture_output=True, check=False).returncode == 0

    def stop(self, quiet=False):
        if (self.data / "postmaster.pid").exists():
            self._run([self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"],
                      check=not quiet, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL if quiet else None)

    def env(self):
        return {"PGHOST": str(self.socket_dir), "PGPORT": str(self.port), "PGUSER": PG_DB_USER}

    def psql(self, sql, db="postgres"):
        return subprocess.run([self.bin / "psql", "-h", self.socket_dir, "-p", str(self.port), "-U",
                               PG_DB_USER, "-d", db, "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                              capture_output=True, text=True, check=True).stdout

    def drop_db(self, db):
        self.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


# --------------------------------------------------------------------------------------------- odoo
def odoo_cmd(py, odoo_src, pg, db, *extra, command=None):
    """odoo-bin with this repository on the addons path; ``command`` (e.g. "shell") must come first."""
    addons = ",".join([str(odoo_src / "addons"), str(odoo_src / "odoo" / "addons"), str(REPO)])
    return [py, odoo_src / "odoo-bin", *([command] if command else []), "--addons-path", addons,
            "--db_host", pg.socket_dir, "--db_port", str(pg.port), "--db_user", PG_DB_USER, "-d", db,
            "--db-filter", f"^{db}$", *extra]


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TEST_RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
PYTEST_RE = re.compile(r"^=*\s*(\d+ (?:passed|failed|errors?|skipped|deselected|xfailed|xpassed|warnings?)\b.*?)"
                       r" in [\d.]+s\b")


def _tee(cmd, env, logfile):
    """Run ``cmd``, streaming its output to the terminal and to ``logfile``; return (rc, text)."""
    say("$ " + " ".join(str(c) for c in cmd))
    out = []
    with open(logfile, "w") as log:
        proc = subprocess.Popen([str(c) for c in cmd], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
            out.append(line)
        proc.wait()
    return proc.returncode, "".join(out)


def _parse_pytest(text):
    passed = failed = 0
    for line in text.splitlines():
        m = PYTEST_RE.match(line.strip())
        if m:
            for part in m.group(1).split(","):
                part = part.strip()
                num, _, word = part.partition(" ")
                if num.isdigit():
                    if word.startswith("passed"):
                        passed += int(num)
                    elif word.startswith(("failed", "error")):
                        failed += int(num)
    return passed, failed


def child_env(pg, odoo_src, py):
    """The environment of every process we start: the cluster, Odoo, and the repository root on sys.path
    (the test suites, the benchmarks and the demo import the loopback fakes from tests/fakes/)."""
    return dict(os.environ, **pg.env(), IB_ODOO_SRC=str(odoo_src), IB_PYTHON=str(py), IB_REPO=str(REPO),
                PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))


def cmd_setup(args):
    odoo_src = find_odoo()
    py = ensure_venv(odoo_src)
    say(f"Odoo: {odoo_src}  Python: {py}")
    return odoo_src, py


def cmd_test(args):
    odoo_src, py = cmd_setup(args)
    pg = Postgres(os.environ.get("IB_PG_NAME", "test")).start()
    env = child_env(pg, odoo_src, py)
    logs = RUN_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    db = "ib_test"
    passed = failed = 0
    problems = []
    try:
        pg.drop_db(db)
        tags = args.tags or f"/{ADDON}"
        rc, text = _tee(odoo_cmd(py, odoo_src, pg, db, "-i", ADDON, "--test-enable", "--test-tags", tags,
                                 "--stop-after-init", "--without-demo=all", "--log-level=test",
                                 "--http-port", str(free_port()), "--max-cron-threads=0"),
                        env, logs / "odoo-tests.log")
        results = TEST_RESULT_RE.findall(text)
        if not results:
            problems.append("Odoo's test runner printed no result line (did the module install?)")
            failed += 1
        else:
            f, e, total = (int(x) for x in results[-1])
            failed += f + e
            passed += total - f - e
            if total == 0:
                problems.append("Odoo's test runner ran 0 tests")
                failed += 1
        if rc != 0:
            problems.append(f"Odoo exited with {rc}")
            if not failed:
                failed += 1
        if not args.odoo_only:
            env["IB_TEST_DB_TEMPLATE"] = db  # the installed database, reused as a template by pytest
            # extra arguments naming test files replace the default tests/ directory
            targets = [] if any(a.endswith(".py") or "::" in a for a in args.pytest_args) else [REPO / "tests"]
            rc2, text2 = _tee([py, "-m", "pytest", "-p", "no:cacheprovider", "-q", *targets,
                               *args.pytest_args], env, logs / "pytest.log")
            p, f = _parse_pytest(text2)
            passed += p
            failed += f
            if rc2 not in (0,):
                problems.append(f"pytest exited with {rc2}")
                if not f:
                    failed += 1
    finally:
        if not args.keep:
            pg.stop(quiet=True)
    for p in problems:
        say(f"FAILED: {p}")
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if (failed or problems) else 0


def cmd_demo(args):
    odoo_src, py = cmd_setup(args)
    pg = Postgres("demo").start()
    env = child_env(pg, odoo_src, py)
    db = args.db
    children = []
    try:
        fakes = subprocess.Popen([py, REPO / "tools" / "fakes.py", "core_demo", "--state", RUN_DIR / "fakes.json"],
                                 cwd=REPO, env=env)
        children.append(fakes)
        for _ in range(100):
            if (RUN_DIR / "fakes.json").exists():
                break
            time.sleep(0.1)
        fake_info = json.loads((RUN_DIR / "fakes.json").read_text())
        exists = pg.psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'").strip() == "1"
        if not exists or args.reset:
            pg.drop_db(db)
        # install on a new database, upgrade an existing one (the code may have changed since)
        run(odoo_cmd(py, odoo_src, pg, db, "-u" if exists and not args.reset else "-i", ADDON,
                     "--stop-after-init", "--max-cron-threads=0", "--http-port", str(free_port())), env=env)
        setup = subprocess.run(odoo_cmd(py, odoo_src, pg, db, "--no-http", "--log-level=warn", command="shell"),
                               input=(REPO / "tools" / "demo_setup.py").read_text(), text=True, env=dict(
                                   env, IB_FAKES=json.dumps(fake_info),
                                   IB_DEMO_URL=f"http://127.0.0.1:{args.port}"), check=False)
        if setup.returncode:
            die("demo setup script failed")
        server = subprocess.Popen(odoo_cmd(py, odoo_src, pg, db, "--http-interface", "127.0.0.1",
                                           "--http-port", str(args.port), "--max-cron-threads=2"), env=env)
        children.append(server)
        print(f"""
==============================================================================
 invoice_bridge demo
   Odoo:     http://127.0.0.1:{args.port}/odoo   (login admin / password admin)
   Sync log: Accounting > Invoice Bridge > Sync Log
   Fakes:    {', '.join(f'{k}: {v}' for k, v in fake_info.items())}
 Ctrl-C stops Odoo, the fakes and PostgreSQL.
==============================================================================
""", flush=True)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        pg.stop(quiet=True)
        say("stopped")
    return 0


def install_fresh(py, odoo_src, pg, db, env):
    """A new database ``db`` with the addon installed (no demo data, no tests)."""
    pg.drop_db(db)
    run(odoo_cmd(py, odoo_src, pg, db, "-i", ADDON, "--stop-after-init", "--without-demo=all",
                 "--max-cron-threads=0", "--http-port", str(free_port()), "--log-level=warn"), env=env)


@contextlib.contextmanager
def fresh_cluster_db(args, cluster, db):
    """A throwaway cluster with a new database ``db`` where the addon is installed; stopped afterwards."""
    odoo_src, py = cmd_setup(args)
    pg = Postgres(cluster).start()
    env = child_env(pg, odoo_src, py)
    try:
        install_fresh(py, odoo_src, pg, db, env)
        yield odoo_src, py, pg, env
    finally:
        pg.stop(quiet=True)


def cmd_bench(args):
    db = "ib_bench"
    with fresh_cluster_db(args, "bench", db) as (_odoo_src, py, _pg, env):
        names = args.names or sorted(p.stem for p in (REPO / "bench").glob("*.py") if not p.stem.startswith("_"))
        rc = 0
        for name in names:
            rc |= run([py, REPO / "bench" / f"{name}.py", "--db", db], env=env, check=False).returncode
        return rc


POT = REPO / ADDON / "i18n" / f"{ADDON}.pot"


def normalize_pot(text):
    """Drop the export's timestamps, so the template only changes when a translatable string does."""
    return re.sub(r'^"(POT-Creation-Date|PO-Revision-Date): [^"]*\\n"$', r'"\1: \\n"', text, flags=re.M)


def export_pot(py, odoo_src, pg, db, env, target):
    """Odoo's own export of the addon's translatable strings (code, views, data) into ``target``."""
    run(odoo_cmd(py, odoo_src, pg, db, "--i18n-export", str(target), "--modules", ADDON, "--stop-after-init",
                 "--log-level=warn"), env=env)
    target.write_text(normalize_pot(target.read_text(encoding="utf-8")), encoding="utf-8")


def cmd_pot(args):
    db = "ib_i18n"
    with fresh_cluster_db(args, "i18n", db) as (odoo_src, py, pg, env):
        POT.parent.mkdir(exist_ok=True)
        export_pot(py, odoo_src, pg, db, env, POT)
        print(f"[ibctl] wrote {POT.relative_to(REPO)}")
        return 0


def cmd_pg(args):
    pg = Postgres(args.name)
    if args.action == "start":
        pg.start()
        print(json.dumps(pg.env()))
    else:
        pg.stop(quiet=True)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ibctl")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("setup", help="virtualenv + Python and Debian dependencies")
    t = sub.add_parser("test", help="Odoo's test runner, then pytest tests/")
    t.add_argument("--tags", help="override --test-tags (default /invoice_bridge)")
    t.add_argument("--odoo-only", action="store_true", help="skip the pytest suite")
    t.add_argument("--keep", action="store_true", help="leave PostgreSQL running afterwards")
    t.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")
    d = sub.add_parser("demo", help="PostgreSQL + Odoo with demo data + offline fakes")
    d.add_argument("--port", type=int, default=8069)
    d.add_argument("--db", default="invoice_bridge_demo")
    d.add_argument("--reset", action="store_true", help="recreate the demo database")
    b = sub.add_parser("bench", help="run bench/*.py against a fresh database")
    b.add_argument("names", nargs="*")
    sub.add_parser("pot", help=f"regenerate {ADDON}/i18n/{ADDON}.pot from a fresh database")
    p = sub.add_parser("pg", help="start/stop a throwaway cluster")
    p.add_argument("action", choices=["start", "stop"])
    p.add_argument("--name", default="dev")
    args = parser.parse_args(argv)
    handler = {"setup": cmd_setup, "test": cmd_test, "demo": cmd_demo, "bench": cmd_bench, "pot": cmd_pot, "pg": cmd_pg}
    rc = handler[args.cmd](args)
    return rc if isinstance(rc, int) else 0


if __name__ == "__main__":
    sys.exit(main())
