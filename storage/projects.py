"""The register of projects and activities, and their progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Text, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from storage.columns import utc_column
from storage.counters import next_number
from storage.lists import member, pack


class Project(SQLModel, table=True):
    """A project or activity that closes gaps: who leads it, with whom, where, on what."""

    __tablename__ = "project"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(max_length=300)
    lead: str = Field(max_length=200)
    partners: str = Field(default=",", max_length=1000)  # storage.lists
    funding: str = Field(default="", max_length=300)
    countries: str = Field(default=",", max_length=200)  # codes, or `,regional,`
    items: str = Field(default=",", max_length=1000)  # catalogue item IDs
    target: str | None = Field(default=None, max_length=7)  # YYYY-MM
    status: str = Field(default="planned", max_length=16)
    version: int  # the catalogue version its items are from
    created_by: str = Field(max_length=255)
    tlp: str = Field(default="amber", max_length=16)  # said without a label: AMBER
    origin_room: str | None = Field(default=None, max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    event_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column(index=True))
    # Its target kept (commands.projects.targets): when its lead was reminded, and when it
    # was found overdue; each said once, for the target it had then.
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    overdue_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # A quick win (Action Plan, section 8): something to show early, by the plan's own word.
    quick_win: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, default=False)
    )


class ProjectUpdate(SQLModel, table=True):
    """Progress on a project: its status then, and a note."""

    __tablename__ = "project_update"

    id: int | None = Field(default=None, primary_key=True)
    project: int = Field(index=True)  # the project's number
    status: str = Field(max_length=16)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column(index=True))


REGIONAL = "regional"
ACTIVE = ("planned", "under-way", "stalled")


class ProjectStore:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(
        self,
        *,
        title: str,
        lead: str,
        partners: list[str],
        funding: str,
        countries: list[str],
        items: list[str],
        target: str | None,
        version: int,
        author: str,
        event_id: str | None,
        now: datetime,
        tlp: str = "amber",
        origin_room: str | None = None,
        said_to: str | None = None,
        quick_win: bool = False,
    ) -> Project:
        project = Project(
            number=await next_number(self._s, "project"),
            title=title,
            lead=lead,
            partners=pack(partners),
            funding=funding,
            countries=pack(countries),
            items=pack(items),
            target=target,
            version=version,
            tlp=tlp,
            origin_room=origin_room,
            said_to=said_to,
            created_by=author,
            event_id=event_id,
            created_at=now,
            updated_at=now,
            quick_win=quick_win,
        )
        self._s.add(project)
        await self._s.flush()
        return project

    async def get(self, number: int) -> Project | None:
        return await self._s.scalar(select(Project).where(col(Project.number) == number))

    async def update(
        self, project: Project, *, status: str, note: str, author: str,
        event_id: str | None, now: datetime,
    ) -> ProjectUpdate:  # fmt: skip
        project.status, project.updated_at = status, now
        update = ProjectUpdate(
            project=project.number, status=status, note=note, author=author,
            event_id=event_id, at=now,
        )  # fmt: skip
        self._s.add(update)
        await self._s.flush()
        return update

    async def find(
        self,
        *,
        country: str | None = None,
        item: str | None = None,
        partner: str | None = None,
        active_only: bool = False,
        quick_wins: bool = False,
    ) -> list[Project]:
        """Projects in a country (its own or regional ones), on an item, or with a partner
        (leading or taking part; a word of its name is enough)."""
        query = select(Project).order_by(col(Project.number))
        if country is not None:
            query = query.where(
                or_(
                    col(Project.countries).like(member(country), escape="\\"),
                    col(Project.countries).like(member(REGIONAL), escape="\\"),
                )
            )
        if item is not None:
            query = query.where(col(Project.items).like(member(item), escape="\\"))
        if partner is not None:
            escaped = partner.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped.casefold()}%"
            query = query.where(
                or_(
                    col(Project.lead).ilike(pattern, escape="\\"),
                    col(Project.partners).ilike(pattern, escape="\\"),
                )
            )
        if active_only:
            query = query.where(col(Project.status).in_(ACTIVE))
        if quick_wins:
            query = query.where(col(Project.quick_win).is_(True))
        return list(await self._s.scalars(query))

    async def with_targets(self) -> list[Project]:
        """Active projects with a target month, soonest first."""
        query = select(Project).where(
            col(Project.status).in_(ACTIVE), col(Project.target).is_not(None)
        )
        return list(await self._s.scalars(query.order_by(col(Project.target))))

    async def updates_between(self, start: datetime, end: datetime) -> list[ProjectUpdate]:
        query = (
            select(ProjectUpdate)
            .where(col(ProjectUpdate.at) >= start, col(ProjectUpdate.at) < end)
            .order_by(col(ProjectUpdate.id))
        )
        return list(await self._s.scalars(query))

    async def added_between(self, start: datetime, end: datetime) -> list[Project]:
        query = (
            select(Project)
            .where(col(Project.created_at) >= start, col(Project.created_at) < end)
            .order_by(col(Project.number))
        )
        return list(await self._s.scalars(query))
