"""The standalone Odoo run, the way OCA's CI and Odoo's runbot test an addon: from a copy of the addon alone.

The git-tracked files of ``invoice_bridge/`` (the files whool packages; outside git: the directory minus
``__pycache__``) are copied into ``<run dir>/standalone/invoice_bridge``, a new directory outside the repository.
That directory, not the repository, is on the addons path; the run's working directory is the run directory; the
repository is stripped from ``PYTHONPATH``. Whatever the addon's tests import must therefore ship in the addon.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .common import ADDON, REPO, say


def _git(*args):
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False)


def tracked_files():
    """The addon's files git tracks (relative to the repository), or None outside a git checkout."""
    if shutil.which("git") is None or _git("rev-parse", "--is-inside-work-tree").stdout.strip() != "true":
        return None
    listed = _git("ls-files", "-z", "--", ADDON)
    if listed.returncode:
        return None
    return [Path(p) for p in listed.stdout.split("\0") if p]


def untracked_files():
    listed = _git("ls-files", "-z", "--others", "--exclude-standard", "--", ADDON)
    return [p for p in listed.stdout.split("\0") if p] if listed.returncode == 0 else []


def make_run_dir(version):
    return Path(tempfile.mkdtemp(prefix=f"ib-odoo{version}-run-"))


def copy_addon(run_dir):
    """Copy the addon into ``run_dir/standalone/<addon>``; return the addons directory ``run_dir/standalone``."""
    root = run_dir / "standalone"
    target = root / ADDON
    if target.exists():
        shutil.rmtree(target)
    files = tracked_files()
    if files is None:
        shutil.copytree(REPO / ADDON, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        say(f"copied {ADDON}/ (not a git checkout: the whole directory) to {target}")
        return root
    copied = 0
    for rel in files:
        source = REPO / rel
        if not source.is_file():  # deleted in the work tree, not yet in the index
            continue
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
        copied += 1
    say(f"copied the {copied} git-tracked files of {ADDON}/ to {target}")
    untracked = untracked_files()
    if untracked:
        say(f"warning: not copied, because git does not track them (`git add` them; whool would not package them "
            f"either): {', '.join(untracked)}")
    return root


def strip_repo(env):
    """``env`` without the repository (or anything inside it) on PYTHONPATH, and without IB_REPO."""
    env = dict(env)
    env.pop("IB_REPO", None)
    repo = REPO.resolve()
    kept = []
    for entry in env.get("PYTHONPATH", "").split(os.pathsep):
        if not entry:
            continue
        path = Path(entry).resolve()
        if path == repo or repo in path.parents:
            continue
        kept.append(entry)
    if kept:
        env["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        env.pop("PYTHONPATH", None)
    return env
