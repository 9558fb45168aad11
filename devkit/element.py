"""A committee member on the stack Element uses: matrix-js-sdk with its Rust crypto, in Node.

`devkit/element/client.mjs` logs in on a new device, cross-signs it as Element does at first
login, joins the rooms it is invited to and reports every event it can read, as the SDK sees
it: a thread's events carry the root the SDK computes, a poll's start is parsed by the SDK's
poll model. This side starts it and speaks to it in JSON lines (`make install` runs `npm ci`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

from devkit.synapse import Account, Synapse

CLIENT = Path(__file__).parent / "element" / "client.mjs"
START_WITHIN = 120.0


class ElementPerson:
    def __init__(
        self, hs: Synapse, account: Account, log: Path, *, device: str = "ELEMENT"
    ) -> None:
        self.hs, self.account, self.device, self.log = hs, account, device, log
        self.user_id = account.user_id
        self.events: list[dict[str, Any]] = []
        self.cross_signed = False
        self._process: asyncio.subprocess.Process | None = None
        self._answers: dict[int, asyncio.Future] = {}
        self._ready: asyncio.Future | None = None
        self._reader: asyncio.Task | None = None
        self._arrived = asyncio.Event()
        self._next = 0

    async def start(self) -> None:
        node = shutil.which("node")
        assert node is not None, "Node.js is needed for the Element client (see the README)"
        args = {
            "homeserver": self.hs.url,
            "user": self.account.user_id,
            "password": self.account.password,
            "device": self.device,
        }
        self._process = await asyncio.create_subprocess_exec(
            node,
            str(CLIENT),
            json.dumps(args),
            cwd=CLIENT.parent,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log.open("ab"),  # the SDK's logs, for a failing test's reader
            limit=2**24,
        )
        self._ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        async with asyncio.timeout(START_WITHIN):
            ready = await self._ready
        self.cross_signed = bool(ready.get("cross_signed"))

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for line in self._process.stdout:
            if not line.strip():
                continue
            said = json.loads(line)
            if "event" in said:
                self.events.append(said["event"])
                self._arrived.set()
            elif "ready" in said and self._ready is not None:
                self._ready.set_result(said)
            elif "id" in said and said["id"] in self._answers:
                self._answers.pop(said["id"]).set_result(said)
        for waiting in [self._ready, *self._answers.values()]:
            if waiting is not None and not waiting.done():
                waiting.set_exception(RuntimeError("the Element client stopped"))

    async def _ask(self, **request: Any) -> dict[str, Any]:
        assert self._process is not None and self._process.stdin is not None
        self._next += 1
        answer = asyncio.get_running_loop().create_future()
        self._answers[self._next] = answer
        self._process.stdin.write((json.dumps({"id": self._next, **request}) + "\n").encode())
        await self._process.stdin.drain()
        async with asyncio.timeout(60):
            said = await answer
        assert "error" not in said, said["error"]
        return said

    async def send(self, room: str, body: str, *, thread: str | None = None) -> str:
        """A message as Element sends it; in a thread (the root's ID), with its relation."""
        return (await self._ask(op="send", room=room, body=body, thread=thread))["event_id"]

    async def vote(self, room: str, poll: str, answer: str) -> str:
        """An answer to a poll, as Element sends it when an option is clicked."""
        return (await self._ask(op="vote", room=room, poll=poll, answer=answer))["event_id"]

    async def seen(self, match, within: float = 60) -> dict[str, Any]:
        """The first event this client has read for which `match(event)` is true."""
        deadline = time.monotonic() + within
        while True:
            for event in self.events:
                if match(event):
                    return event
            self._arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the Element client did not see it in time")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self._arrived.wait()

    async def stop(self) -> None:
        if self._process is None:
            return
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            async with asyncio.timeout(10):
                await self._process.wait()
        except TimeoutError:
            self._process.kill()
            await self._process.wait()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        self._process = None
