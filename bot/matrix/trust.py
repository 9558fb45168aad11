"""Whose devices are cross-signed by their owner, checked as Element checks it (MSC4153,
"exclude insecure devices"): the user's master key signs their self-signing key, which signs
the device. nio does not do this; the signatures are checked here with Ed25519, as for the
bot's own (bot.matrix.crosssign).

The keys come from `/keys/query`, a user at a time or many at once, and are kept for a while;
a user whose device list changed (a sync says so) is asked again. The cache is bounded.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aiohttp
from nio import AsyncClient

from bot.matrix.crosssign import verify

log = logging.getLogger(__name__)

KEEP_FOR = 600.0  # seconds a user's cross-signing keys are trusted without asking again
MOST_USERS = 2000  # users whose keys are kept at once
ASK_AGAIN_AFTER = 10.0  # seconds between extra queries for a device not yet known


@dataclass(frozen=True)
class Sender:
    """The device an event came from, and whether its owner cross-signed it."""

    device_id: str | None
    master_key: str | None  # the owner's master key when the chain holds, else None

    @property
    def cross_signed(self) -> bool:
        return self.master_key is not None


UNKNOWN = Sender(None, None)


def chain(keys: dict[str, Any], user: str, device_id: str, ed25519: str | None) -> str | None:
    """The user's master key if it signs their self-signing key, which signs this device
    (whose Ed25519 key must be `ed25519`, the one its messages were sent with)."""
    try:
        master_obj = keys["master_keys"][user]
        ssk_obj = keys["self_signing_keys"][user]
        device = keys["device_keys"][user][device_id]
    except KeyError:
        return None
    if "master" not in master_obj.get("usage", ()) or "self_signing" not in ssk_obj.get(
        "usage", ()
    ):
        return None
    (master,) = master_obj["keys"].values()
    (ssk,) = ssk_obj["keys"].values()
    if ed25519 is not None and device.get("keys", {}).get(f"ed25519:{device_id}") != ed25519:
        return None
    ssk_signature = ssk_obj.get("signatures", {}).get(user, {}).get(f"ed25519:{master}")
    device_signature = device.get("signatures", {}).get(user, {}).get(f"ed25519:{ssk}")
    if not ssk_signature or not device_signature:
        return None
    if verify(ssk_obj, master, ssk_signature) and verify(device, ssk, device_signature):
        return master
    return None


class CrossSigningTrust:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self._keys: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._chains: dict[tuple[str, str, str], str | None] = {}  # checked chains, memoised
        self._asked_again: OrderedDict[str, float] = OrderedDict()

    def forget(self, users: Iterable[str]) -> None:
        """Users whose devices or keys changed (a sync says so): ask again next time."""
        gone = set(users)
        for user in gone:
            self._keys.pop(user, None)
        self._forget_chains(gone)

    async def sender(self, event: Any, room_id: str) -> Sender:
        """Who sent an encrypted event, from which device, and whether it counts.

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
        return Sender(device_id, self.master_of(keys.get(user, {}), user, device_id, ed25519))

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

    def master_of(
        self, keys: dict[str, Any], user: str, device_id: str, ed25519: str
    ) -> str | None:
        """`chain()` over a user's keys from `keys_of`, remembered until they change."""
        memo = (user, device_id, ed25519)
        if memo not in self._chains:
            self._chains[memo] = chain(keys, user, device_id, ed25519)
        return self._chains[memo]

    async def keys_of(self, users: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Each user's keys as `/keys/query` gives them (one request for all not kept)."""
        now = time.monotonic()
        wanted = sorted(set(users))
        missing = [u for u in wanted if u not in self._keys or now - self._keys[u][0] > KEEP_FOR]
        if missing:
            answer = await self._query(missing)
            if answer is not None:  # a failed query is asked again next time
                for user in missing:
                    self._keys[user] = (now, _of_user(answer, user))
                    self._keys.move_to_end(user)
                self._forget_chains(set(missing))
            while len(self._keys) > MOST_USERS:
                self._keys.popitem(last=False)
        return {u: self._keys[u][1] for u in wanted if u in self._keys}

    def _forget_chains(self, gone: set[str]) -> None:
        if gone:
            self._chains = {k: v for k, v in self._chains.items() if k[0] not in gone}

    async def _query(self, users: list[str]) -> dict[str, Any] | None:
        body = json.dumps({"device_keys": {u: [] for u in users}})
        headers = {"Authorization": f"Bearer {self.client.access_token}"}
        try:
            response = await self.client.send(
                "POST", "/_matrix/client/v3/keys/query", body, headers
            )
            if response.status != 200:
                raise OSError(f"status {response.status}")
            return await response.json()
        except (OSError, ValueError, aiohttp.ClientError) as exc:
            log.warning("cross-signing keys could not be fetched (%s)", exc)
            return None


def _device(keys: dict[str, Any], user: str, curve: str, ed25519: str) -> str | None:
    """The ID of the user's device with these two keys, if the homeserver lists it."""
    for device_id, device in keys.get("device_keys", {}).get(user, {}).items():
        own = device.get("keys", {})
        if (
            own.get(f"curve25519:{device_id}") == curve
            and own.get(f"ed25519:{device_id}") == ed25519
        ):
            return device_id
    return None


def _of_user(answer: dict[str, Any], user: str) -> dict[str, Any]:
    return {
        part: {user: answer[part][user]}
        for part in ("master_keys", "self_signing_keys", "device_keys")
        if user in answer.get(part, {})
    }
