"""Gapless numbering for the IDs people type: the next number is taken in the caller's
transaction, so a command that fails takes no number."""

from __future__ import annotations

from sqlalchemy import (
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

NAME_LENGTH = 16


class Counter(SQLModel, table=True):
    """Gapless sequences for the short IDs people type (INC-12, LL-4, RS-9, ...)."""

    __tablename__ = "counter"

    name: str = Field(max_length=NAME_LENGTH, primary_key=True)
    value: int = 0


async def next_number(session: AsyncSession, name: str) -> int:
    if len(name) > NAME_LENGTH:  # SQLite would take it; PostgreSQL refuses it at once
        raise ValueError(f"counter name {name!r} is longer than {NAME_LENGTH} characters")
    row = await session.scalar(select(Counter).where(col(Counter.name) == name).with_for_update())
    if row is None:
        row = Counter(name=name, value=0)
        session.add(row)
    row.value += 1
    await session.flush()
    return row.value
