"""Slowest tests first: a longest-first order the workers take one at a time (xdist's `load`
with chunks of one), so the long Synapse scenes (kills, outages, rate limits) start at once
and the short ones fill in around them, instead of one long test starting last and running
alone at the end.

The order comes from `tests/durations.json` (seconds per test ID: setup and call),
written by a run with `RCC_RECORD_DURATIONS=tests/durations.json` (`make durations`). A test
not in it yet counts as `UNKNOWN` seconds; the order is only an order — no test depends on it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

DURATIONS = Path(__file__).with_name("durations.json")
UNKNOWN = 1.0  # seconds: a new test, not yet measured
KEPT_FROM = 0.5  # seconds: faster tests are not written down (they count as UNKNOWN)


def known() -> dict[str, float]:
    try:
        return json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return {}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    seconds = known()
    items.sort(key=lambda item: -seconds.get(item.nodeid, UNKNOWN))  # stable: ties keep order


class Recorder:
    """Adds up each test's phases as reports reach this process (the controller, under xdist)
    and writes them at the end of the session."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "teardown":  # the last test of a worker also pays for the
            return  # session's fixtures (its Synapse, its databases): not its own time
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self, session) -> None:
        if hasattr(session.config, "workerinput"):
            return  # a worker: the controller writes
        kept = {k: round(v, 1) for k, v in sorted(self.seconds.items()) if v >= KEPT_FROM}
        self.path.write_text(json.dumps(kept, indent=0, sort_keys=True) + "\n")


def pytest_configure(config) -> None:
    target = os.environ.get("RCC_RECORD_DURATIONS")
    if target:
        config.pluginmanager.register(Recorder(Path(target)), "rcc-durations")
