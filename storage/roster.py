"""The roster: who holds which role, and for which country."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column


class RosterEntry(SQLModel, table=True):
    """One role held by one Matrix user; an NCPOC entry is bound to one country."""

    __tablename__ = "roster"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_roster_user_role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=255, index=True)
    role: str = Field(max_length=16)
    country: str | None = Field(default=None, max_length=2, index=True)
    added_by: str = Field(max_length=255)
    added_at: datetime = Field(sa_column=utc_column())
    # A national contact's details (NCPOCs have them too): see commands.contacts.
    kind: str | None = Field(default=None, max_length=16)  # cirt | le-24x7 | oas-cicte | other
    rank: str | None = Field(default=None, max_length=16)  # an NCPOC's: primary | alternate
    agency: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)  # E.164
    lang: str | None = Field(default=None, max_length=8)
    # Their own time zone, as their Matrix profile's `m.tz` gives it (bot.matrix.profiles):
    # written on each of their entries; the times in their DMs are in it.
    tz: str | None = Field(default=None, max_length=64)
    confirmed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    away_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    away_to: str | None = Field(default=None, max_length=255)
    # A phone or email changed by someone else: marked in the chair's escalation notices.
    changed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    changed_by: str | None = Field(default=None, max_length=255)


class RosterSeed(SQLModel, table=True):
    """The config file's roster as last applied, so config edits apply once as changes."""

    __tablename__ = "roster_seed"

    user_id: str = Field(max_length=255, primary_key=True)
    role: str = Field(max_length=16, primary_key=True)
    country: str | None = Field(default=None, max_length=2)
    details: str = Field(
        default="{}", sa_column=Column(Text, nullable=False, server_default="{}")
    )  # JSON: the contact details the config gave


class ContactCheck(SQLModel, table=True):
    """One step of a contact's re-confirmation cycle (asked, then their NCPOC, then the
    chair), once per cycle: the cycle is named by when the confirmation fell due."""

    __tablename__ = "contact_check"
    __table_args__ = (UniqueConstraint("user_id", "due_at", "stage", name="uq_contact_check"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=255)
    due_at: datetime = Field(sa_column=utc_column())
    stage: str = Field(max_length=16)  # asked | ncpoc | chair
    at: datetime = Field(sa_column=utc_column())


@dataclass(frozen=True)
class Member:
    """Everything the roster says about one user."""

    user_id: str
    roles: frozenset[str]
    country: str | None
    lang: str | None = None  # the language they read, when they chose one
    tz: str | None = None  # their profile's time zone, when it gives one


# A national contact's details, as columns of the entry (see commands.contacts).
DETAIL_FIELDS = ("kind", "rank", "agency", "title", "email", "phone", "lang")
NATIONAL_ROLES = ("ncpoc", "contact")


@dataclass(frozen=True)
class SeedEntry:
    user_id: str
    role: str
    country: str | None
    details: tuple[tuple[str, str], ...] = ()  # (field, value) pairs, sorted


@dataclass(frozen=True)
class SeedResult:
    added: list[SeedEntry]
    removed: list[SeedEntry]


MOST_CACHED = 1000  # users whose roster standing is remembered at once


def _member(user_id: str, rows: list[RosterEntry]) -> Member | None:
    """One user's standing from their roster entries (None: not on the roster)."""
    if not rows:
        return None
    # An NCPOC speaks for the country of their NCPOC entry, whatever else they hold.
    country = next((r.country for r in rows if r.role == "ncpoc" and r.country), None)
    country = country or next((r.country for r in rows if r.country), None)
    lang = next((r.lang for r in rows if r.lang), None)
    tz = next((r.tz for r in rows if r.tz), None)
    return Member(user_id, frozenset(r.role for r in rows), country, lang, tz)


class RosterStore:
    """`cache`, shared by the units of one Database, answers `member()` without a query; any
    change clears it (and the Database clears it again once the change is committed)."""

    def __init__(self, session: AsyncSession, cache: dict | None = None) -> None:
        self._s = session
        self._cache = cache if cache is not None else {}
        self.changed = False

    def _changing(self) -> None:
        self.changed = True
        self._cache.clear()

    async def entries(self) -> list[RosterEntry]:
        """Every entry, grouped by role then country then user."""
        query = select(RosterEntry).order_by(
            col(RosterEntry.role), col(RosterEntry.country), col(RosterEntry.user_id)
        )
        return list(await self._s.scalars(query))

    async def member(self, user_id: str) -> Member | None:
        """The roles and country of one user, or None when not on the roster."""
        if not self.changed and user_id in self._cache:
            return self._cache[user_id]
        return (await self._members([user_id]))[user_id]

    async def warm(self, user_ids: Iterable[str]) -> None:
        """Read the standing of many users in one query, so that `member()` then asks none
        (a broadcast's recipients, each written to in their language and zone)."""
        if self.changed:
            return
        wanted = sorted({u for u in user_ids if u not in self._cache})[:MOST_CACHED]
        if wanted:
            await self._members(wanted)

    async def _members(self, user_ids: list[str]) -> dict[str, Member | None]:
        query = select(RosterEntry).where(col(RosterEntry.user_id).in_(user_ids))
        if self.changed:  # this unit changed the roster: what it has pending is read too
            rows = list(await self._s.scalars(query))
        else:  # no autoflush: what the unit has pending is not the roster (a broadcast's
            with self._s.no_autoflush:  # DMs, inserted together at the unit's next flush)
                rows = list(await self._s.scalars(query))
        by_user: dict[str, list[RosterEntry]] = {user: [] for user in user_ids}
        for row in rows:
            by_user[row.user_id].append(row)
        found = {user: _member(user, entries) for user, entries in by_user.items()}
        if not self.changed:
            if len(self._cache) + len(found) > MOST_CACHED:  # strangers' IDs must not grow
                self._cache.clear()  # it for ever
            self._cache.update(found)
        return found

    async def ncpocs(self, country: str | None = None) -> list[RosterEntry]:
        """NCPOC entries, of one country or of all."""
        query = select(RosterEntry).where(col(RosterEntry.role) == "ncpoc")
        if country is not None:
            query = query.where(col(RosterEntry.country) == country)
        return list(
            await self._s.scalars(
                query.order_by(col(RosterEntry.country), col(RosterEntry.user_id))
            )
        )

    async def ncpocs_in(self, countries: list[str]) -> list[RosterEntry]:
        """NCPOC entries of several countries, in one query."""
        if not countries:
            return []
        query = select(RosterEntry).where(
            col(RosterEntry.role) == "ncpoc", col(RosterEntry.country).in_(countries)
        )
        return list(
            await self._s.scalars(
                query.order_by(col(RosterEntry.country), col(RosterEntry.user_id))
            )
        )

    async def national(self, country: str | None = None) -> list[RosterEntry]:
        """NCPOCs and national contacts, of one country or of all, NCPOCs first."""
        query = select(RosterEntry).where(col(RosterEntry.role).in_(NATIONAL_ROLES))
        if country is not None:
            query = query.where(col(RosterEntry.country) == country)
        query = query.order_by(
            col(RosterEntry.country),
            col(RosterEntry.role).desc(),
            col(RosterEntry.rank),
            col(RosterEntry.user_id),
        )
        return list(await self._s.scalars(query))

    async def national_of(self, user_id: str) -> list[RosterEntry]:
        """One person's NCPOC and contact entries."""
        query = select(RosterEntry).where(
            col(RosterEntry.user_id) == user_id, col(RosterEntry.role).in_(NATIONAL_ROLES)
        )
        return list(await self._s.scalars(query.order_by(col(RosterEntry.role).desc())))

    async def update_details(
        self,
        user_id: str,
        fields: dict[str, str | None],
        *,
        confirmed: datetime | None,
        changed_by: str | None = None,
        now: datetime | None = None,
    ) -> list[RosterEntry]:
        """Change a person's contact details (None clears one); `confirmed` also marks them
        confirmed; `changed_by` someone else changed how they are reached (phone or email),
        which the chair's call lists mark for a while. Returns the entries changed."""
        self._changing()  # a member's language is one of the details
        entries = await self.national_of(user_id)
        reach = changed_by is not None and any(
            getattr(e, f) != fields[f] for e in entries for f in ("phone", "email") if f in fields
        )
        for entry in entries:
            for name, value in fields.items():
                setattr(entry, _column(name), value)
            if confirmed is not None:
                entry.confirmed_at = confirmed
            if reach:
                entry.changed_at, entry.changed_by = now, changed_by
        await self._s.flush()
        return entries

    async def set_language(self, user_id: str, lang: str) -> None:
        """The language a person reads, on every entry of theirs."""
        self._changing()
        entries = await self._s.scalars(
            select(RosterEntry).where(col(RosterEntry.user_id) == user_id)
        )
        for entry in entries:
            entry.lang = lang
        await self._s.flush()

    async def set_zones(self, zones: dict[str, str | None]) -> list[str]:
        """Each person's own time zone (None: their profile gives none), on every entry of
        theirs; returns whose changed."""
        if not zones:
            return []
        entries = await self._s.scalars(
            select(RosterEntry).where(col(RosterEntry.user_id).in_(zones))
        )
        changed = {e.user_id for e in entries if e.tz != zones[e.user_id]}
        if not changed:
            return []
        self._changing()
        for entry in await self._s.scalars(
            select(RosterEntry).where(col(RosterEntry.user_id).in_(changed))
        ):
            entry.tz = zones[entry.user_id]
        await self._s.flush()
        return sorted(changed)

    async def set_away(self, user_id: str, until: datetime | None, to: str | None) -> None:
        for entry in await self.national_of(user_id):
            entry.away_until, entry.away_to = until, to
        await self._s.flush()

    async def checks(self) -> set[tuple[str, datetime, str]]:
        """Every logged step of re-confirmation: (user, due_at, stage)."""
        rows = await self._s.execute(
            select(col(ContactCheck.user_id), col(ContactCheck.due_at), col(ContactCheck.stage))
        )
        return {(u, d, s) for u, d, s in rows}

    async def log_check(self, user_id: str, due_at: datetime, stage: str, *, at: datetime) -> None:
        self._s.add(ContactCheck(user_id=user_id, due_at=due_at, stage=stage, at=at))
        await self._s.flush()

    async def count_ncpocs(self, country: str) -> int:
        query = select(func.count()).where(
            col(RosterEntry.role) == "ncpoc", col(RosterEntry.country) == country
        )
        return int(await self._s.scalar(query) or 0)

    async def find(self, user_id: str, role: str) -> RosterEntry | None:
        query = select(RosterEntry).where(
            col(RosterEntry.user_id) == user_id, col(RosterEntry.role) == role
        )
        return await self._s.scalar(query)

    async def add(
        self,
        *,
        user_id: str,
        role: str,
        country: str | None,
        added_by: str,
        now: datetime,
        details: dict[str, str] | None = None,
    ) -> RosterEntry:
        """Add one role to a user; the caller checks the domain rules first."""
        self._changing()
        entry = RosterEntry(
            user_id=user_id, role=role, country=country, added_by=added_by, added_at=now
        )
        for name, value in (details or {}).items():
            setattr(entry, _column(name), value)
        self._s.add(entry)
        await self._s.flush()
        return entry

    async def remove(self, user_id: str, role: str | None = None) -> list[RosterEntry]:
        """Remove a user's roles (one role, or all); returns what was removed."""
        self._changing()
        query = select(RosterEntry).where(col(RosterEntry.user_id) == user_id)
        if role is not None:
            query = query.where(col(RosterEntry.role) == role)
        removed = list(await self._s.scalars(query))
        for entry in removed:
            await self._s.delete(entry)
        await self._s.flush()
        return removed

    async def apply_seed(self, seed: list[SeedEntry], *, now: datetime) -> SeedResult:
        """Apply the config roster as changes since it was last applied.

        Entries new in the config are added; entries dropped from the config are removed.
        Entries unchanged in the config are left as commands have made them, so a member
        removed by `!roster remove` does not come back at the next start.
        """
        self._changing()
        previous = {
            SeedEntry(r.user_id, r.role, r.country, _pairs(json.loads(r.details or "{}")))
            for r in await self._s.scalars(select(RosterSeed))
        }
        current = set(seed)
        added = sorted(current - previous, key=_seed_key)
        removed = sorted(previous - current, key=_seed_key)
        kept = {_seed_key(e) for e in added}  # only their details or country changed
        for entry in removed:
            existing = await self.find(entry.user_id, entry.role)
            if (
                existing is not None
                and existing.country == entry.country
                and _seed_key(entry) not in kept
            ):
                await self._s.delete(existing)
        await self._s.flush()
        for entry in added:
            await self._seeded(entry, now)
        await self._s.execute(delete(RosterSeed))
        self._s.add_all(
            RosterSeed(
                user_id=e.user_id,
                role=e.role,
                country=e.country,
                details=json.dumps(dict(e.details), sort_keys=True),
            )
            for e in seed
        )
        await self._s.flush()
        return SeedResult(added, removed)

    async def _seeded(self, entry: SeedEntry, now: datetime) -> None:
        """One entry new or changed in the config: its country and details as the config
        says them now, or a new entry."""
        existing = await self.find(entry.user_id, entry.role)
        if existing is None:
            await self.add(
                user_id=entry.user_id,
                role=entry.role,
                country=entry.country,
                added_by="config",
                now=now,
                details=dict(entry.details),
            )
            return
        existing.country = entry.country
        for name in DETAIL_FIELDS:
            setattr(existing, name, None)
        for name, value in entry.details:
            setattr(existing, _column(name), value)


def _seed_key(entry: SeedEntry) -> tuple[str, str]:
    return entry.user_id, entry.role


def _pairs(details: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in details.items() if v is not None))


def _column(name: str) -> str:
    if name not in DETAIL_FIELDS:
        raise ValueError(f"no contact detail named {name!r}")
    return name
