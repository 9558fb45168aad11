"""What every unit of work does as it ends, whether it ran a command, a listener or a job:
its audit record, written in the unit, and, once it committed, its messages handed to the
senders, its actions in memory, the jobs it woke and its counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.metrics import Metrics
from commands.context import Unit
from storage.outbox import OutboxMessage


async def audit(
    unit: Unit,
    *,
    actor: str,
    action: str,
    outcome: str,
    room_id: str | None = None,
    event_id: str | None = None,
) -> None:
    """The unit's audit record, in its own transaction: it commits with the unit or not at
    all. What it says of the work is the unit's `audit_detail`."""
    await unit.store.audit.record(
        actor=actor,
        action=action,
        outcome=outcome,
        now=unit.now,
        room_id=room_id,
        event_id=event_id,
        detail=unit.audit_detail,
    )


def settle(
    unit: Unit,
    rows: Sequence[OutboxMessage],
    *,
    submit: Callable[[list[OutboxMessage]], None],
    wake: Callable[[str, int], None],
    metrics: Metrics,
) -> None:
    """Once the unit committed (never before): its messages go to the senders, then its
    actions in memory run, the jobs it woke run and what it counted is counted."""
    if rows:
        submit(list(rows))
    for action in unit.committed:
        action()
    for job, key in unit.wakes:
        wake(job, key)
    for metric, label in unit.tallies:
        metrics.tally(metric, label)
