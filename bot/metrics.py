"""The bot's counters. With no metrics listener configured they cost nothing: the real
registry (prometheus-client) is only imported when `[health] listen` is set."""

from __future__ import annotations

from typing import Any


class _Nothing:
    """Stands in for a counter or histogram nobody will read."""

    def labels(self, *_args: Any) -> _Nothing:
        return self

    def inc(self, _amount: float = 1) -> None:
        pass

    def observe(self, _value: float) -> None:
        pass


class NoMetrics:
    def __init__(self) -> None:
        nothing = _Nothing()
        self.commands = self.latency = self.sync_errors = self.sent = nothing
        self.reminders = self.deliveries = self.acks = self.undecryptable = nothing

    def message_sent(self, _ref: str | None) -> None:
        pass

    def render(self) -> bytes:
        return b""


def make_metrics(enabled: bool):
    if not enabled:
        return NoMetrics()
    from bot.health import Metrics

    return Metrics()
