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


class Metrics:
    """What the bot counts; this base counts nothing (see `bot.health.PrometheusMetrics`)."""

    def __init__(self) -> None:
        nothing: Any = _Nothing()
        self.commands = self.latency = self.sync_errors = self.sent = self.failed = nothing
        self.reminders = self.deliveries = self.acks = self.undecryptable = nothing
        self.jobs = self.job_latency = self.takeovers = nothing

    def job_ran(self, job: str, outcome: str, seconds: float) -> None:
        """A job's run for one record, counted like a command: done (nothing left for the
        record), again (planned to run again) or failed (retried later)."""
        self.jobs.labels(job, outcome).inc()
        self.job_latency.labels(job).observe(seconds)

    def message_sent(self, ref: str | None) -> None:
        kind = _kind(ref)
        self.sent.labels(kind).inc()
        if kind == "deadline":
            self.reminders.inc()
        elif kind == "broadcast":
            self.deliveries.inc()

    def message_failed(self, ref: str | None) -> None:
        self.failed.labels(_kind(ref)).inc()

    def tally(self, metric: str, label: str) -> None:
        """A counter named by a command family (`acks`), with one label."""
        getattr(self, metric).labels(label).inc()

    def render(self) -> bytes:
        return b""


def _kind(ref: str | None) -> str:
    return (ref or "reply").split(":", 1)[0]


def make_metrics(enabled: bool) -> Metrics:
    if not enabled:
        return Metrics()
    from bot.health import PrometheusMetrics

    return PrometheusMetrics()
