"""What every part of ibctl shares: the repository's places, messages, running commands."""
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
RUN_DIR = Path(os.environ.get("IB_RUN_DIR", REPO / ".run"))
CACHE = Path(os.environ.get("IB_CACHE", Path.home() / ".cache" / "invoice_bridge"))
ADDON = "invoice_bridge"
PG_DB_USER = "odoo"  # Odoo refuses to run as the 'postgres' database user


def say(msg):
    print(f"[ibctl] {msg}", flush=True)


def die(msg, code=2):
    print(f"[ibctl] ERROR: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


def run(cmd, **kw):
    say("$ " + " ".join(str(c) for c in cmd))
    return subprocess.run([str(c) for c in cmd], check=kw.pop("check", True), **kw)


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tee(cmd, env, logfile, cwd=None):
    """Run ``cmd``, streaming its output to the terminal and to ``logfile``; return (rc, text)."""
    say("$ " + " ".join(str(c) for c in cmd) + (f"   (in {cwd})" if cwd else ""))
    out = []
    with open(logfile, "w") as log:
        proc = subprocess.Popen([str(c) for c in cmd], env=env, cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        for line in proc.stdout:
            sys.stdout.write(line)
            log.write(line)
            out.append(line)
        proc.wait()
    return proc.returncode, "".join(out)


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds``."""

    def __enter__(self):
        self.start = time.monotonic()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        self.seconds = time.monotonic() - self.start
        return False


def fmt_seconds(seconds):
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"
