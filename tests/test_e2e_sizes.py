"""The size the outbox keeps a message under (bot.outbox.MOST_CONTENT) fits one event through
a real Synapse once encrypted; content a quarter larger does not (encrypted, it passes 64 KB)."""

from __future__ import annotations

import json

import pytest
from nio import RoomSendResponse

from bot.outbox import MOST_CONTENT

pytestmark = pytest.mark.synapse


def content_of(size: int) -> dict:
    """An m.notice whose JSON is `size` bytes, each of them a byte on the wire (ASCII: the
    largest event for its measured size)."""
    content = {"msgtype": "m.notice", "body": ""}
    content["body"] = "a" * (size - len(json.dumps(content)))
    return content


async def test_a_message_of_the_outbox_limit_fits_one_encrypted_event(world):
    sender = await world.person("sender")
    reader = await world.person("reader")
    room = await world.room(sender, [reader], bot=False)
    fits = content_of(MOST_CONTENT)
    assert len(json.dumps(fits)) == MOST_CONTENT
    sent = await sender.client.room_send(
        room, "m.room.message", fits, ignore_unverified_devices=True
    )
    assert isinstance(sent, RoomSendResponse), sent
    too_big = await sender.client.room_send(
        room, "m.room.message", content_of(MOST_CONTENT * 5 // 4),
        ignore_unverified_devices=True,
    )  # fmt: skip
    assert not isinstance(too_big, RoomSendResponse)
    assert too_big.status_code == "M_TOO_LARGE"
