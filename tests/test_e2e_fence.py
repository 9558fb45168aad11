"""Fencing where requests leave nio (issue 38): a node frozen inside `room_send` — after its
own check, while nio shares the room key with every device — sends nothing on waking once
it no longer acts. Through Synapse, with a real encrypting client."""

from __future__ import annotations

import pytest
from nio import RoomMessagesResponse

from bot.matrix.fence import Fenced, fence
from devkit.synapse import wait_for

pytestmark = pytest.mark.synapse


async def test_a_node_frozen_while_sharing_the_room_key_sends_nothing_on_waking(world):
    node = await world.person("site-a")
    reader = await world.person("reader")
    room = await world.room(node, [reader], bot=False)
    await wait_for(lambda: reader.user_id in node.client.device_store.users, 120)  # its keys
    lease = {"held": True}
    fence(node.client, lambda: lease["held"])
    share = node.client.share_group_session

    async def frozen_midway(*args, **kwargs):
        shared = await share(*args, **kwargs)  # to-device: no reader sees it
        lease["held"] = False  # the process was stopped here, past its lease
        return shared

    node.client.share_group_session = frozen_midway  # type: ignore[method-assign]
    content = {"msgtype": "m.text", "body": "sent by a node that no longer acts"}
    with pytest.raises(Fenced):
        await node.client.room_send(
            room, "m.room.message", content, ignore_unverified_devices=True
        )
    node.client.share_group_session = share  # type: ignore[method-assign]
    lease["held"] = True  # acting again (a fresh process, in real life): it sends as before
    sent = await node.say(room, "sent while acting")
    await wait_for(lambda: sent in reader.seen, 120)  # what the node sent reached the room
    history = await reader.client.room_messages(room, start="", limit=100)
    assert isinstance(history, RoomMessagesResponse), history
    assert [e.event_id for e in history.chunk if e.sender == node.user_id and
            e.source["type"] == "m.room.encrypted"] == [sent]  # fmt: skip
