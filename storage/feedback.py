"""Reports as records (`RP-n`: which report went to which room, when) and the feedback their
readers give (Action Plan, section 8.4: the feedback of the Heads of Intelligence and FIUs
feeds the monitoring)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number


class ReportRecord(SQLModel, table=True):
    """One report delivered in a room (`!report`)."""

    __tablename__ = "report_record"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    profile: str = Field(max_length=16)  # steering | consle | heads | csm | country:XX
    period_key: str = Field(max_length=16)
    period_label: str = Field(max_length=100)
    tlp: str = Field(max_length=16)  # the label it carried
    room_id: str = Field(max_length=255)
    author: str = Field(max_length=255)
    at: datetime = Field(sa_column=utc_column())


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
