"""A throwaway PostgreSQL cluster under ``.run/``: unix socket only, fsync off, owned by a non-root user
(PostgreSQL refuses to run as root)."""
import os
import shutil
import subprocess
from pathlib import Path

from .common import PG_DB_USER, RUN_DIR, die, run


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

    def db_exists(self, db):
        return self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'").strip() == "1"

    def module_state(self, db, module):
        """The module's state in ``db`` ("installed", ...), or None (no such database, no such module)."""
        if not self.db_exists(db):
            return None
        try:
            return self.psql(f"SELECT state FROM ir_module_module WHERE name = '{module}'", db=db).strip() or None
        except subprocess.CalledProcessError:
            return None
