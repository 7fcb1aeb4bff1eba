"""Start every offline fake the demo needs and publish their URLs in a JSON state file.

    python3 tools/fakes.py core_demo --state PATH

Serves until SIGINT/SIGTERM, then removes PATH. To add a fake, append a (name, factory) pair to FAKES;
a factory returns an object with ``start()``, ``stop()`` and ``url`` (published as ``name``; a fake with an
``api_url`` publishes that instead, and one with an ``api_key`` adds it as ``name_api_key``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile

from .easybill_fake import FakeEasybill
from .extract_fake import IapExtractFake
from .webhook_receiver import WebhookReceiver, stop_event_on_signals, wait_until

FAKES = [
    ("webhook_receiver", lambda: WebhookReceiver(secrets=None, port=0)),
    ("iap_extract", lambda: IapExtractFake(port=0)),
    ("easybill", lambda: FakeEasybill(port=0, api_key="demo-easybill-key", rate_limit=60)),
]


def state_of(name: str, fake) -> dict:
    """The state file entries of one started fake."""
    entries = {name: getattr(fake, "api_url", fake.url)}
    if getattr(fake, "api_key", None):
        entries[f"{name}_api_key"] = fake.api_key
    return entries


def write_state(path: str, state: dict) -> None:
    """Write ``state`` as JSON to ``path`` atomically (temp file in the same folder, then rename)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".demo-fakes-", suffix=".json", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", required=True, help="where to write the JSON map of fake name -> URL")
    args = parser.parse_args(argv)
    stop = stop_event_on_signals()
    started = []
    written = False
    try:
        for name, factory in FAKES:
            fake = factory()
            fake.start()
            started.append((name, fake))
        write_state(args.state, {key: value for name, fake in started for key, value in state_of(name, fake).items()})
        written = True
        wait_until(stop)
    finally:
        for _name, fake in reversed(started):
            fake.stop()
        if written:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(args.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
