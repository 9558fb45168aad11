"""Trust the sender, not just the account.

A command counts only from a device its owner cross-signed (unless `[security]
exclude_insecure_devices` is off); the first refused command from such a device is answered
with how to fix it, later ones are only audited. A member's cross-signing master key is
pinned on first sight; a new one is recorded as pending, the RCC room is told, and until the
chair confirms it (`!roster trust`) the member's privileged commands are refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from commands.framework import Input, Role
from commands.notices import JOB as NOTICES
from storage.db import Database
from storage.identities import Seen
from storage.roster import Member
from storage.stores import Stores

OPEN_COMMANDS = frozenset({"help", "whoami"})  # answered from any device: how to get right
TOLD = "told-unverified:{digest}"


class Senders:
    def __init__(
        self,
        db: Database,
        *,
        exclude_insecure: bool,
        wake: Callable[[str, int], None],
        vouched: dict[str, str],
    ) -> None:
        self.db, self.exclude_insecure, self.wake = db, exclude_insecure, wake
        self.vouched = vouched  # master keys the config vouches for
        self._pinned: dict[str, str] = {}  # user -> their pinned master key, as last read

    def device_refused(self, said: Input, command: str) -> bool:
        """A command from a device its owner has not cross-signed (help and whoami aside)."""
        return self.exclude_insecure and not said.master_key and command not in OPEN_COMMANDS

    async def first_refusal(self, store: Stores, said: Input, now: datetime) -> bool:
        """True the first time a device is refused: it is told then, and only then."""
        device = f"{said.sender}|{said.device_id}".encode()
        key = TOLD.format(digest=hashlib.sha256(device).hexdigest()[:40])
        if await store.state.get(key) is not None:
            return False
        await store.state.set(key, now.isoformat(), now=now)
        return True

    async def trusted(self, said: Input, member: Member | None, now: datetime) -> bool:
        """Whether a member's identity counts for privileged commands and TLP:RED."""
        if member is None or said.master_key is None:
            return not self.exclude_insecure or member is None
        user, key = said.sender, said.master_key
        if self._pinned.get(user) == key:
            return True
        async with self.db.unit() as store:
            if self.vouched.get(user) == key:
                await store.identities.confirm(user, now=now, key=key)
                seen = Seen.SAME
            else:
                seen = await store.identities.seen(user, key, event_id=said.event_id, now=now)
            if seen == Seen.CHANGED:
                chair = Role.CHAIR in member.roles
                data = {"user": user, "key": key, "kind": "rcc", "to": "rcc", "chair": chair}
                await store.notices.add("identity_changed", data, now=now)
        if seen == Seen.CHANGED:
            self.wake(NOTICES, 0)
        if seen in (Seen.FIRST, Seen.SAME):
            self._pinned[user] = key
            return True
        return False
