"""The commands behind ``make setup``, ``make test``, ``make demo``, ``make bench``, ``make pot``; and ``pg``."""
import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time

from . import results, standalone
from .common import ADDON, REPO, RUN_DIR, Timer, die, fmt_seconds, free_port, run, say, tee
from .odoo_tree import find_tree, parse_versions, selected_version
from .postgres import Postgres
from .pot import POT, export_pot
from .setup_env import check_single_venv_override, ensure_debian_packages, ensure_venv

# The Odoo versions `make test` runs Odoo's test runner (tests and tours) on when IB_TEST_VERSIONS is not set.
DEFAULT_TEST_VERSIONS = "18,19"
# The versions the pytest tier (tests/) runs on when IB_PYTEST_VERSIONS is not set (those of them `make test` runs).
DEFAULT_PYTEST_VERSIONS = "18"
ODOO_TESTS_FROM = ("copy", "repo")


# ------------------------------------------------------------------------------------------- versions
def test_versions():
    """IB_TEST_VERSIONS, else the version ODOO_SRC / ODOO_VERSION select, else DEFAULT_TEST_VERSIONS."""
    if os.environ.get("IB_TEST_VERSIONS"):
        return parse_versions(os.environ["IB_TEST_VERSIONS"], "IB_TEST_VERSIONS")
    if os.environ.get("ODOO_SRC") or os.environ.get("ODOO_VERSION"):
        return [selected_version()]
    return parse_versions(DEFAULT_TEST_VERSIONS, "DEFAULT_TEST_VERSIONS")


def pytest_versions(odoo_versions):
    """IB_PYTEST_VERSIONS, else those of DEFAULT_PYTEST_VERSIONS among ``odoo_versions`` (else the first of them)."""
    if os.environ.get("IB_PYTEST_VERSIONS"):
        return parse_versions(os.environ["IB_PYTEST_VERSIONS"], "IB_PYTEST_VERSIONS")
    chosen = [v for v in parse_versions(DEFAULT_PYTEST_VERSIONS, "DEFAULT_PYTEST_VERSIONS") if v in odoo_versions]
    return chosen or odoo_versions[:1]


def prepare(versions):
    """The tree and the virtualenv of each version: every tree is found first, so a missing one fails at once."""
    versions = sorted(set(versions))
    check_single_venv_override(versions)
    trees = {v: find_tree(v) for v in versions}
    ensure_debian_packages(versions)
    pys = {v: ensure_venv(trees[v]) for v in versions}
    for v in versions:
        say(f"Odoo {trees[v].label}: {trees[v].path}  (addons path {trees[v].addons_path()})  Python: {pys[v]}")
    return trees, pys


def child_env(pg, tree, py, trees=None, pys=None):
    """The environment of every process we start: the cluster, Odoo, and the repository root on sys.path
    (the pytest tier, the benchmarks and the demo load the addon's loopback fakes, invoice_bridge/tests/fakes/)."""
    env = dict(os.environ, **pg.env(), IB_ODOO_SRC=str(tree.path), IB_ODOO_VERSION=str(tree.version),
               IB_ODOO_ADDONS_PATH=tree.addons_path(), IB_PYTHON=str(py), IB_REPO=str(REPO),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    trees, pys = trees or {tree.version: tree}, pys or {tree.version: py}
    env["IB_ODOO_TREES"] = json.dumps({str(v): dict(t.as_dict(), python=str(pys[v])) for v, t in trees.items()})
    return env


def own_data_dir(pg):
    """``pg``, with Odoo's data directory (filestore, sessions) of every process started from now on next to the
    cluster: two runs on two clusters use the same database names, and one's filestore garbage collection removed
    the other's attachment files."""
    os.environ["XDG_DATA_HOME"] = str(pg.dir / "odoo-data")
    return pg


def not_installed(tree, pg, db):
    """Why ``db`` has no installed addon, or None. Odoo exits 0 when it ignores a module it cannot install."""
    state = pg.module_state(db, ADDON)
    if state == "installed":
        return None
    return (f"{ADDON} is not installed in {db} on Odoo {tree.label} (state: {state or 'none'}); Odoo's log above says "
            f"why, e.g. 'incompatible version': the manifest's version is not a {tree.label} one")


def install_fresh(tree, py, pg, db, env, addons=(REPO,)):
    """A new database ``db`` with the addon installed (no demo data, no tests); None, or what went wrong."""
    pg.drop_db(db)
    rc = run(tree.cmd(py, pg, db, "-i", ADDON, "--stop-after-init", *tree.no_demo_args(), "--max-cron-threads=0",
                      "--http-port", str(free_port()), "--log-level=warn", addons=addons),
             env=env, check=False).returncode
    return f"installing {ADDON} exited with {rc}" if rc else not_installed(tree, pg, db)


# ----------------------------------------------------------------------------------------------- setup
def setup_one(version):
    trees, pys = prepare([version])
    return trees[version], pys[version]


def cmd_setup(args):
    versions = test_versions()
    prepare([*versions, *pytest_versions(versions)])
    return 0


# ------------------------------------------------------------------------------------------------ test
def test_db(version):
    return f"ib_test_{version}"


def odoo_tier(args, version, trees, pys, pg, logs, source):
    """Odoo's test runner on a fresh database: from a standalone copy of the addon, or from the repository."""
    tree, py = trees[version], pys[version]
    tier = results.Tier(f"odoo {version} ({'standalone copy' if source == 'copy' else 'repository'})")
    env = child_env(pg, tree, py, trees, pys)
    db = test_db(version)
    run_dir = None
    with Timer() as timer:
        pg.drop_db(db)
        if source == "copy":
            run_dir = standalone.make_run_dir(version)
            addons, cwd, env = [standalone.copy_addon(run_dir)], run_dir, standalone.strip_repo(env)
        else:
            addons, cwd = [REPO], REPO
        cmd = tree.cmd(py, pg, db, "-i", ADDON, "--test-enable", "--test-tags", args.tags or f"/{ADDON}",
                       "--stop-after-init", *tree.no_demo_args(), "--log-level=test", "--http-port",
                       str(free_port()), "--max-cron-threads=0", addons=addons)
        rc, text = tee(cmd, env, logs / f"odoo{version}-tests.log", cwd=cwd)
        results.parse_odoo(text, rc, tier, ADDON)
        missing = not_installed(tree, pg, db)
        if missing and results.symptoms_only(tier):  # else a crash or failures above say why
            tier.problems = [missing]
    tier.seconds = timer.seconds
    if source == "copy" and "No module named 'tests'" in text:
        tier.notes.append(
            "the addon's tests import the repository's top-level `tests` package, which a standalone addon does not "
            f"have: what they import must live in {ADDON}/ (e.g. {ADDON}/tests/fakes/)")
    if run_dir and not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return tier


def pytest_tier(args, version, trees, pys, pg, logs, odoo_ran):
    """pytest tests/ with this version's Odoo, on copies of the database this run's Odoo test run installed (else of
    a fresh install)."""
    tree, py = trees[version], pys[version]
    tier = results.Tier(f"pytest {version}")
    env = child_env(pg, tree, py, trees, pys)
    with Timer() as timer:
        db = test_db(version)
        if not odoo_ran or pg.module_state(db, ADDON) != "installed":
            db = f"ib_pytest_template_{version}"
            say(f"no database with {ADDON} installed by an Odoo {version} test run of this run: installing it on {db}")
            failure = install_fresh(tree, py, pg, db, env)
            if failure:
                tier.problems.append(f"{failure}: pytest not run")
                db = None
        if db:
            env["IB_TEST_DB_TEMPLATE"] = db  # reused as a template by the tests' fixtures
            # extra arguments naming test files replace the default tests/ directory
            targets = [] if any(a.endswith(".py") or "::" in a for a in args.pytest_args) else [REPO / "tests"]
            rc, text = tee([py, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfEs", *targets,
                            *args.pytest_args], env, logs / f"pytest{version}.log", cwd=REPO)
            results.parse_pytest(text, rc, tier)
    tier.seconds = timer.seconds
    return tier


def report(tiers, timings):
    """Every skip and problem, one line per tier, the timings; last line ``N passed, N failed`` for all tiers."""
    for tier in tiers:
        for test, reason in tier.skipped:
            say(f"SKIPPED ({tier.name}, counted as failed): {test} — {reason}")
        for problem in tier.problems:
            say(f"FAILED ({tier.name}): {problem}")
        for note in tier.notes:
            say(f"NOTE ({tier.name}): {note}")
    for name, seconds in timings:
        say(f"time: {name}: {fmt_seconds(seconds)}")
    for tier in tiers:
        say(f"{tier.name}: {tier.summary()} in {fmt_seconds(tier.seconds)}")
    passed = sum(t.passed for t in tiers)
    failed = sum(t.failures for t in tiers)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed or not tiers else 0


def cmd_test(args):
    started = time.monotonic()
    source = os.environ.get("IB_ODOO_TESTS_FROM", "copy")
    if source not in ODOO_TESTS_FROM:
        die(f"IB_ODOO_TESTS_FROM={source}: use one of {', '.join(ODOO_TESTS_FROM)}")
    versions = test_versions()
    py_versions = [] if args.odoo_only else pytest_versions(versions)
    packaging = os.environ.get("IB_PACKAGING_VERSIONS")  # tests/test_core_packaging.py's versions, when not the tier's
    extra = parse_versions(packaging, "IB_PACKAGING_VERSIONS") if packaging and py_versions else []
    with Timer() as setup_timer:
        trees, pys = prepare([*versions, *py_versions, *extra])
    timings = [("setup (trees, Debian packages, virtualenvs)", setup_timer.seconds)]
    pg = own_data_dir(Postgres(os.environ.get("IB_PG_NAME", "test")).start())
    logs = RUN_DIR / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    tiers = []
    try:
        for version in versions:
            tiers.append(odoo_tier(args, version, trees, pys, pg, logs, source))
        for version in py_versions:
            tiers.append(pytest_tier(args, version, trees, pys, pg, logs, version in versions))
    finally:
        if not args.keep:
            pg.stop(quiet=True)
    timings.append(("all of `ibctl test`", time.monotonic() - started))
    return report(tiers, timings)


# ------------------------------------------------------------------------------------------------ demo
def cmd_demo(args):
    version = selected_version()
    tree, py = setup_one(version)
    pg = Postgres("demo").start()
    env = child_env(pg, tree, py)
    db = args.db or ("invoice_bridge_demo" if version == 18 else f"invoice_bridge_demo_{version}")
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
        # a database where an earlier attempt did not install the addon starts afresh, like --reset
        exists = pg.db_exists(db) and pg.module_state(db, ADDON) == "installed"
        if not exists or args.reset:
            pg.drop_db(db)
        # install on a new database (with Odoo's demo data), upgrade an existing one (the code may have changed)
        upgrade = exists and not args.reset
        rc = run(tree.cmd(py, pg, db, "-u" if upgrade else "-i", ADDON, *([] if upgrade else tree.demo_args()),
                          "--stop-after-init", "--max-cron-threads=0", "--http-port", str(free_port()),
                          addons=[REPO]), env=env, check=False).returncode
        failure = (f"{'upgrading' if upgrade else 'installing'} {ADDON} exited with {rc}" if rc
                   else not_installed(tree, pg, db))
        if failure:
            die(f"demo on Odoo {tree.label}: {failure}")
        setup = subprocess.run(tree.cmd(py, pg, db, "--no-http", "--log-level=warn", command="shell", addons=[REPO]),
                               input=(REPO / "tools" / "demo_setup.py").read_text(), text=True, env=dict(
                                   env, IB_FAKES=json.dumps(fake_info),
                                   IB_DEMO_URL=f"http://127.0.0.1:{args.port}"), check=False)
        if setup.returncode:
            die("demo setup script failed")
        server = subprocess.Popen(tree.cmd(py, pg, db, "--http-interface", "127.0.0.1", "--http-port",
                                           str(args.port), "--max-cron-threads=2", addons=[REPO]), env=env)
        children.append(server)
        print(f"""
==============================================================================
 invoice_bridge demo (Odoo {tree.label}, database {db})
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


# ------------------------------------------------------------------------------------------- bench, pot
@contextlib.contextmanager
def fresh_cluster_db(cluster, db):
    """A throwaway cluster with a new database ``db`` where the addon is installed; stopped afterwards."""
    tree, py = setup_one(selected_version())
    pg = own_data_dir(Postgres(cluster).start())
    env = child_env(pg, tree, py)
    try:
        failure = install_fresh(tree, py, pg, db, env)
        if failure:
            die(failure)
        yield tree, py, pg, env
    finally:
        pg.stop(quiet=True)


def cmd_bench(args):
    db = "ib_bench"
    with fresh_cluster_db("bench", db) as (_tree, py, _pg, env):
        names = args.names or sorted(p.stem for p in (REPO / "bench").glob("*.py") if not p.stem.startswith("_"))
        rc = 0
        for name in names:
            rc |= run([py, REPO / "bench" / f"{name}.py", "--db", db], env=env, check=False).returncode
        return rc


def cmd_pot(args):
    db = "ib_i18n"
    with fresh_cluster_db("i18n", db) as (tree, py, pg, env):
        POT.parent.mkdir(exist_ok=True)
        export_pot(tree, py, pg, db, env, POT)
        say(f"wrote {POT.relative_to(REPO)} (Odoo {tree.label})")
        return 0


def cmd_pg(args):
    pg = Postgres(args.name)
    if args.action == "start":
        pg.start()
        print(json.dumps(pg.env()))
    else:
        pg.stop(quiet=True)
    return 0


# ------------------------------------------------------------------------------------------------ main
def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="ibctl", description="invoice_bridge developer commands. Odoo version: ODOO_SRC (a tree) or "
        "ODOO_VERSION=18|19 (default 18); `test` runs IB_TEST_VERSIONS (default "
        f"{DEFAULT_TEST_VERSIONS}) and the pytest tier on IB_PYTEST_VERSIONS (default {DEFAULT_PYTEST_VERSIONS}).")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("setup", help="Debian packages; the virtualenv of each Odoo version `test` uses")
    t = sub.add_parser("test", help="Odoo's test runner per version (standalone copy of the addon unless "
                       "IB_ODOO_TESTS_FROM=repo), then pytest tests/; skipped tests fail")
    t.add_argument("--tags", help="override --test-tags (default /invoice_bridge)")
    t.add_argument("--odoo-only", action="store_true", help="skip the pytest suite")
    t.add_argument("--keep", action="store_true", help="leave PostgreSQL running and the run directories in place")
    t.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")
    d = sub.add_parser("demo", help="PostgreSQL + Odoo with demo data + offline fakes")
    d.add_argument("--port", type=int, default=8069)
    d.add_argument("--db", help="database (default invoice_bridge_demo; invoice_bridge_demo_19 on Odoo 19)")
    d.add_argument("--reset", action="store_true", help="recreate the demo database")
    b = sub.add_parser("bench", help="run bench/*.py against a fresh database")
    b.add_argument("names", nargs="*")
    sub.add_parser("pot", help=f"regenerate {ADDON}/i18n/{ADDON}.pot from a fresh database")
    p = sub.add_parser("pg", help="start/stop a throwaway cluster")
    p.add_argument("action", choices=["start", "stop"])
    p.add_argument("--name", default="dev")
    args = parser.parse_args(argv)
    handler = {"setup": cmd_setup, "test": cmd_test, "demo": cmd_demo, "bench": cmd_bench, "pot": cmd_pot,
               "pg": cmd_pg}
    rc = handler[args.cmd](args)
    return rc if isinstance(rc, int) else 0
