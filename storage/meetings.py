"""Meetings, their minutes, and the actions that come out of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.counters import next_number
from storage.models import Action, Meeting, MinuteEntry


class MeetingStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self, *, title: str, starts_at: datetime, room_kind: str, author: str, now: datetime
    ) -> Meeting:
        meeting = Meeting(
            number=await next_number(self._s, "meeting"), title=title, starts_at=starts_at,
            room_kind=room_kind, state="scheduled", created_by=author, created_at=now,
        )  # fmt: skip
        self._s.add(meeting)
        await self._s.flush()
        return meeting

    async def get(self, number: int) -> Meeting | None:
        return await self._s.scalar(select(Meeting).where(Meeting.number == number))

    async def upcoming(self) -> list[Meeting]:
        query = select(Meeting).where(Meeting.state == "scheduled").order_by(Meeting.starts_at)
        return list(await self._s.scalars(query))

    async def minuting_in(self, room_id: str) -> Meeting | None:
        """The meeting whose minutes are being taken in a room."""
        query = select(Meeting).where(Meeting.state == "minuting", Meeting.minutes_room == room_id)
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
        query = select(MinuteEntry).where(MinuteEntry.meeting == meeting.number)
        return list(await self._s.scalars(query.order_by(MinuteEntry.id)))

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
        return await self._s.scalar(select(Action).where(Action.number == number))

    async def actions(self, *, owner: str | None = None, open_only: bool = True) -> list[Action]:
        query = select(Action).order_by(Action.due_at, Action.number)
        if open_only:
            query = query.where(Action.state == "open")
        if owner is not None:
            query = query.where(Action.owner == owner)
        return list(await self._s.scalars(query))
