"""Whose devices are cross-signed by their owner, checked as Element checks it (MSC4153,
"exclude insecure devices"): the user's master key signs their self-signing key, which signs
the device. nio does not do this; the signatures are checked here with Ed25519, as for the
bot's own (bot.matrix.crosssign).

Trust follows the identity the bot *pinned* for a user, not whatever the homeserver
publishes now: someone with a member's password can publish a new master key and sign their
own device with it. A device counts when its owner's pinned self-signing key signed it (even
after the homeserver stopped publishing that key), or, for a user nothing is pinned for yet,
when the published chain holds. A device under another master key is reported with that
key, so the core can tell a changed identity from the pinned one.

The keys come from `/keys/query`, a user at a time or many at once, and are kept for a while;
a user whose device list changed (a sync says so) is asked again. The cache is bounded. What
a homeserver answers is data, never trusted to be well formed: a malformed answer makes that
user's devices count for nothing, is logged once per user, and never raises.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from nio import AsyncClient

from bot.matrix.crosssign import verify

log = logging.getLogger(__name__)

KEEP_FOR = 600.0  # seconds a user's cross-signing keys are trusted without asking again
MOST_USERS = 2000  # users whose keys are kept at once
ASK_AGAIN_AFTER = 10.0  # seconds between extra queries for a device not yet known
MOST_DEVICES = 1000  # devices of one user looked at; a longer list is someone's flood
KEY_CHARS = 128  # no Ed25519 key or signature in unpadded base64 is longer


@dataclass(frozen=True)
class Pin:
    """The identity pinned for a user: their master key and the self-signing key it signed."""

    master: str
    self_signing: str | None = None


# The pinned identity of a user (None: nothing pinned); what pins one on first sight.
Pins = Callable[[str], Awaitable[Pin | None]]
FirstSight = Callable[[str, str, str], Awaitable[None]]  # user, master key, self-signing key


async def _no_pin(_user: str) -> Pin | None:
    return None


async def _not_pinned(_user: str, _master: str, _ssk: str) -> None:
    return None


@dataclass(frozen=True)
class Sender:
    """The device an event came from, and the identity that cross-signed it."""

    device_id: str | None
    master_key: str | None  # the master key its owner signed it under, else None
    self_signing_key: str | None = None  # the self-signing key that signed it

    @property
    def cross_signed(self) -> bool:
        return self.master_key is not None


UNKNOWN = Sender(None, None)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _key(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= KEY_CHARS else None


def _only_key(obj: dict[str, Any], usage: str) -> str | None:
    """The one public key of a cross-signing key object made for `usage`."""
    usages = obj.get("usage")
    keys = _dict(obj.get("keys"))
    if not isinstance(usages, list) or usage not in usages or len(keys) != 1:
        return None
    ((key_id, public),) = keys.items()
    public = _key(public)
    return public if public is not None and key_id == f"ed25519:{public}" else None


def _signed(obj: dict[str, Any], user: str, by: str) -> bool:
    """Whether `obj` carries a valid signature of `user`'s key `by`."""
    signature = _key(_dict(_dict(obj.get("signatures")).get(user)).get(f"ed25519:{by}"))
    if signature is None:
        return False
    try:
        return verify(obj, by, signature)
    except (TypeError, ValueError):  # not canonical JSON, not base64
        return False


def device_of(keys: dict[str, Any], user: str, device_id: str, ed25519: str | None) -> dict:
    """The device's key object, when it is one (with this Ed25519 key, if given)."""
    device = _dict(_dict(_dict(keys.get("device_keys")).get(user)).get(device_id))
    own = _dict(device.get("keys"))
    if device.get("user_id") not in (None, user) or device.get("device_id") not in (
        None,
        device_id,
    ):
        return {}
    if ed25519 is not None and own.get(f"ed25519:{device_id}") != ed25519:
        return {}
    return device


def chain(
    keys: dict[str, Any], user: str, device_id: str, ed25519: str | None
) -> tuple[str, str] | None:
    """(master, self-signing key) when the published master key signs the published
    self-signing key, which signs this device (whose Ed25519 key must be `ed25519`)."""
    master = _only_key(_dict(_dict(keys.get("master_keys")).get(user)), "master")
    ssk_obj = _dict(_dict(keys.get("self_signing_keys")).get(user))
    ssk = _only_key(ssk_obj, "self_signing")
    device = device_of(keys, user, device_id, ed25519)
    if master is None or ssk is None or not device:
        return None
    if _signed(ssk_obj, user, master) and _signed(device, user, ssk):
        return master, ssk
    return None


def signer(
    keys: dict[str, Any], user: str, device_id: str, ed25519: str | None, pin: Pin | None
) -> tuple[str, str] | None:
    """The identity a device is signed under: the pinned one when the pinned self-signing
    key signed it (published or not any more), else the published chain, if it holds."""
    if pin is not None and pin.self_signing is not None:
        device = device_of(keys, user, device_id, ed25519)
        if device and _signed(device, user, pin.self_signing):
            return pin.master, pin.self_signing
    return chain(keys, user, device_id, ed25519)


class CrossSigningTrust:
    def __init__(
        self, client: AsyncClient, *, pins: Pins = _no_pin, first_sight: FirstSight = _not_pinned
    ) -> None:
        self.client = client
        self.pins, self.first_sight = pins, first_sight
        self._keys: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        # Checked devices, memoised with the pin they were checked against.
        self._signers: dict[tuple[str, str, str | None, Pin | None], tuple[str, str] | None] = {}
        self._asked_again: OrderedDict[str, float] = OrderedDict()
        self._malformed: OrderedDict[str, None] = OrderedDict()  # users logged once

    def forget(self, users: Iterable[str]) -> None:
        """Users whose devices or keys changed (a sync says so): ask again next time."""
        gone = set(users)
        for user in gone:
            self._keys.pop(user, None)
        self._forget_signers(gone)

    async def sender(self, event: Any, room_id: str) -> Sender:
        """Who sent an encrypted event, from which device, signed under which identity.

        The device is the one whose Curve25519 key set up the Megolm session and whose
        Ed25519 key the session names, looked up in the homeserver's own answer (not in nio's
        device store, which may not know a new device yet)."""
        olm = self.client.olm
        if olm is None or not getattr(event, "decrypted", False) or not event.sender_key:
            return UNKNOWN
        session = olm.inbound_group_store.get(room_id, event.sender_key, event.session_id)
        if session is None or session.forwarding_chain:
            return UNKNOWN  # a key forwarded by someone else proves nothing of the sender
        user, curve, ed25519 = event.sender, event.sender_key, session.ed25519
        keys = await self.keys_of([user])
        device_id = _device(keys.get(user, {}), user, curve, ed25519)
        if device_id is None and self._may_ask_again(user):
            self.forget([user])  # a device newer than what was kept
            keys = await self.keys_of([user])
            device_id = _device(keys.get(user, {}), user, curve, ed25519)
        if device_id is None:
            return UNKNOWN
        found = await self.signer_of(keys.get(user, {}), user, device_id, ed25519)
        if found is None:
            return Sender(device_id, None)
        return Sender(device_id, *found)

    async def counts(self, keys: dict[str, Any], user: str, device_id: str, ed25519: str) -> bool:
        """Whether the bot's room keys may go to this device: signed under the pinned
        identity (a member seen for the first time is pinned now)."""
        found = await self.signer_of(keys, user, device_id, ed25519)
        if found is None:
            return False
        pin = await self.pins(user)
        if pin is None:
            await self.first_sight(user, *found)
            pin = await self.pins(user)
        return pin is None or found[0] == pin.master

    async def signer_of(
        self, keys: dict[str, Any], user: str, device_id: str, ed25519: str | None
    ) -> tuple[str, str] | None:
        """`signer()` over a user's keys from `keys_of`, remembered until they change."""
        pin = await self.pins(user)
        memo = (user, device_id, ed25519, pin)
        if memo not in self._signers:
            if len(self._signers) >= MOST_USERS * 10:
                self._signers.clear()
            found = signer(keys, user, device_id, ed25519, pin)
            if found is None and keys:
                self._note_malformed(keys, user)
            self._signers[memo] = found
        return self._signers[memo]

    def _note_malformed(self, keys: dict[str, Any], user: str) -> None:
        """Log once per user that their published keys are not well formed (a hostile or
        broken homeserver); a device merely not signed is not worth a line."""
        master = _dict(_dict(keys.get("master_keys")).get(user))
        if not master or _only_key(master, "master") is not None or user in self._malformed:
            return
        self._malformed[user] = None
        while len(self._malformed) > MOST_USERS:
            self._malformed.popitem(last=False)
        log.warning("the cross-signing keys published for a user are malformed; not trusted")

    def _may_ask_again(self, user: str) -> bool:
        """At most one extra key query per user every ASK_AGAIN_AFTER seconds: a flood of
        messages from unknown devices does not become a flood of queries."""
        now = time.monotonic()
        if now - self._asked_again.get(user, -ASK_AGAIN_AFTER) < ASK_AGAIN_AFTER:
            return False
        self._asked_again[user] = now
        self._asked_again.move_to_end(user)
        while len(self._asked_again) > MOST_USERS:
            self._asked_again.popitem(last=False)
        return True

    async def keys_of(self, users: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each user's keys as `/keys/query` gives them (one request for all not kept)."""
        now = time.monotonic()
        wanted = sorted(set(users))
        missing = [u for u in wanted if u not in self._keys or now - self._keys[u][0] > KEEP_FOR]
        if missing:
            answer = await self._query(missing)
            if answer is not None:  # a failed query is asked again next time
                for user in missing:
                    self._keys[user] = (now, of_user(answer, user))
                    self._keys.move_to_end(user)
                self._forget_signers(set(missing))
            while len(self._keys) > MOST_USERS:
                self._keys.popitem(last=False)
        return {u: self._keys[u][1] for u in wanted if u in self._keys}

    def _forget_signers(self, gone: set[str]) -> None:
        if gone:
            self._signers = {k: v for k, v in self._signers.items() if k[0] not in gone}

    async def _query(self, users: list[str]) -> dict[str, Any] | None:
        body = json.dumps({"device_keys": {u: [] for u in users}})
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        try:
            response = await self.client.send(
                "POST", "/_matrix/client/v3/keys/query", body, headers
            )
            if response.status != 200:
                raise OSError(f"status {response.status}")
            answer = await response.json()
        except (OSError, ValueError, aiohttp.ClientError) as exc:
            log.warning("cross-signing keys could not be fetched (%s)", exc)
            return None
        return answer if isinstance(answer, dict) else {}


def _device(keys: dict[str, Any], user: str, curve: str, ed25519: str) -> str | None:
    """The ID of the user's device with these two keys, if the homeserver lists it."""
    devices = _dict(_dict(keys.get("device_keys")).get(user))
    for n, (device_id, device) in enumerate(devices.items()):
        if n >= MOST_DEVICES:
            break
        own = _dict(_dict(device).get("keys"))
        if (
            own.get(f"curve25519:{device_id}") == curve
            and own.get(f"ed25519:{device_id}") == ed25519
        ):
            return device_id
    return None


def of_user(answer: dict[str, Any], user: str) -> dict[str, Any]:
    """One user's part of a `/keys/query` answer (parts that are not objects are dropped)."""
    return {
        part: {user: _dict(answer.get(part))[user]}
        for part in ("master_keys", "self_signing_keys", "device_keys")
        if user in _dict(answer.get(part))
    }
