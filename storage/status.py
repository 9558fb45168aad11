"""Status of each country against the catalogue: updates (kept as history), notes, reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    CursorResult,
    Index,
    Insert,
    String,
    Text,
    column,
    delete,
    func,
    select,
    values,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import table_of, utc_column


class StatusUpdate(SQLModel, table=True):
    """One change of one item's state for one country; never overwritten (history)."""

    __tablename__ = "status_update"
    __table_args__ = (
        Index("ix_status_update_latest", "country", "item_id", "id"),
        Index("ix_status_update_at_pair", "country", "item_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2)
    item_id: str = Field(max_length=64)
    state: str = Field(max_length=16)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column(index=True))
    undone_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    version: int | None = Field(default=None)  # the catalogue version in force
    evidence: str | None = Field(default=None, max_length=2000)  # a link behind the state
    source: str | None = Field(default=None, max_length=16)  # desk-review | ncpoc
    # A file sent in reply to the confirmation (JSON: name, type, where; its key if encrypted)
    attachment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class StatusCurrent(SQLModel, table=True):
    """The newest update of each (country, item) that still counts: what `latest()` reads,
    one row a pair, instead of grouping the whole history (ten years of updates: every
    `!status` and `!gaps` read them all). Kept by `record` and `undo`, its only writers."""

    __tablename__ = "status_current"

    country: str = Field(max_length=2, primary_key=True)
    item_id: str = Field(max_length=64, primary_key=True)
    update_id: int


class StatusNote(SQLModel, table=True):
    """A narrative update on a country's projects and activities."""

    __tablename__ = "status_note"

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column(index=True))


class Report(SQLModel, table=True):
    """A country's report (`!status submit`) for a reporting period."""

    __tablename__ = "report"

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)
    period: str = Field(max_length=32)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column(index=True))


# Built once (`!status set` writes one per command): compiled once, then cached.
_INSERT_UPDATE = table_of(StatusUpdate).insert()


def _set_current(dialect: str) -> Insert:
    """(country, item_id, update_id) made current, inserted or replaced: one statement."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table_of(StatusCurrent))
    return statement.on_conflict_do_update(
        index_elements=["country", "item_id"],
        set_={"update_id": statement.excluded.update_id},
    )


_SET_CURRENT = {name: _set_current(name) for name in ("postgresql", "sqlite")}


class StatusStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def record(
        self,
        *,
        country: str,
        item_id: str,
        state: str,
        note: str,
        author: str,
        event_id: str | None,
        now: datetime,
        version: int | None = None,
        evidence: str | None = None,
        source: str | None = None,
    ) -> int:
        """Add one update (earlier ones stay as history); returns its ID."""
        result = await self._s.execute(
            _INSERT_UPDATE,
            {
                "country": country,
                "item_id": item_id,
                "state": state,
                "note": note,
                "author": author,
                "event_id": event_id,
                "at": now,
                "version": version,
                "evidence": evidence,
                "source": source,
            },
        )
        assert isinstance(result, CursorResult)  # an INSERT's result
        key = result.inserted_primary_key
        assert key is not None
        update_id = int(key[0])
        await self._current(country, item_id, update_id)
        return update_id

    async def _current(self, country: str, item_id: str, update_id: int | None) -> None:
        if update_id is None:  # every update of the pair undone
            await self._s.execute(
                delete(StatusCurrent).where(
                    col(StatusCurrent.country) == country, col(StatusCurrent.item_id) == item_id
                )
            )
            return
        dialect = self._s.get_bind().dialect.name
        await self._s.execute(
            _SET_CURRENT[dialect], {"country": country, "item_id": item_id, "update_id": update_id}
        )

    async def get(self, update_id: int) -> StatusUpdate | None:
        return await self._s.get(StatusUpdate, update_id)

    async def states(self, country: str) -> dict[str, str]:
        """Each item's current state for one country: the pairs' current rows, read as two
        columns (no update objects built: a country has one per item of the catalogue)."""
        query = (
            select(col(StatusUpdate.item_id), col(StatusUpdate.state))
            .join(StatusCurrent, col(StatusCurrent.update_id) == col(StatusUpdate.id))
            .where(col(StatusCurrent.country) == country)
        )
        return {item_id: state for item_id, state in (await self._s.execute(query)).all()}

    async def latest(
        self, country: str | None = None, *, before: datetime | None = None
    ) -> list[StatusUpdate]:
        """The newest update per (country, item), as of now or as of `before`; one query."""
        if before is None:  # as of now: the pairs' current rows, however long the history
            current = select(col(StatusCurrent.update_id))
            if country is not None:
                current = current.where(col(StatusCurrent.country) == country)
            return list(
                await self._s.scalars(
                    select(StatusUpdate).where(col(StatusUpdate.id).in_(current))
                )
            )
        newest = (
            select(func.max(col(StatusUpdate.id)))
            .where(col(StatusUpdate.undone_at).is_(None))
            .group_by(col(StatusUpdate.country), col(StatusUpdate.item_id))
        )
        if country is not None:
            newest = newest.where(col(StatusUpdate.country) == country)
        if before is not None:
            newest = newest.where(col(StatusUpdate.at) < before)
        query = select(StatusUpdate).where(col(StatusUpdate.id).in_(newest))
        return list(await self._s.scalars(query))

    async def states_at(
        self, pairs: list[tuple[str, str]], before: datetime
    ) -> list[StatusUpdate]:
        """The newest update before `before` for each (country, item) pair.

        One query whose cost does not grow with history: for each pair, an index seek on
        (country, item_id, at) finds its newest row (a GROUP BY would read every row).
        """
        if not pairs:
            return []
        # A CTE, not `(VALUES ...) AS t (a, b)`, which SQLite cannot parse.
        wanted = (
            values(column("country", String), column("item_id", String), name="wanted")
            .data(pairs)
            .cte("wanted")
        )
        newest = (
            select(col(StatusUpdate.id))
            .where(
                col(StatusUpdate.country) == wanted.c.country,
                col(StatusUpdate.item_id) == wanted.c.item_id,
                col(StatusUpdate.at) < before,
                col(StatusUpdate.undone_at).is_(None),
            )
            .order_by(col(StatusUpdate.at).desc(), col(StatusUpdate.id).desc())
            .limit(1)
            .scalar_subquery()
        )
        ids = select(newest).select_from(wanted)
        return list(
            await self._s.scalars(select(StatusUpdate).where(col(StatusUpdate.id).in_(ids)))
        )

    async def last_by(self, author: str, country: str) -> StatusUpdate | None:
        """The author's newest update for a country that still counts (for `!status undo`)."""
        query = (
            select(StatusUpdate)
            .where(
                col(StatusUpdate.author) == author,
                col(StatusUpdate.country) == country,
                col(StatusUpdate.undone_at).is_(None),
            )
            .order_by(col(StatusUpdate.id).desc())
            .limit(1)
        )
        return await self._s.scalar(query)

    async def undo(self, update: StatusUpdate, *, now: datetime) -> None:
        update.undone_at = now
        await self._s.flush()
        before = await self._s.scalar(
            select(func.max(col(StatusUpdate.id))).where(
                col(StatusUpdate.country) == update.country,
                col(StatusUpdate.item_id) == update.item_id,
                col(StatusUpdate.undone_at).is_(None),
            )
        )
        await self._current(update.country, update.item_id, before)

    async def history(self, country: str, item_id: str) -> list[StatusUpdate]:
        query = (
            select(StatusUpdate)
            .where(col(StatusUpdate.country) == country, col(StatusUpdate.item_id) == item_id)
            .order_by(col(StatusUpdate.id))
        )
        return list(await self._s.scalars(query))

    async def changed_between(self, start: datetime, end: datetime) -> list[StatusUpdate]:
        """Every update in [start, end) that was not undone, oldest first."""
        query = (
            select(StatusUpdate)
            .where(
                col(StatusUpdate.at) >= start,
                col(StatusUpdate.at) < end,
                col(StatusUpdate.undone_at).is_(None),
            )
            .order_by(col(StatusUpdate.id))
        )
        return list(await self._s.scalars(query))

    async def add_note(
        self, *, country: str, text: str, author: str, event_id: str | None, now: datetime
    ) -> StatusNote:
        note = StatusNote(country=country, text=text, author=author, event_id=event_id, at=now)
        self._s.add(note)
        await self._s.flush()
        return note

    async def notes(
        self,
        *,
        country: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 20,
    ) -> list[StatusNote]:
        """Newest first."""
        query = select(StatusNote).order_by(col(StatusNote.id).desc()).limit(limit)
        if country is not None:
            query = query.where(col(StatusNote.country) == country)
        if since is not None:
            query = query.where(col(StatusNote.at) >= since)
        if until is not None:
            query = query.where(col(StatusNote.at) < until)
        return list(await self._s.scalars(query))

    async def submit(
        self,
        *,
        country: str,
        period: str,
        note: str,
        author: str,
        event_id: str | None,
        now: datetime,
    ) -> Report:
        report = Report(
            country=country, period=period, note=note, author=author, event_id=event_id, at=now
        )
        self._s.add(report)
        await self._s.flush()
        return report

    async def last_report(self, country: str) -> Report | None:
        query = (
            select(Report).where(col(Report.country) == country).order_by(col(Report.id).desc())
        )
        return await self._s.scalar(query.limit(1))

    async def reports(
        self, *, start: datetime, end: datetime, country: str | None = None
    ) -> list[Report]:
        """Reports filed in [start, end), oldest first."""
        query = (
            select(Report)
            .where(col(Report.at) >= start, col(Report.at) < end)
            .order_by(col(Report.id))
        )
        if country is not None:
            query = query.where(col(Report.country) == country)
        return list(await self._s.scalars(query))
