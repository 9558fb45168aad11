"""Column types and bases the tables share: UTC datetimes, keyed rows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Dialect, Table, TypeDecorator
from sqlmodel import SQLModel


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to storage; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(*, nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Keyed:
    """For tables with an integer ID: `key` is that ID once the row is stored (flushed).

    SQLModel types `id` as `int | None`, since a new row has none yet; code that holds a
    stored row reads `key` and gets an `int`, or a clear error if the row was never stored.
    """

    id: int | None

    @property
    def key(self) -> int:
        if self.id is None:
            raise ValueError(f"this {type(self).__name__} has no ID yet: it was never stored")
        return self.id


def table_of(model: type[SQLModel]) -> Table:
    """A table class's Core table, for statements built once and run without the ORM.
    SQLModel sets `__table__` on every `table=True` class but does not declare it."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table
