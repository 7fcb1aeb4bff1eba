"""Reading what the test runners printed: Odoo's log and pytest's summary.

Odoo (18.0 and 19.0 alike, ``odoo/tests/result.py``) counts a skipped test as run: ``startTest`` counts it, then
``addSkip`` logs, at INFO on the test module's logger::

    2026-12-02 05:26:31,123 4242 INFO ib_test odoo.addons.invoice_bridge.tests.test_x: skipped TestX.test_y : reason

A class skipped in ``setUpClass`` (``odoo/tests/suite.py``: ``SkipTest`` raised there) is logged by
``odoo.tests.suite`` as ``skipped setUpClass (odoo.addons.invoice_bridge.tests.test_x.TestX) : reason``; its tests
are not counted at all. The closing line is ``N failed, N error(s) of N tests when loading database 'db'``.
A skipped test of the addon is a failure here: it did not test anything.
"""
import re

ODOO_RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")
ODOO_RECORD_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) "
                            r"(?P<logger>[^\s:]+): (?P<message>.*)$")
ODOO_SKIP_RE = re.compile(r"^skipped (?P<test>.+?) : (?P<reason>.*)$")
EXCEPTION_LINE_RE = re.compile(r"^(?:[\w.]+\.)?\w*(?:Error|Exception|Exit|NotFound)\b.*")
PYTEST_RE = re.compile(r"^=*\s*(\d+ (?:passed|failed|errors?|skipped|deselected|xfailed|xpassed|warnings?)\b.*?)"
                       r" in [\d.]+s\b")
NO_RESULT = "Odoo's test runner printed no result line (did the module install?)"
ZERO_TESTS = "Odoo's test runner ran 0 tests"
PYTEST_SKIP_RE = re.compile(r"^SKIPPED \[(?P<count>\d+)\] (?P<where>.+?): (?P<reason>.*)$")


class Tier:
    """The outcome of one test run (one runner on one Odoo version)."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0  # failures and errors reported by the runner
        self.total = None  # tests the runner says it ran (Odoo), when it says so
        self.skipped = []  # (test, reason): each one a failure
        self.problems = []  # anything else wrong: no result, non-zero exit, a crash; each one a failure
        self.notes = []  # explanations, not counted
        self.seconds = 0.0

    @property
    def failures(self):
        return self.failed + len(self.skipped) + len(self.problems)

    def summary(self):
        details = [f"{self.failed} failed/errors", f"{len(self.skipped)} skipped"]
        if self.total is not None:
            details.append(f"of {self.total} tests")
        if self.problems:
            details.append(f"{len(self.problems)} other problem(s)")
        return f"{self.passed} passed, {self.failures} failed ({', '.join(details)})"


def _records(text):
    """Odoo's log as (level, logger, message, continuation lines)."""
    current = None
    for line in text.splitlines():
        m = ODOO_RECORD_RE.match(line)
        if m:
            if current:
                yield current
            current = (m["level"], m["logger"], m["message"].rstrip(), [])
        elif current:
            current[3].append(line)
    if current:
        yield current


def parse_odoo(text, rc, tier, addon):
    """Fill ``tier`` from Odoo's test-run log ``text`` and exit status ``rc``."""
    counted_skips = set()  # the skipped tests Odoo counted as run (not the classes skipped in setUpClass)
    for level, logger, message, more in _records(text):
        skip = ODOO_SKIP_RE.match(message)
        if skip:
            test, reason = skip["test"], skip["reason"].strip()
            if logger.startswith(f"odoo.addons.{addon}.") or f"(odoo.addons.{addon}." in test:
                tier.skipped.append((f"{logger}: {test}", reason))
                if not test.startswith(("setUpClass (", "setUpModule (", "tearDownClass (", "tearDownModule (")):
                    # a skipped subtest ("Subtest TestX.test_y (i=1)") belongs to one counted test
                    counted_skips.add((logger, test.removeprefix("Subtest ").split(" ")[0]))
            continue
        if level == "CRITICAL":
            exc = next((ln.strip() for ln in reversed(more) if EXCEPTION_LINE_RE.match(ln.strip())), "")
            tier.problems.append(f"{logger}: {message}" + (f" — {exc}" if exc else ""))
    results = ODOO_RESULT_RE.findall(text)
    if not results:
        if not tier.problems:  # after a crash (CRITICAL, above) there is none: that crash is the failure
            tier.problems.append(NO_RESULT)
    else:
        failed, errors, total = (int(x) for x in results[-1])
        tier.total = total
        tier.failed += failed + errors
        tier.passed += max(0, total - failed - errors - len(counted_skips))
        if total == 0:
            tier.problems.append(ZERO_TESTS)
    if rc != 0 and not tier.failures:
        tier.problems.append(f"Odoo exited with {rc}")
    return tier


def symptoms_only(tier):
    """True when the tier's only problems say that nothing ran (no result, 0 tests, an exit status): the reason,
    when known, replaces them."""
    return not tier.failed and not tier.skipped and all(
        p in (NO_RESULT, ZERO_TESTS) or p.startswith("Odoo exited with") for p in tier.problems)


def parse_pytest(text, rc, tier):
    """Fill ``tier`` from pytest's output (run with ``-rfEs``): the summary line and the SKIPPED lines."""
    found = False
    for line in text.splitlines():
        stripped = line.strip()
        skip = PYTEST_SKIP_RE.match(stripped)
        if skip:
            tier.skipped.extend([(skip["where"], skip["reason"])] * int(skip["count"]))
            continue
        m = PYTEST_RE.match(stripped)
        if not m:
            continue
        found = True
        for part in m.group(1).split(","):
            num, _, word = part.strip().partition(" ")
            if not num.isdigit():
                continue
            if word.startswith("passed"):
                tier.passed += int(num)
            elif word.startswith(("failed", "error")):
                tier.failed += int(num)
            elif word.startswith("skipped"):
                missing = int(num) - len(tier.skipped)  # skips without a SKIPPED line (should not happen)
                tier.skipped.extend([("(pytest)", "reason not printed")] * max(0, missing))
    if not found:
        tier.problems.append("pytest printed no summary line")
    if rc != 0 and not tier.failures:
        tier.problems.append(f"pytest exited with {rc}")
    return tier
