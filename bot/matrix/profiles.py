"""People's own time zones, read from their Matrix profiles.

Element writes a person's zone into their profile (`m.tz`, spec 1.16; `us.cloke.msc4175.tz`
before it was stable). Profile fields other than the name and avatar reach no room, so no
sync tells of a change: the profiles of the people the core wants are read when the bot
starts and every `EVERY` after. A profile that cannot be read (the network, a homeserver that
refuses) leaves what is known as it is; a profile without a zone clears it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from nio import AsyncClient, ProfileGetError, ProfileGetResponse

from bot.matrix.backoff import NETWORK_ERRORS
from bot.matrix.ports import Profiles

log = logging.getLogger(__name__)

ZONE_FIELDS = ("m.tz", "us.cloke.msc4175.tz")
EVERY = 6 * 3600.0
ABSENT = frozenset({"M_NOT_FOUND"})  # no such profile: nothing to say of its zone


def zone_in(fields: dict) -> str | None:
    """The zone a profile's fields give, as written (the core checks it names a zone)."""
    for name in ZONE_FIELDS:
        value = fields.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class ProfileWatch:
    def __init__(
        self,
        client: AsyncClient,
        profiles: Profiles,
        *,
        every: float = EVERY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.client, self.profiles, self.every, self.sleep = client, profiles, every, sleep

    async def run(self) -> None:
        """Read the profiles now and every `every` seconds, until cancelled."""
        while True:
            try:
                await self.read()
            except Exception:  # a bad answer must not end the watch; next round tries again
                log.exception("reading profiles failed")
            await self.sleep(self.every)

    async def read(self) -> dict[str, str | None]:
        """The zones of the people the core wants, told to the core; returns them."""
        zones: dict[str, str | None] = {}
        for user in await self.profiles.wanted():
            try:
                answer = await self.client.get_profile(user)
            except NETWORK_ERRORS as exc:
                log.info("profile of %s not read: %s", user, type(exc).__name__)
                continue
            if isinstance(answer, ProfileGetResponse):
                zones[user] = zone_in(answer.other_info)
            elif isinstance(answer, ProfileGetError) and answer.status_code in ABSENT:
                zones[user] = None
        if zones:
            await self.profiles.zones(zones)
        return zones
