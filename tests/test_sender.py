"""The outbox sender's backlog, which the sync loop reads to space its syncs in a fan-out."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from types import SimpleNamespace

from nio import RoomSendResponse

from bot.faults import CrashPoints
from bot.matrix.devices import DeviceTracker
from bot.matrix.sender import Sender
from storage.models import OutboxMessage


class HeldHomeserver:
    """A client whose sends wait until released; rooms are unencrypted, so no keys."""

    def __init__(self, rooms: list[str]) -> None:
        self.rooms = {r: SimpleNamespace(room_id=r, encrypted=False) for r in rooms}
        self.olm = None
        self.user_id = "@bot:test.org"
        self.release = asyncio.Event()
        self.sent: list[str] = []

    async def room_send(self, room_id, event_type, content, tx_id, **_):
        await self.release.wait()
        self.sent.append(tx_id)
        return RoomSendResponse(f"$ev{len(self.sent)}", room_id)


def messages(rooms: list[str]) -> list[OutboxMessage]:
    return [
        OutboxMessage(
            id=n,
            txn_id=f"rcc.t{n}",
            room_id=room,
            content=json.dumps({"msgtype": "m.notice", "body": "hi"}),
            created_at=datetime(2026, 11, 2, tzinfo=UTC),
        )
        for n, room in enumerate(rooms, start=1)
    ]


async def test_backlog_counts_messages_until_they_are_sent(db):
    rooms = [f"!dm{n}:test.org" for n in range(20)]
    client = HeldHomeserver(rooms)
    sender = Sender(
        client,
        db,
        DeviceTracker(client),
        clock=lambda: datetime.now(UTC),
        faults=CrashPoints(),
        render_file=lambda *_: b"",
        concurrency=8,
    )
    sender.ready.set()
    batch = messages(rooms)
    sender.submit(batch)
    sender.submit(batch[:5])  # taken up already: not counted twice
    await asyncio.sleep(0.05)
    assert sender.backlog == 20, "queued and in flight both count"
    client.release.set()
    for _ in range(100):
        if sender.backlog == 0:
            break
        await asyncio.sleep(0.01)
    assert sender.backlog == 0
    assert sorted(client.sent) == sorted(m.txn_id for m in batch)
    await sender.flush_marks()
