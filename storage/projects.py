"""The register of projects and activities, and their progress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.counters import next_number
from storage.lists import member, pack
from storage.models import Project, ProjectUpdate

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
        )
        self._s.add(project)
        await self._s.flush()
        return project

    async def get(self, number: int) -> Project | None:
        return await self._s.scalar(select(Project).where(Project.number == number))

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
    ) -> list[Project]:
        """Projects in a country (its own or regional ones), on an item, or with a partner
        (leading or taking part; a word of its name is enough)."""
        query = select(Project).order_by(Project.number)
        if country is not None:
            query = query.where(
                or_(
                    Project.countries.like(member(country), escape="\\"),
                    Project.countries.like(member(REGIONAL), escape="\\"),
                )
            )
        if item is not None:
            query = query.where(Project.items.like(member(item), escape="\\"))
        if partner is not None:
            escaped = partner.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped.casefold()}%"
            query = query.where(
                or_(
                    Project.lead.ilike(pattern, escape="\\"),
                    Project.partners.ilike(pattern, escape="\\"),
                )
            )
        if active_only:
            query = query.where(Project.status.in_(ACTIVE))
        return list(await self._s.scalars(query))

    async def updates_between(self, start: datetime, end: datetime) -> list[ProjectUpdate]:
        query = (
            select(ProjectUpdate)
            .where(ProjectUpdate.at >= start, ProjectUpdate.at < end)
            .order_by(ProjectUpdate.id)
        )
        return list(await self._s.scalars(query))

    async def added_between(self, start: datetime, end: datetime) -> list[Project]:
        query = (
            select(Project)
            .where(Project.created_at >= start, Project.created_at < end)
            .order_by(Project.number)
        )
        return list(await self._s.scalars(query))
