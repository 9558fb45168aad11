"""A small HTTP proxy in front of Synapse that can answer 502 to everything, and counts.

The bot talks to the homeserver through it; people's clients talk to Synapse directly, so
they can send commands while the bot sees a failing homeserver.
"""

from __future__ import annotations

import asyncio
import socket
import time

import aiohttp
from aiohttp import web

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FlakyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # (monotonic time the request arrived, path, status answered)
        self.requests: list[tuple[float, str, int]] = []
        self._failing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._in_flight: set[asyncio.Future] = set()

    @property
    def failing(self) -> bool:
        return self._failing.is_set()

    def fail(self, on: bool) -> None:
        """Answer 502 to every request (those in flight too) while on."""
        if on:
            self._failing.set()
        else:
            self._failing.clear()

    def between(self, start: float, end: float) -> list[tuple[float, str, int]]:
        return [r for r in self.requests if start <= r[0] < end]

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        for forward in self._in_flight:  # long polls would hold the shutdown for 30 s
            forward.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        if self.failing:
            return self._bad_gateway(request, arrived)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        forward = asyncio.ensure_future(self._forward(request, headers, body))
        failing = asyncio.ensure_future(self._failing.wait())
        self._in_flight.add(forward)
        try:
            await asyncio.wait([forward, failing], return_when=asyncio.FIRST_COMPLETED)
        finally:
            failing.cancel()
            self._in_flight.discard(forward)
        if forward.cancelled():
            return self._bad_gateway(request, arrived)
        if not forward.done():  # the outage began while this request was in flight
            forward.cancel()
            return self._bad_gateway(request, arrived)
        status, reply_headers, data = forward.result()
        self.requests.append((arrived, request.path, status))
        return web.Response(status=status, headers=reply_headers, body=data)

    async def _forward(self, request: web.Request, headers, body: bytes):
        assert self._session is not None
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            headers=headers,
            data=body or None,
            allow_redirects=False,
        ) as response:
            data = await response.read()
            kept = {k: v for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP}
            kept.pop("Content-Encoding", None)  # aiohttp has already decoded the body
            return response.status, kept, data

    def _bad_gateway(self, request: web.Request, arrived: float) -> web.Response:
        self.requests.append((arrived, request.path, 502))
        return web.Response(status=502, text="Bad Gateway")
