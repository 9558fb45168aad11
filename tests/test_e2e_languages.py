"""A French-speaking NCPOC through a real Synapse: `!lang fr`, then a broadcast reaches them
in French in their encrypted DM while the RCC room keeps its English copy; they answer
"reçu" and it counts."""

from __future__ import annotations

import pytest

from devkit.synapse import wait_for

pytestmark = pytest.mark.synapse


def texts(person, room, tag):
    return [
        e for r, e in person.messages if r == room and tag in e.body and e.sender != person.user_id
    ]


async def test_a_french_speaking_ncpoc_reads_the_bot_in_french(world):
    chair = await world.person("chair", "chair")
    ht = await world.person("ht", "ncpoc", "JM")
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [ht])
    chosen = await ht.ask(rcc, "!lang fr")
    assert "Désormais, je vous écris en français dans les messages directs" in chosen.body

    await chair.say(rcc, "!broadcast severity=high Rotate the VPN keys today")
    dm = await ht.accept_invite()
    (french,) = await wait_for(lambda: texts(ht, dm, "BC-1"))
    assert french.decrypted, "the DM must arrive encrypted"
    assert "Diffusion HIGH BC-1 [TLP:AMBER] de @chair" in french.body
    assert "Accusez réception avec : !ack BC-1" in french.body
    assert "Rotate the VPN keys today" in french.body
    (in_room,) = await wait_for(lambda: texts(ht, rcc, "BC-1"))
    assert "HIGH broadcast BC-1" in in_room.body and "Acknowledge with" in in_room.body

    await ht.reply(dm, french.event_id, "reçu")

    async def acknowledged():
        async with runtime.app.db.unit(write=False) as store:
            found = await store.broadcasts.get(1)
            people = await store.broadcasts.recipients(found.id)
            return [r for r in people if r.user_id == ht.user_id and r.acked_at]

    await wait_for(acknowledged)
    helped = await ht.ask(dm, "!help")
    assert "Commandes que vous pouvez utiliser (NCPOC) :" in helped.body
