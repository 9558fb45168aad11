"""Deadlines and the reminder log."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import Keyed, utc_column
from storage.counters import next_number


class Deadline(Keyed, SQLModel, table=True):
    """A reporting deadline, one-off or recurring; it closes a reporting period."""

    __tablename__ = "deadline"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(max_length=300)
    due_at: datetime = Field(sa_column=utc_column())  # the first occurrence
    every: str | None = Field(default=None, max_length=16)  # month | quarter | year
    remind: str = Field(max_length=200)  # offsets in seconds, ",1209600,604800,"
    status: str = Field(default="active", max_length=16, index=True)
    config_key: str | None = Field(default=None, max_length=300, unique=True)
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=utc_column())
    cancelled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ReminderLog(SQLModel, table=True):
    """Every reminder, overdue notice and follow-up decided, one row per recipient.

    The unique key is what makes a notification impossible to send twice, also across
    restarts: the row and the outbox message commit together.
    """

    __tablename__ = "reminder_log"
    __table_args__ = (
        UniqueConstraint(
            "deadline_id", "occurrence", "kind", "seq", "recipient", name="uq_reminder_once"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    occurrence: datetime = Field(sa_column=utc_column())
    kind: str = Field(max_length=16)  # remind | overdue | followup | escalation
    seq: int
    recipient: str = Field(max_length=255)
    state: str = Field(max_length=16)  # sent | superseded
    late: bool = False
    scheduled_at: datetime = Field(sa_column=utc_column())
    decided_at: datetime = Field(sa_column=utc_column())


@dataclass(frozen=True)
class Logged:
    """One notification decided: of which occurrence, what, to whom, and whether it went."""

    occurrence: datetime
    kind: str  # remind | overdue | followup | escalation
    seq: int
    recipient: str
    state: str  # sent | superseded
    late: bool
    scheduled_at: datetime


class DeadlineStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        *,
        title: str,
        due_at: datetime,
        every: str | None,
        remind: str,
        created_by: str,
        now: datetime,
        config_key: str | None = None,
    ) -> Deadline:
        deadline = Deadline(
            number=await next_number(self._s, "deadline"),
            title=title,
            due_at=due_at,
            every=every,
            remind=remind,
            created_by=created_by,
            created_at=now,
            config_key=config_key,
        )
        self._s.add(deadline)
        await self._s.flush()
        return deadline

    async def get(self, number: int) -> Deadline | None:
        return await self._s.scalar(select(Deadline).where(col(Deadline.number) == number))

    async def by_id(self, deadline_id: int) -> Deadline | None:
        return await self._s.get(Deadline, deadline_id)

    async def by_config_key(self, key: str) -> Deadline | None:
        return await self._s.scalar(select(Deadline).where(col(Deadline.config_key) == key))

    async def all(self) -> list[Deadline]:
        """Every deadline ever set, cancelled ones included (for compliance reports)."""
        return list(await self._s.scalars(select(Deadline).order_by(col(Deadline.due_at))))

    async def active(self) -> list[Deadline]:
        query = (
            select(Deadline).where(col(Deadline.status) == "active").order_by(col(Deadline.due_at))
        )
        return list(await self._s.scalars(query))

    async def cancel(self, deadline: Deadline, *, now: datetime) -> None:
        deadline.status, deadline.cancelled_at = "cancelled", now
        await self._s.flush()

    async def logged(self, deadline_id: int, occurrence: datetime) -> set[tuple[str, int, str]]:
        """(kind, seq, recipient) of everything decided for one occurrence."""
        query = select(
            col(ReminderLog.kind), col(ReminderLog.seq), col(ReminderLog.recipient)
        ).where(
            col(ReminderLog.deadline_id) == deadline_id, col(ReminderLog.occurrence) == occurrence
        )
        return {(k, s, r) for k, s, r in await self._s.execute(query)}

    async def log(self, deadline_id: int, entries: list[Logged], *, now: datetime) -> None:
        """Record notifications decided for one deadline, sent or superseded, each once."""
        self._s.add_all(
            ReminderLog(deadline_id=deadline_id, decided_at=now, **asdict(entry))
            for entry in entries
        )
        await self._s.flush()

    async def log_for(self, deadline_id: int) -> list[ReminderLog]:
        query = (
            select(ReminderLog)
            .where(col(ReminderLog.deadline_id) == deadline_id)
            .order_by(col(ReminderLog.id))
        )
        return list(await self._s.scalars(query))
