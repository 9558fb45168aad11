"""The direct-message room the bot uses with each user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from storage.columns import utc_column


class DirectRoom(SQLModel, table=True):
    """The encrypted direct-message room the bot uses with one user."""

    __tablename__ = "direct_room"

    user_id: str = Field(max_length=255, primary_key=True)
    room_id: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=utc_column())


class RoomStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def direct_room(self, user_id: str) -> str | None:
        row = await self._s.get(DirectRoom, user_id)
        return row.room_id if row else None

    async def set_direct_room(self, user_id: str, room_id: str, *, now: datetime) -> None:
        row = await self._s.get(DirectRoom, user_id)
        if row is None:
            self._s.add(DirectRoom(user_id=user_id, room_id=room_id, created_at=now))
        else:
            row.room_id = room_id
        await self._s.flush()

    async def direct_users(self) -> dict[str, str]:
        """Room ID to user ID, for every known direct room."""
        rows = await self._s.scalars(select(DirectRoom))
        return {r.room_id: r.user_id for r in rows}

    async def direct_rooms(self) -> dict[str, str]:
        """User ID to their direct room's ID, for every known direct room."""
        return {user: room for room, user in (await self.direct_users()).items()}
