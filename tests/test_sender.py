"""The outbox sender's backlog, which the sync loop reads to space its syncs in a fan-out."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from types import SimpleNamespace

from nio import RoomSendResponse

from bot.faults import CrashPoints
from bot.matrix.devices import DeviceTracker
from bot.matrix.ports import Admission
from bot.matrix.sender import Sender
from bot.metrics import Metrics
from bot.outbox import Handoff
from devkit.synapse import wait_for
from storage.outbox import OutboxMessage, OutboxStore
from tests.helpers import ledger_for


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


def sender_for(client, db, **options) -> Sender:
    async def no_room(user: str) -> None:
        return None

    async def anyone(row) -> Admission:
        return Admission.SEND

    async def no_fresh(user: str, spoiled: str) -> None:
        return None

    return Sender(
        client,
        ledger_for(db),
        DeviceTracker(client),
        Handoff(),
        direct_room=no_room,
        fresh_direct=no_fresh,
        admits=anyone,
        on_refused=lambda: None,
        clock=lambda: datetime.now(UTC),
        faults=CrashPoints(),
        render_file=lambda *_: b"",
        metrics=Metrics(),
        **options,
    )


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
    sender = sender_for(client, db, concurrency=8)
    sender.ready.set()
    batch = messages(rooms)
    sender.submit(batch)
    sender.submit(batch[:5])  # taken up already: not counted twice
    await asyncio.sleep(0)  # the room tasks take their messages up
    assert sender.backlog == 20, "queued and in flight both count"
    client.release.set()
    await wait_for(lambda: sender.backlog == 0, interval=0.01)
    assert sorted(client.sent) == sorted(m.txn_id for m in batch)
    await sender.flush_marks()


async def test_a_delivery_noted_while_a_batch_is_written_is_written_too(db, monkeypatch):
    client = HeldHomeserver([])
    sender = sender_for(client, db)
    async with db.unit() as store:
        first, second = [
            await store.outbox.enqueue(room_id=f"!{n}:test.org", content={}, now=sender.clock())
            for n in (1, 2)
        ]
    write = OutboxStore.mark_all_sent

    async def write_while_a_send_ends(store, marks):
        await write(store, marks)
        if second.id not in {m[0] for m in sender._marks + marks}:
            sender._mark_sent(second, "$two")  # a send finishing during this write

    monkeypatch.setattr(OutboxStore, "mark_all_sent", write_while_a_send_ends)
    sender._mark_sent(first, "$one")

    async def states():
        async with db.unit(write=False) as store:
            return {(await store.outbox.get(m.id)).state for m in (first, second)}

    await wait_for(lambda: _all_sent(states), interval=0.02)


async def _all_sent(states) -> bool:
    return await states() == {"sent"}
