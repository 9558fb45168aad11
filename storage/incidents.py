"""Incidents and their history of updates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint, func, or_, select
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
    tlp: str = Field(max_length=16, index=True)  # what a reader may not see: counted
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
    rsit: str | None = Field(default=None, max_length=80)
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


class Observable(SQLModel, table=True):
    """An indicator seen in an incident (commands.incidents.observables), labelled no lower
    than its incident, kept with a keyed hash that incidents are matched on."""

    __tablename__ = "observable"
    __table_args__ = (UniqueConstraint("incident_id", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str = Field(max_length=16)  # ip | domain | url | email | md5 | sha1 | sha256 | sha512
    value: str = Field(sa_column=Column(Text, nullable=False))
    tlp: str = Field(max_length=16)
    keyed: str = Field(max_length=64, index=True)
    author: str = Field(max_length=255)
    origin_room: str = Field(max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=utc_column())


class IncidentLink(SQLModel, table=True):
    """Two incidents of different countries that share an indicator: their countries were
    told once (`first` is the lower incident ID)."""

    __tablename__ = "incident_link"

    first: int = Field(foreign_key="incident.id", primary_key=True)
    second: int = Field(foreign_key="incident.id", primary_key=True)
    found_at: datetime = Field(sa_column=utc_column())


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

    async def reported_between(
        self, start: datetime, end: datetime, *, in_full: InFull, limit: int = 5000
    ) -> list[Incident]:
        """Incidents reported in [start, end) the reader sees in full, oldest first."""
        query = (
            select(Incident)
            .where(
                in_full.clause(Incident),
                col(Incident.created_at) >= start,
                col(Incident.created_at) < end,
            )
            .order_by(col(Incident.number))
            .limit(limit)
        )
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

    async def observe(
        self, incident: Incident, *, kind: str, value: str, tlp: str, keyed: str, author: str,
        room_id: str, said_to: str | None, now: datetime,
    ) -> Observable | None:  # fmt: skip
        """Keep one indicator of an incident; None when it was already kept."""
        found = await self._s.scalar(
            select(Observable).where(
                col(Observable.incident_id) == incident.id,
                col(Observable.kind) == kind,
                col(Observable.value) == value,
            )
        )
        if found is not None:
            return None
        assert incident.id is not None
        row = Observable(
            incident_id=incident.id, kind=kind, value=value, tlp=tlp, keyed=keyed,
            author=author, origin_room=room_id, said_to=said_to, created_at=now,
        )  # fmt: skip
        self._s.add(row)
        await self._s.flush()
        return row

    async def observables(self, incident: Incident) -> list[Observable]:
        query = select(Observable).where(col(Observable.incident_id) == incident.id)
        return list(await self._s.scalars(query.order_by(col(Observable.id))))

    async def sharing(self, incident: Incident, keyed: list[str]) -> list[Incident]:
        """Other incidents with one of these indicators, reported by another country."""
        if not keyed:
            return []
        query = (
            select(Incident)
            .join(Observable, col(Observable.incident_id) == col(Incident.id))
            .where(
                col(Observable.keyed).in_(keyed),
                col(Incident.id) != incident.id,
                or_(
                    col(Incident.reporter_country).is_(None),
                    col(Incident.reporter_country) != (incident.reporter_country or ""),
                ),
            )
            .distinct()
        )
        return list(await self._s.scalars(query.order_by(col(Incident.number))))

    async def links_among(self, ids: list[int]) -> list[tuple[int, int]]:
        """The pairs of these incidents (by ID) known to share an indicator."""
        if len(ids) < 2:
            return []
        query = select(IncidentLink).where(
            col(IncidentLink.first).in_(ids), col(IncidentLink.second).in_(ids)
        )
        rows = await self._s.scalars(query.order_by(col(IncidentLink.first)))
        return [(r.first, r.second) for r in rows]

    async def link(self, a: Incident, b: Incident, *, now: datetime) -> bool:
        """Record that two incidents share an indicator; False when it was known already."""
        assert a.id is not None and b.id is not None
        first, second = sorted((a.id, b.id))
        if await self._s.get(IncidentLink, (first, second)) is not None:
            return False
        self._s.add(IncidentLink(first=first, second=second, found_at=now))
        await self._s.flush()
        return True
