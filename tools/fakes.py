#!/usr/bin/env python3
"""Run one of the addon's loopback fakes (``invoice_bridge/tests/fakes/<name>.py``) from the command line::

    python3 tools/fakes.py webhook_receiver --port 8070
    python3 tools/fakes.py core_demo --state .run/fakes.json     # every fake of the demo

Needs the fakes' own dependencies (``jsonschema`` for easybill, ``standardwebhooks`` for signatures): run it
with the project's virtualenv.
"""
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from standalone import load_fakes  # noqa: E402 - the sibling module, importable once its directory is on sys.path


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-"):
        print(__doc__)
        return 2
    load_fakes()
    module = importlib.import_module(f"ib_fakes.{argv[0]}")
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
