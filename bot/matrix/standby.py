"""A standby node's sync: its room keys, and nothing of the rooms.

While another node acts, this device must still receive the room keys that members' clients
(and the active node) send it, and keep one-time keys on the homeserver for them; otherwise,
on taking over, it could read nothing said before. So it syncs with a filter that leaves out
every room, keeps its own position (`keep`), and handles no event. `drain()` reads what is
waiting, once, just before the node takes over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from nio import AsyncClient, SyncResponse

from bot.matrix.backoff import NETWORK_ERRORS, Backoff, retry_after
from bot.matrix.devices import DeviceTracker

log = logging.getLogger(__name__)

KEYS_ONLY: dict[str, dict[str, list]] = {
    "room": {"rooms": []},
    "presence": {"types": []},
    "account_data": {"types": []},
}
LONG_POLL_MS = 10_000


class KeysOnly:
    def __init__(
        self,
        client: AsyncClient,
        devices: DeviceTracker,
        *,
        recall: Callable[[], Awaitable[str | None]],
        keep: Callable[[str], Awaitable[None]],
    ) -> None:
        self.client, self.devices, self.recall, self.keep = client, devices, recall, keep
        self.sync_ok = False
        self.syncs = 0

    async def run(self) -> None:
        """Sync for keys until cancelled."""
        backoff = Backoff()
        while True:
            if await self.once(LONG_POLL_MS):
                backoff.reset()
            else:
                await asyncio.sleep(backoff.next_delay())

    async def drain(self) -> bool:
        """What is waiting for this device now, read once."""
        return await self.once(0)

    async def once(self, timeout_ms: int) -> bool:
        token = await self.recall()
        try:
            response = await self.client.sync(
                timeout=timeout_ms, since=token, sync_filter=KEYS_ONLY, full_state=token is None
            )
        except NETWORK_ERRORS as exc:
            log.warning("standby sync failed: %s", type(exc).__name__)
            response = None
        self.sync_ok = isinstance(response, SyncResponse)
        if not isinstance(response, SyncResponse):
            wait = retry_after(response) if response is not None else None
            if wait:
                await asyncio.sleep(wait)
            return False
        self.syncs += 1
        await self._keys()
        await self.keep(response.next_batch)
        return True

    async def _keys(self) -> None:
        try:
            await self.devices.sync_keys()  # one-time keys topped up, as the bot does
        except NETWORK_ERRORS as exc:
            log.warning("standby key maintenance failed: %s", type(exc).__name__)
