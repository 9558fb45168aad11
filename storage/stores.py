"""The stores of one unit of work, all sharing its session (and so its transaction)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import AuditStore
from storage.broadcasts import BroadcastStore
from storage.catalogue import CatalogueStore
from storage.corrections import CorrectionStore
from storage.deadlines import DeadlineStore
from storage.digests import DigestStore
from storage.events import EventStore
from storage.identities import IdentityStore
from storage.incidents import IncidentStore
from storage.lessons import LessonStore
from storage.meetings import MeetingStore
from storage.motions import MotionStore
from storage.notices import NoticeStore
from storage.outbox import OutboxStore
from storage.projects import ProjectStore
from storage.resources import ResourceStore
from storage.rooms import RoomStore
from storage.roster import RosterStore
from storage.state import StateCache, StateStore
from storage.status import StatusStore
from storage.undecrypted import UndecryptedStore

S = TypeVar("S")


class Stores:
    """Entry point handed to handlers: `store.roster`, `store.audit`, ... share one transaction."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        roster_cache: dict | None = None,
        state_cache: StateCache | None = None,
    ) -> None:
        self._session = session
        self._roster_cache = roster_cache
        self._state_cache = state_cache
        self._began = state_cache.generation if state_cache else 0  # for the state cache
        self._more: dict[Callable[[AsyncSession], Any], Any] = {}

    def of(self, kind: Callable[[AsyncSession], S]) -> S:
        """The store of a concept this class does not list (a new family's own:
        `store.of(RequestStore)`): one per unit of work, sharing its transaction."""
        if kind not in self._more:
            self._more[kind] = kind(self._session)
        return cast(S, self._more[kind])

    @cached_property
    def roster(self) -> RosterStore:
        return RosterStore(self._session, self._roster_cache)

    @property
    def roster_changed(self) -> bool:
        return "roster" in self.__dict__ and self.roster.changed

    @cached_property
    def events(self) -> EventStore:
        return EventStore(self._session)

    @cached_property
    def audit(self) -> AuditStore:
        return AuditStore(self._session)

    @cached_property
    def outbox(self) -> OutboxStore:
        return OutboxStore(self._session)

    @cached_property
    def state(self) -> StateStore:
        return StateStore(self._session, self._state_cache, began=self._began)

    @property
    def state_written(self) -> set[str]:
        return self.state.written if "state" in self.__dict__ else set()

    @cached_property
    def undecrypted(self) -> UndecryptedStore:
        return UndecryptedStore(self._session)

    @cached_property
    def rooms(self) -> RoomStore:
        return RoomStore(self._session)

    @cached_property
    def status(self) -> StatusStore:
        return StatusStore(self._session)

    @cached_property
    def incidents(self) -> IncidentStore:
        return IncidentStore(self._session)

    @cached_property
    def lessons(self) -> LessonStore:
        return LessonStore(self._session)

    @cached_property
    def resources(self) -> ResourceStore:
        return ResourceStore(self._session)

    @cached_property
    def deadlines(self) -> DeadlineStore:
        return DeadlineStore(self._session)

    @cached_property
    def digests(self) -> DigestStore:
        return DigestStore(self._session)

    @cached_property
    def broadcasts(self) -> BroadcastStore:
        return BroadcastStore(self._session)

    @cached_property
    def notices(self) -> NoticeStore:
        return NoticeStore(self._session)

    @cached_property
    def identities(self) -> IdentityStore:
        return IdentityStore(self._session)

    @property
    def identities_changed(self) -> bool:
        return "identities" in self.__dict__ and self.identities.changed

    @cached_property
    def corrections(self) -> CorrectionStore:
        return CorrectionStore(self._session)

    @cached_property
    def catalogue(self) -> CatalogueStore:
        return CatalogueStore(self._session)

    @cached_property
    def motions(self) -> MotionStore:
        return MotionStore(self._session)

    @cached_property
    def projects(self) -> ProjectStore:
        return ProjectStore(self._session)

    @cached_property
    def meetings(self) -> MeetingStore:
        return MeetingStore(self._session)


def register_all() -> None:
    """Import every module of `storage`, so that every concept's tables are on
    `SQLModel.metadata` (for the migrations and the schema check), listed here or not."""
    import storage

    for module in pkgutil.iter_modules(storage.__path__):
        if module.name != "migrations":
            importlib.import_module(f"storage.{module.name}")
