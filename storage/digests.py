"""The log of digests posted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number
from storage.lists import pack


class DigestLog(SQLModel, table=True):
    """Every digest posted; a scheduled one carries its slot, which makes it once-only."""

    __tablename__ = "digest_log"
    __table_args__ = (UniqueConstraint("slot", name="uq_digest_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    slot: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    period: str = Field(max_length=32)
    room_id: str = Field(max_length=255)
    requested_by: str = Field(max_length=255)
    posted_at: datetime = Field(sa_column=utc_column(index=True))


class DigestDraft(SQLModel, table=True):
    """A Steering Committee digest awaiting the chair's approval (`DG-n`): the data as built
    for the Steering room, published as approved; a scheduled one carries its slot."""

    __tablename__ = "digest_draft"
    __table_args__ = (UniqueConstraint("slot", name="uq_digest_draft_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    period: str = Field(max_length=32)  # the key: 2026-11, 2026-Q4, last-30d
    period_start: datetime = Field(sa_column=utc_column())
    period_end: datetime = Field(sa_column=utc_column())
    period_label: str = Field(max_length=100)
    room_id: str = Field(max_length=255)  # where it goes once approved
    slot: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    requested_by: str = Field(max_length=255)
    state: str = Field(max_length=16, index=True)  # draft | published | held
    omit: str = Field(default=",", max_length=1000)  # storage.lists: INC-3, LL-2, sections
    data: str = Field(sa_column=Column(Text, nullable=False))  # JSON, as the chair saw it
    needs: int = 0  # the clearance the Steering room must still have when it is published
    bound_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())
    resent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reason: str = Field(default="", max_length=500)
    version: int = 1  # each rebuild is a new version: a chair approves the one they saw


class DigestStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(
        self,
        *,
        period: str,
        room_id: str,
        requested_by: str,
        now: datetime,
        slot: datetime | None = None,
    ) -> DigestLog:
        entry = DigestLog(
            slot=slot, period=period, room_id=room_id, requested_by=requested_by, posted_at=now
        )
        self._s.add(entry)
        await self._s.flush()
        return entry

    async def previous(self, before: datetime, *, room_id: str) -> DigestLog | None:
        """The last digest posted in `room_id` before a moment: the baseline for "what
        changed" for that room's readers (a preview elsewhere does not move it)."""
        query = (
            select(DigestLog)
            .where(col(DigestLog.posted_at) < before, col(DigestLog.room_id) == room_id)
            .order_by(col(DigestLog.posted_at).desc())
            .limit(1)
        )
        return await self._s.scalar(query)

    async def slot_posted(self, slot: datetime) -> bool:
        """Whether a slot's digest was posted, or drafted for the chair's approval."""
        posted = select(col(DigestLog.id)).where(col(DigestLog.slot) == slot)
        drafted = select(col(DigestDraft.id)).where(col(DigestDraft.slot) == slot)
        return (
            await self._s.scalar(posted) is not None or await self._s.scalar(drafted) is not None
        )

    async def draft(
        self,
        *,
        period: str,
        period_start: datetime,
        period_end: datetime,
        period_label: str,
        room_id: str,
        requested_by: str,
        data: str,
        needs: int,
        now: datetime,
        bound_to: str | None = None,
        slot: datetime | None = None,
    ) -> DigestDraft:
        row = DigestDraft(
            number=await next_number(self._s, "digest"),
            period=period, period_start=period_start, period_end=period_end,
            period_label=period_label, room_id=room_id, slot=slot, requested_by=requested_by,
            state="draft", data=data, needs=needs, bound_to=bound_to, created_at=now,
            updated_at=now,
        )  # fmt: skip
        self._s.add(row)
        await self._s.flush()
        return row

    async def latest_published(self, period: str | None = None) -> DigestDraft | None:
        """The digest the chair approved last (of one period, if named)."""
        query = select(DigestDraft).where(col(DigestDraft.state) == "published")
        if period is not None:
            query = query.where(col(DigestDraft.period) == period)
        return await self._s.scalar(query.order_by(col(DigestDraft.decided_at).desc()).limit(1))

    async def get_draft(self, number: int) -> DigestDraft | None:
        return await self._s.scalar(select(DigestDraft).where(col(DigestDraft.number) == number))

    async def drafts(self) -> list[DigestDraft]:
        """Drafts awaiting the chair, oldest first."""
        query = select(DigestDraft).where(col(DigestDraft.state) == "draft")
        return list(await self._s.scalars(query.order_by(col(DigestDraft.number))))

    async def revise(
        self, draft: DigestDraft, *, omit: list[str], data: str, needs: int, now: datetime,
        bound_to: str | None = None,
    ) -> None:  # fmt: skip
        """A new version of the draft: what the chairs read next (and approve by its number)."""
        draft.omit, draft.data, draft.needs, draft.updated_at = pack(omit), data, needs, now
        draft.bound_to = bound_to
        draft.version += 1
        draft.resent_at = None
        await self._s.flush()
