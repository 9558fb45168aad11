"""Reports as records (`RP-n`: which report went where, when) and the feedback their readers
give (Action Plan, section 8.4: the feedback of the Heads of Intelligence and FIUs feeds the
monitoring). A report asked for with `!report` is delivered at once; one on a cycle
(`[reports.<profile>]`) is first a draft for the chair, its data kept as the chair saw it,
and its slot makes it once-only per profile."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number


class ReportRecord(SQLModel, table=True):
    """One report: delivered in a room (`!report`), or drafted on its cycle for the chair."""

    __tablename__ = "report_record"
    __table_args__ = (UniqueConstraint("profile", "slot", name="uq_report_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    profile: str = Field(max_length=16)  # steering | consle | heads | csm | country:XX
    period_key: str = Field(max_length=16)
    period_label: str = Field(max_length=100)
    tlp: str = Field(max_length=16)  # the label it carried
    room_id: str = Field(max_length=255)
    author: str = Field(max_length=255)
    at: datetime = Field(sa_column=utc_column())
    # draft | delivered | held | expired; a report asked for in a room is delivered at once.
    state: str = Field(
        default="delivered", sa_column=Column(String(16), nullable=False, index=True,
                                              server_default="delivered"),
    )  # fmt: skip
    slot: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    period_start: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    period_end: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    data: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON
    needs: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    bound_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, server_default="1"))
    destinations: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    updated_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    resent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reason: str = Field(
        default="", sa_column=Column(String(500), nullable=False, server_default="")
    )


class Feedback(SQLModel, table=True):
    """A reader's feedback on a report, labelled like anything people write."""

    __tablename__ = "report_feedback"

    id: int | None = Field(default=None, primary_key=True)
    report: int = Field(index=True)  # the report's number
    text: str = Field(sa_column=Column(Text, nullable=False))
    tlp: str = Field(max_length=16)
    origin_room: str | None = Field(default=None, max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column(index=True))


class ReportStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(
        self, *, profile: str, period_key: str, period_label: str, tlp: str, room_id: str,
        author: str, now: datetime,
    ) -> ReportRecord:  # fmt: skip
        row = ReportRecord(
            number=await next_number(self._s, "report_record"), profile=profile,
            period_key=period_key, period_label=period_label[:100], tlp=tlp, room_id=room_id,
            author=author, at=now,
        )  # fmt: skip
        self._s.add(row)
        await self._s.flush()
        return row

    async def draft(
        self, *, profile: str, period_key: str, period_label: str, period_start: datetime,
        period_end: datetime, tlp: str, data: str, needs: int, bound_to: str | None,
        destinations: str, slot: datetime, now: datetime,
    ) -> ReportRecord:  # fmt: skip
        """A report on its cycle, for the chair to approve (`room_id`: where it is drafted)."""
        row = ReportRecord(
            number=await next_number(self._s, "report_record"), profile=profile,
            period_key=period_key, period_label=period_label[:100], tlp=tlp, room_id="",
            author="schedule", at=now, state="draft", slot=slot, period_start=period_start,
            period_end=period_end, data=data, needs=needs, bound_to=bound_to,
            destinations=destinations, updated_at=now,
        )  # fmt: skip
        self._s.add(row)
        await self._s.flush()
        return row

    async def slot_drafted(self, profile: str, slot: datetime) -> bool:
        query = select(col(ReportRecord.id)).where(
            col(ReportRecord.profile) == profile, col(ReportRecord.slot) == slot
        )
        return await self._s.scalar(query) is not None

    async def waiting(self) -> list[ReportRecord]:
        """Reports waiting for the chair, or approved and not yet delivered, oldest first."""
        query = select(ReportRecord).where(col(ReportRecord.state).in_(("draft", "approved")))
        return list(await self._s.scalars(query.order_by(col(ReportRecord.number))))

    async def get(self, number: int) -> ReportRecord | None:
        return await self._s.scalar(select(ReportRecord).where(col(ReportRecord.number) == number))

    async def add_feedback(
        self, report: ReportRecord, *, text: str, tlp: str, origin_room: str,
        said_to: str | None, author: str, event_id: str | None, now: datetime,
    ) -> Feedback:  # fmt: skip
        row = Feedback(
            report=report.number, text=text, tlp=tlp, origin_room=origin_room,
            said_to=said_to, author=author, event_id=event_id, at=now,
        )  # fmt: skip
        self._s.add(row)
        await self._s.flush()
        return row

    async def feedback_between(self, start: datetime, end: datetime) -> list[Feedback]:
        query = select(Feedback).where(col(Feedback.at) >= start, col(Feedback.at) < end)
        return list(await self._s.scalars(query.order_by(col(Feedback.at))))

    async def profiles(self, numbers: list[int]) -> dict[int, ReportRecord]:
        if not numbers:
            return {}
        rows = await self._s.scalars(
            select(ReportRecord).where(col(ReportRecord.number).in_(numbers))
        )
        return {r.number: r for r in rows}
