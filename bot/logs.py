"""Logging set-up: the bot logs event IDs and outcomes, never bodies, tokens or keys.

Only the project's own loggers follow the configured level. Every other library stays at
WARNING or above: at DEBUG, nio logs whole HTTP responses (a login carries the access token),
its store (peewee) logs pickled keys, the database drivers log SQL parameters (user text),
and SQLAlchemy echoes SQL from INFO up.
"""

from __future__ import annotations

import logging
import sys
import traceback

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


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """An unexpected error, by type and stack frames only: an exception's message can carry
    user text (TLP:RED included), which must never reach a log."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s failed: %s\n%s", what, type(exc).__name__, frames)
