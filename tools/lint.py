#!/usr/bin/env python3
"""``make lint``: ruff over the repository; pylint with pylint-odoo (OCA's mandatory checks, ``.pylintrc``) and OCA's
XML/CSV/PO checks (oca-odoo-pre-commit-hooks, as OCA's pre-commit configuration runs them) over ``invoice_bridge/``.

Standard library only, like ``tools/ibctl``, whose virtualenv it reuses (the one of the selected Odoo version: 18
unless ODOO_VERSION / ODOO_SRC say otherwise): the tools pinned in ``requirements-lint.txt`` are installed into it when
missing or at another version. Every finding is printed as ``path:line:check:message``
(``--output FILE`` writes them to a file too), followed by counts per check and per file; the exit status is 1 when
there is any finding or a tool failed, 0 otherwise. ``--fix`` lets ruff apply its safe fixes first.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ibctl  # noqa: E402 - the sibling package, importable once its directory is on sys.path

REPO = ibctl.REPO
ADDON_DIR = REPO / ibctl.ADDON
REQUIREMENTS = REPO / "requirements-lint.txt"
OCA_HOOK_LINE_RE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):? (?P<check>[a-z0-9-]+) (?P<message>.*)$")

Finding = collections.namedtuple("Finding", "path line check message")


def say(msg):
    print(f"[lint] {msg}", flush=True)


def _pins():
    pins = {}
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep:
                ibctl.die(f"{REQUIREMENTS.name}: pin every tool with == ({line!r})")
            pins[name.strip()] = version.strip()
    return pins


def ensure_tools():
    """The project virtualenv's python, with the lint tools of requirements-lint.txt at their pinned versions."""
    venv = ibctl.venv_dir(ibctl.selected_version())
    py = venv / "bin" / "python"
    if not py.exists():  # `make setup` builds the whole virtualenv; the lint needs only its own tools
        venv.parent.mkdir(parents=True, exist_ok=True)
        ibctl.run([sys.executable, "-m", "venv", venv])
    pins = _pins()
    probe = subprocess.run(
        [py, "-c", "import importlib.metadata as m, json, sys\n"
                   "def v(n):\n"
                   "    try:\n"
                   "        return m.version(n)\n"
                   "    except m.PackageNotFoundError:\n"
                   "        return None\n"
                   "print(json.dumps({n: v(n) for n in sys.argv[1:]}))", *pins],
        capture_output=True, text=True, check=True)
    installed = json.loads(probe.stdout)
    wrong = [f"{name}=={version}" for name, version in pins.items() if installed.get(name) != version]
    if wrong:
        say(f"installing {', '.join(wrong)} into {venv}")
        ibctl.run([py, "-m", "pip", "install", "-q", "-c", ibctl.runtime_constraints_file(), "-r", REQUIREMENTS])
    return py


def _rel(path):
    """``path`` relative to the repository when it lies inside it (tools print absolute or odd relative paths)."""
    for candidate in (Path(path), REPO / path, Path("/") / path):
        try:
            resolved = candidate.resolve()
            if resolved.exists():
                return str(resolved.relative_to(REPO))
        except (OSError, ValueError):
            continue
    return str(path)


def _tool_failed(name, proc):
    say(f"{name} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def run_ruff(py, fix=False):
    if fix:
        subprocess.run([py, "-m", "ruff", "check", "--fix", "--quiet", "."], cwd=REPO, check=False)
    proc = subprocess.run([py, "-m", "ruff", "check", "--no-fix", "--output-format", "json", "."], cwd=REPO,
                          capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        _tool_failed("ruff", proc)
        return None
    return [Finding(_rel(item["filename"]), item["location"]["row"], f"ruff:{item['code'] or 'syntax-error'}",
                    item["message"]) for item in json.loads(proc.stdout or "[]")]


def run_pylint(py):
    proc = subprocess.run([py, "-m", "pylint", f"--rcfile={REPO / '.pylintrc'}", "--output-format=json",
                           ibctl.ADDON], cwd=REPO, capture_output=True, text=True, check=False)
    # pylint's exit status is a bit mask: 1 fatal, 32 usage error; 2/4/8/16 are message categories
    if proc.returncode & (1 | 32):
        _tool_failed("pylint", proc)
        return None
    return [Finding(_rel(item["path"]), item["line"], f"pylint:{item['symbol']}", item["message"])
            for item in json.loads(proc.stdout or "[]")]


def _run_oca_hook(py, name, args):
    script = Path(py).parent / name
    proc = subprocess.run([script, *args], cwd=REPO, capture_output=True, text=True, check=False)
    findings = []
    for line in proc.stdout.splitlines():
        m = OCA_HOOK_LINE_RE.match(line.strip())
        if m:
            findings.append(Finding(_rel(m["path"]), int(m["line"]), f"{name}:{m['check']}", m["message"]))
    if proc.returncode and not findings:
        _tool_failed(name, proc)
        return None
    return findings


def run_oca_hooks(py):
    findings = _run_oca_hook(py, "oca-checks-odoo-module", [ibctl.ADDON])
    po_files = sorted(str(p.relative_to(REPO)) for p in ADDON_DIR.glob("i18n/*.po*"))
    if po_files and findings is not None:
        po = _run_oca_hook(py, "oca-checks-po", ["--disable=po-pretty-format", *po_files])
        findings = None if po is None else findings + po
    return findings


def main(argv=None):
    parser = argparse.ArgumentParser(prog="lint", description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, help="also write the findings to this file, one a line")
    parser.add_argument("--fix", action="store_true", help="let ruff apply its safe fixes first")
    args = parser.parse_args(argv)
    py = ensure_tools()
    os.environ.pop("PYTHONPATH", None)  # the tools read sources; they never import the repository
    findings, failed = [], []
    for name, runner in (("ruff", lambda: run_ruff(py, args.fix)), ("pylint-odoo", lambda: run_pylint(py)),
                         ("oca-checks", lambda: run_oca_hooks(py))):
        say(f"running {name}")
        result = runner()
        if result is None:
            failed.append(name)
        else:
            findings.extend(result)
    findings.sort(key=lambda f: (f.path, f.line, f.check))
    lines = [f"{f.path}:{f.line}:{f.check}:{f.message}" for f in findings]
    for line in lines:
        print(line)
    if args.output:
        args.output.write_text("".join(f"{line}\n" for line in lines))
    if findings:
        print("\nper check:")
        for check, count in collections.Counter(f.check for f in findings).most_common():
            print(f"  {count:4d}  {check}")
        print("per file:")
        for path, count in collections.Counter(f.path for f in findings).most_common():
            print(f"  {count:4d}  {path}")
    for name in failed:
        say(f"FAILED: {name} did not run to completion")
    say(f"{len(findings)} finding(s)" + (f", {len(failed)} tool failure(s)" if failed else ""))
    return 1 if findings or failed else 0


if __name__ == "__main__":
    sys.exit(main())
