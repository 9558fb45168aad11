"""Of two sites, a node that no longer acts writes nothing others would see.

Asking `acting()` before `room_send` is not enough: nio's `room_send` awaits on its way (it
shares the room key with every device first, queries keys), and a node frozen there
(SIGSTOP, a stalled VM) passes its check before the freeze and sends on waking, after the
other node has taken over. So the question is asked where every request leaves nio
(`AsyncClient.send`, every retry included): a request that writes — anything but a read — is
refused unless it only concerns this device's own keys, its session or its sync filter,
which a node standing by needs and which no reader sees.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from nio import AsyncClient

# Writes a node that does not act may still make: they change nothing anyone reads.
HARMLESS = re.compile(
    r"/_matrix/client/(?:r0|v3|unstable)/"
    r"(?:keys/|sendToDevice/|login$|logout$|user/[^/]+/filter$|sync$)"
)


class Fenced(Exception):
    """Of two sites, this node no longer acts: what it was about to write stays for the other."""


def fenced(method: str, path: str) -> bool:
    """Would this request be refused of a node that does not act?"""
    return method.upper() not in ("GET", "HEAD") and not HARMLESS.match(urlsplit(path).path)


def fence(client: AsyncClient, acting: Callable[[], bool]) -> None:
    """From now on `client` writes only while `acting()`; otherwise the request raises
    `Fenced` before a byte of it leaves."""
    send = client.send

    async def checked(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        if fenced(method, path) and not acting():
            raise Fenced(f"this node no longer acts: {method} not sent")
        return await send(method, path, *args, **kwargs)

    client.send = checked
