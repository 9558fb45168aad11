"""Trust the sender, not just the account.

A command counts only from a device signed under its owner's pinned identity (unless
`[security] exclude_insecure_devices` is off, when unsigned devices count too). A member's
cross-signing master key is pinned on first sight, with the self-signing key it signed; a
device under another master key — a reset identity, or someone with the member's password
who published their own — is answered like an unverified session (`!help` and `!whoami`,
nothing else), the RCC room is told, and it stays so until the chair confirms the new key's
fingerprint (`!roster trust @user <fingerprint>`). The owner's devices signed under the
pinned key keep counting meanwhile. The first refused command from a device is answered with
how to fix it; later ones are only audited.

`PinBook` keeps the pinned identities in memory for the Matrix side, which shares room keys
only with devices signed under them; it reads them again whenever a change committed.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from bot.matrix.trust import Pin
from commands.framework import Input, Role, Signal
from storage.db import Database
from storage.identities import Seen
from storage.roster import Member
from storage.stores import Stores

OPEN_COMMANDS = frozenset({"help", "whoami"})  # answered from any device: how to get right
TOLD = "told-unverified:{digest}"
MOST_STRANGERS = 2000  # users known not to be on the roster, remembered at once


class Standing(StrEnum):
    """Whether commands from one device count."""

    COUNTS = "counts"
    UNSIGNED = "unsigned"  # its owner has not cross-signed it
    PENDING = "pending"  # signed under a new identity that awaits the chair


class PinBook:
    """The pinned identities, in memory; read again once a change of them committed."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock
        self._pins: dict[str, Pin] | None = None
        self._generation = -1
        self._strangers: OrderedDict[str, int] = OrderedDict()  # user -> roster generation

    async def get(self, user: str) -> Pin | None:
        if self._pins is None or self._generation != self.db.identity_generation:
            generation = self.db.identity_generation
            async with self.db.unit(write=False) as store:
                rows = await store.identities.all()
            self._pins = {r.user_id: Pin(r.master_key, r.self_signing_key) for r in rows}
            self._generation = generation
        return self._pins.get(user)

    async def first_sight(self, user: str, master: str, ssk: str) -> None:
        """The Matrix side saw a roster member's published identity before any command of
        theirs: pinned now, as it would be at their first command."""
        if self._strangers.get(user) == self.db.roster_generation:
            return
        async with self.db.unit() as store:
            if await store.roster.member(user) is None:
                self._strangers[user] = self.db.roster_generation
                self._strangers.move_to_end(user)
                while len(self._strangers) > MOST_STRANGERS:
                    self._strangers.popitem(last=False)
                return
            if await store.identities.get(user) is None:
                await store.identities.seen(user, master, ssk, event_id=None, now=self.clock())


class Senders:
    def __init__(
        self,
        db: Database,
        *,
        exclude_insecure: bool,
        signal: Callable[[Signal], None],
        vouched: dict[str, str],
        clock: Callable[[], datetime],
    ) -> None:
        self.db, self.exclude_insecure, self.signal = db, exclude_insecure, signal
        self.vouched = vouched  # master keys the config vouches for
        self.pins = PinBook(db, clock)

    def refused(self, standing: Standing, command: str) -> bool:
        """Whether a command from a device of this standing is refused (help, whoami aside)."""
        return standing != Standing.COUNTS and command not in OPEN_COMMANDS

    def unsigned(self, said: Input) -> bool:
        """A device its owner has not cross-signed, where that matters: no database read."""
        return self.exclude_insecure and not said.master_key

    async def first_refusal(self, store: Stores, said: Input, now: datetime) -> bool:
        """True the first time a device is refused: it is told then, and only then."""
        device = f"{said.sender}|{said.device_id}|{said.master_key}".encode()
        key = TOLD.format(digest=hashlib.sha256(device).hexdigest()[:40])
        if await store.state.get(key) is not None:
            return False
        await store.state.set(key, now.isoformat(), now=now)
        return True

    async def standing(self, said: Input, member: Member | None, now: datetime) -> Standing:
        """Whether commands from the device `said` came from count: cross-signed (where the
        config asks it), and for a member, under the identity pinned for them."""
        if self.unsigned(said):
            return Standing.UNSIGNED
        if member is None or said.master_key is None:
            return Standing.COUNTS
        user, key = said.sender, said.master_key
        pin = await self.pins.get(user)
        known = pin is not None and pin.master == key
        if known and ((pin and pin.self_signing) or not said.self_signing_key):
            return Standing.COUNTS  # (else the self-signing key it signed is kept first)
        async with self.db.unit() as store:
            seen = await self._seen(store, said, member, now)
        if seen == Seen.CHANGED:
            self.signal(Signal.NOTICE)
        return Standing.COUNTS if seen in (Seen.FIRST, Seen.SAME) else Standing.PENDING

    async def _seen(self, store: Stores, said: Input, member: Member, now: datetime) -> Seen:
        user, key = said.sender, said.master_key
        assert key is not None
        if self.vouched.get(user) == key:
            await store.identities.vouch(user, key, now=now)
        seen = await store.identities.seen(
            user, key, said.self_signing_key, event_id=said.event_id, now=now
        )
        if seen == Seen.CHANGED:
            chair = Role.CHAIR in member.roles
            data = {"user": user, "key": key, "kind": "rcc", "to": "rcc", "chair": chair}
            await store.notices.add("identity_changed", data, now=now)
        return seen
