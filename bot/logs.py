"""Logging set-up: the bot logs event IDs and outcomes, never bodies, tokens or keys.

Only the project's own loggers follow the configured level. Every other library stays at
WARNING or above: at DEBUG, nio logs whole HTTP responses (a login carries the access token),
its store (peewee) logs pickled keys, the database drivers log SQL parameters (user text),
and SQLAlchemy echoes SQL from INFO up.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections import OrderedDict

OWN = ("bot", "commands", "storage")


def configure(level: str) -> None:
    logging.basicConfig(
        level=max(logging.WARNING, logging.getLevelName(level)),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for name in OWN:
        logging.getLogger(name).setLevel(level)


class Quota:
    """At most `most` times per `window` seconds for each key (of at most `keys` kept):
    what a flooder can make the bot do or log. `held(key)` tells how many were held back
    since the last time one was allowed, and starts that count again."""

    def __init__(self, most: int, window: float, *, keys: int = 1000) -> None:
        self.most, self.window, self.keys = most, window, keys
        self._used: OrderedDict[str, tuple[float, int, int]] = OrderedDict()

    def allow(self, key: str = "") -> bool:
        now = time.monotonic()
        began, used, held = self._used.pop(key, (now, 0, 0))
        if now - began >= self.window:
            began, used = now, 0
        allowed = used < self.most
        self._used[key] = (began, used + allowed, held + (not allowed))
        while len(self._used) > self.keys:
            self._used.popitem(last=False)
        return allowed

    def held(self, key: str = "") -> int:
        began, used, held = self._used.get(key, (0.0, 0, 0))
        if held:
            self._used[key] = (began, used, 0)
        return held


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """An unexpected error, by type and stack frames only: an exception's message can carry
    user text (TLP:RED included), which must never reach a log."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s failed: %s\n%s", what, type(exc).__name__, frames)
