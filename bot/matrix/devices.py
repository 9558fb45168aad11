"""Keeping the device lists right before encrypting, where nio alone gets it wrong.

nio marks a user "tracked" once their keys were queried, even when the answer had no devices
(someone queried while only invited, before their first login), and then never asks again:
messages would not reach that user's devices. Users who join, and members we know no devices
for, are queried again (at most every REQUERY_AFTER seconds per user).
"""

from __future__ import annotations

import logging
import time

from nio import AsyncClient, MatrixRoom

log = logging.getLogger(__name__)

REQUERY_AFTER = 10.0


class DeviceTracker:
    def __init__(self, client: AsyncClient) -> None:
        self.client = client
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
