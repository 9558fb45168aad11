"""Meetings, their minutes, and the actions that come out of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number


class Meeting(SQLModel, table=True):
    """A meeting of the Steering Committee or the RCC (`MT-n`): its agenda goes out ahead,
    its minutes are taken in its room."""

    __tablename__ = "meeting"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(max_length=300)
    starts_at: datetime = Field(sa_column=utc_column(index=True))
    room_kind: str = Field(max_length=16)  # steering | rcc
    state: str = Field(max_length=16, index=True)  # scheduled | minuting | closed
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=utc_column())
    agenda_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    minutes_room: str | None = Field(default=None, max_length=255)
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    stopped_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # A recurring meeting (month | quarter | year): the next one is scheduled when this one's
    # reminder goes out, once (`followed_by` is its number).
    every: str | None = Field(default=None, max_length=16)
    followed_by: int | None = Field(default=None)


class MinuteEntry(SQLModel, table=True):
    """One line of a meeting's minutes: agreed, an action, or for information."""

    __tablename__ = "minute_entry"

    id: int | None = Field(default=None, primary_key=True)
    meeting: int = Field(index=True)  # the meeting's number
    kind: str = Field(max_length=8)  # agreed | action | info
    text: str = Field(sa_column=Column(Text, nullable=False))
    action: int | None = Field(default=None)  # the action's number, for kind "action"
    author: str = Field(max_length=255)
    tlp: str = Field(default="amber", max_length=16)  # said without a label: AMBER
    origin_room: str | None = Field(default=None, max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


class Action(SQLModel, table=True):
    """A follow-up with an owner (a person, or a body such as the RIFC) and a due date."""

    __tablename__ = "action"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    owner: str = Field(max_length=255)  # @user:server, or a body's name ("RIFC")
    text: str = Field(sa_column=Column(Text, nullable=False))
    due_at: datetime = Field(sa_column=utc_column(index=True))
    state: str = Field(default="open", max_length=8, index=True)  # open | done
    meeting: int | None = Field(default=None)
    created_by: str = Field(max_length=255)
    tlp: str = Field(default="amber", max_length=16)  # said without a label: AMBER
    origin_room: str | None = Field(default=None, max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    created_at: datetime = Field(sa_column=utc_column())
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    overdue_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    done_by: str | None = Field(default=None, max_length=255)
    done_note: str = Field(default="", max_length=1000)


class MeetingStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self, *, title: str, starts_at: datetime, room_kind: str, author: str, now: datetime,
        every: str | None = None,
    ) -> Meeting:  # fmt: skip
        meeting = Meeting(
            number=await next_number(self._s, "meeting"), title=title, starts_at=starts_at,
            room_kind=room_kind, state="scheduled", created_by=author, created_at=now,
            every=every,
        )  # fmt: skip
        self._s.add(meeting)
        await self._s.flush()
        return meeting

    async def get(self, number: int) -> Meeting | None:
        return await self._s.scalar(select(Meeting).where(col(Meeting.number) == number))

    async def upcoming(self) -> list[Meeting]:
        query = (
            select(Meeting)
            .where(col(Meeting.state) == "scheduled")
            .order_by(col(Meeting.starts_at))
        )
        return list(await self._s.scalars(query))

    async def minuting_in(self, room_id: str) -> Meeting | None:
        """The meeting whose minutes are being taken in a room."""
        query = select(Meeting).where(
            col(Meeting.state) == "minuting", col(Meeting.minutes_room) == room_id
        )
        return await self._s.scalar(query)

    async def note(
        self, meeting: Meeting, *, kind: str, text: str, author: str, event_id: str | None,
        now: datetime, tlp: str, origin_room: str, said_to: str, action: int | None = None,
    ) -> MinuteEntry:  # fmt: skip
        entry = MinuteEntry(
            meeting=meeting.number, kind=kind, text=text, action=action, author=author,
            event_id=event_id, at=now, tlp=tlp, origin_room=origin_room, said_to=said_to,
        )  # fmt: skip
        self._s.add(entry)
        await self._s.flush()
        return entry

    async def minutes(self, meeting: Meeting) -> list[MinuteEntry]:
        query = select(MinuteEntry).where(col(MinuteEntry.meeting) == meeting.number)
        return list(await self._s.scalars(query.order_by(col(MinuteEntry.id))))

    async def add_action(
        self, *, owner: str, text: str, due_at: datetime, author: str, now: datetime,
        tlp: str, origin_room: str, said_to: str, meeting: int | None = None,
    ) -> Action:  # fmt: skip
        action = Action(
            number=await next_number(self._s, "action"), owner=owner, text=text, due_at=due_at,
            meeting=meeting, created_by=author, created_at=now, tlp=tlp,
            origin_room=origin_room, said_to=said_to,
        )  # fmt: skip
        self._s.add(action)
        await self._s.flush()
        return action

    async def action(self, number: int) -> Action | None:
        return await self._s.scalar(select(Action).where(col(Action.number) == number))

    async def actions(self, *, owner: str | None = None, open_only: bool = True) -> list[Action]:
        query = select(Action).order_by(col(Action.due_at), col(Action.number))
        if open_only:
            query = query.where(col(Action.state) == "open")
        if owner is not None:
            query = query.where(col(Action.owner) == owner)
        return list(await self._s.scalars(query))
