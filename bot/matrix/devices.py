"""Keeping the device lists right before encrypting, where nio alone gets it wrong, and
sharing room keys only with devices their owner cross-signed.

nio marks a user "tracked" once their keys were queried, even when the answer had no devices
(someone queried while only invited, before their first login), and then never asks again:
messages would not reach that user's devices. Users who join, and members we know no devices
for, are queried again (at most every REQUERY_AFTER seconds per user).

With `exclude_insecure`, as in Element's "exclude insecure devices" mode, a device that is not
signed under its owner's *pinned* identity (bot.matrix.trust) is blacklisted in nio before
each message is encrypted, so it never receives the room key: a device its owner did not
cross-sign, and a device signed under a master key someone published with the owner's
password, until the chair confirms it. A device that counts again is taken off the list.
Either change makes nio start a new Megolm session for the rooms concerned. A member whose
keys cannot be fetched right now keeps the devices' standing as it was.
"""

from __future__ import annotations

import logging
import time

from nio import AsyncClient, MatrixRoom

from bot.matrix.trust import CrossSigningTrust

log = logging.getLogger(__name__)

REQUERY_AFTER = 10.0


class DeviceTracker:
    def __init__(self, client: AsyncClient, trust: CrossSigningTrust | None = None) -> None:
        self.client = client
        self.trust = trust  # None: share with every device, cross-signed or not
        self._asked: dict[str, float] = {}

    def member_joined(self, user_id: str) -> None:
        if user_id != self.client.user_id and self.client.olm is not None:
            self.client.olm.users_for_key_query.add(user_id)

    async def prepare(self, room: MatrixRoom) -> None:
        """Query keys for members without known devices, before a message to `room`."""
        if not room.encrypted or self.client.olm is None:
            return
        now = time.monotonic()
        store = self.client.device_store
        for user_id in room.users:
            if user_id == self.client.user_id or any(store.active_user_devices(user_id)):
                continue
            if now - self._asked.get(user_id, -REQUERY_AFTER) >= REQUERY_AFTER:
                self._asked[user_id] = now
                self.client.olm.users_for_key_query.add(user_id)
        await self.sync_keys()
        if self.trust is not None:
            await self._exclude_insecure(room)

    async def _exclude_insecure(self, room: MatrixRoom) -> None:
        assert self.trust is not None
        users = [u for u in room.users if u != self.client.user_id]
        known = await self.trust.keys_of(users)
        client, store = self.client, self.client.device_store
        for user_id in users:
            if user_id not in known:
                continue  # not fetched: nothing changes until it is
            for device in store.active_user_devices(user_id):
                counts = await self.trust.counts(
                    known[user_id], user_id, device.id, device.ed25519
                )
                if not counts and not device.blacklisted:
                    log.info("room keys withheld from %s's device %s (not signed under the "
                             "pinned identity)", user_id, device.id)  # fmt: skip
                    client.blacklist_device(device)
                elif counts and device.blacklisted:
                    client.unblacklist_device(device)

    async def sync_keys(self) -> None:
        """Upload, query and claim keys as nio says it needs; errors are retried later."""
        client = self.client
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
