"""``python3 tools/ibctl <command>`` (or ``python3 -m ibctl`` with tools/ on the path)."""
import sys
from pathlib import Path

_TOOLS = str(Path(__file__).resolve().parent.parent)
# run as a directory, Python put the package's own directory first on sys.path: its modules are not top-level ones
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)

from ibctl.commands import main  # noqa: E402 - importable once tools/ is on sys.path

sys.exit(main())
