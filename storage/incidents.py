"""Incidents and their history of updates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number
from storage.lists import member, pack
from storage.visibility import InFull


class Incident(SQLModel, table=True):
    """An incident alert; `tlp` decides where its details may be shown."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(max_length=16)
    tlp: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)
    sectors: str = Field(default=",", max_length=500)  # ",energy,finance,"
    countries: str = Field(default=",", max_length=200)  # ",JM,TT,"
    reporter: str = Field(max_length=255)
    reporter_country: str | None = Field(default=None, max_length=2)
    origin_room: str = Field(max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    event_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column(index=True))
    updated_at: datetime = Field(sa_column=utc_column())
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # What it is, for intelligence (commands.incidents.taxonomy): an RSIT type
    # (`fraud:phishing`), a link to other crime, and how it was done.
    rsit: str | None = Field(default=None, max_length=64)
    crime: str | None = Field(default=None, max_length=32)
    modus: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class IncidentUpdate(SQLModel, table=True):
    """One step in an incident's history: creation, an update, the closing summary."""

    __tablename__ = "incident_update"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str = Field(max_length=16)  # created | update | closed
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str | None = Field(default=None, max_length=16)
    severity: str | None = Field(default=None, max_length=16)
    author: str = Field(max_length=255)
    room_id: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


CLOSED = "closed"


class IncidentStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(
        self,
        *,
        title: str,
        severity: str,
        tlp: str,
        sectors: list[str],
        countries: list[str],
        reporter: str,
        reporter_country: str | None,
        room_id: str,
        event_id: str | None,
        now: datetime,
        said_to: str | None = None,
        rsit: str | None = None,
        crime: str | None = None,
    ) -> Incident:
        """A new incident with the next number, and its first history entry; `said_to`: who
        heard it (storage.lists)."""
        incident = Incident(
            number=await next_number(self._s, "incident"),
            title=title,
            severity=severity,
            tlp=tlp,
            status="open",
            sectors=pack(sectors),
            countries=pack(countries),
            reporter=reporter,
            reporter_country=reporter_country,
            origin_room=room_id,
            said_to=said_to,
            event_id=event_id,
            created_at=now,
            updated_at=now,
            rsit=rsit,
            crime=crime,
        )
        self._s.add(incident)
        await self._s.flush()
        await self._history(
            incident, "created", "", "open", severity, reporter, room_id, event_id, now
        )
        return incident

    async def get(self, number: int) -> Incident | None:
        return await self._s.scalar(select(Incident).where(col(Incident.number) == number))

    async def update(
        self,
        incident: Incident,
        *,
        kind: str,
        note: str,
        status: str | None,
        severity: str | None,
        author: str,
        room_id: str,
        event_id: str | None,
        now: datetime,
    ) -> IncidentUpdate:
        """Record one step; the incident takes the new status and severity, if given."""
        if status is not None:
            incident.status = status
            incident.closed_at = now if status == CLOSED else None
        if severity is not None:
            incident.severity = severity
        incident.updated_at = now
        return await self._history(
            incident, kind, note, status, severity, author, room_id, event_id, now
        )

    async def _history(
        self,
        incident: Incident,
        kind: str,
        note: str,
        status: str | None,
        severity: str | None,
        author: str,
        room_id: str,
        event_id: str | None,
        now: datetime,
    ) -> IncidentUpdate:
        assert incident.id is not None, "the incident is stored (flushed) first"
        entry = IncidentUpdate(
            incident_id=incident.id,
            kind=kind,
            note=note,
            status=status,
            severity=severity,
            author=author,
            room_id=room_id,
            event_id=event_id,
            at=now,
        )
        self._s.add(entry)
        await self._s.flush()
        return entry

    async def history(self, incident: Incident) -> list[IncidentUpdate]:
        query = (
            select(IncidentUpdate)
            .where(col(IncidentUpdate.incident_id) == incident.id)
            .order_by(col(IncidentUpdate.id))
        )
        return list(await self._s.scalars(query))

    async def find(
        self,
        *,
        in_full: InFull,
        open_only: bool = True,
        country: str | None = None,
        severity: str | None = None,
        limit: int = 50,
    ) -> list[Incident]:
        """Incidents the reader sees in full, newest first; `country` matches incidents
        naming it or reported from it."""
        query = (
            select(Incident)
            .where(in_full.clause(Incident))
            .order_by(col(Incident.number).desc())
            .limit(limit)
        )
        if open_only:
            query = query.where(col(Incident.status) != CLOSED)
        if country is not None:
            query = query.where(
                or_(
                    col(Incident.countries).like(member(country), escape="\\"),
                    col(Incident.reporter_country) == country,
                )
            )
        if severity is not None:
            query = query.where(col(Incident.severity) == severity)
        return list(await self._s.scalars(query))

    async def count_withheld(self, *, in_full: InFull) -> int:
        query = select(func.count()).select_from(Incident).where(in_full.withheld(Incident))
        return await self._s.scalar(query) or 0

    async def withheld(self, *, in_full: InFull, limit: int = 50) -> list[Incident]:
        """Incidents the reader does not see in full, newest first."""
        query = (
            select(Incident)
            .where(in_full.withheld(Incident))
            .order_by(col(Incident.number).desc())
            .limit(limit)
        )
        return list(await self._s.scalars(query))

    async def created_between(self, start: datetime, end: datetime) -> list[Incident]:
        query = (
            select(Incident)
            .where(col(Incident.created_at) >= start, col(Incident.created_at) < end)
            .order_by(col(Incident.number))
        )
        return list(await self._s.scalars(query))
