"""A French-speaking NCPOC through a real Synapse: `!lang fr`, then a broadcast and a
deadline's reminder reach them in French (with French dates) in their encrypted DM while the
RCC room keeps its English copy and an English-reading NCPOC gets English; "reçu" counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from babel.dates import format_datetime

from devkit.synapse import wait_for
from tests.helpers import ShiftedClock
from tests.test_e2e_deadlines import ZONE, noon_in_two_days

pytestmark = pytest.mark.synapse


def texts(person, room, tag):
    """The messages naming `tag` in a room, the live roll-call aside (a picture kept current,
    not a message of its own)."""
    return [
        e for r, e in person.messages
        if r == room and tag in e.body and e.sender != person.user_id
        and "countries acknowledged" not in e.body and "pays ont accusé" not in e.body
    ]  # fmt: skip


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


async def test_a_reminder_reaches_each_ncpoc_in_their_language_with_its_date(world):
    """The same deadline's reminder through Synapse: in French with a French date to the
    NCPOC who chose French, in English to the one who did not."""
    world.clock = clock = ShiftedClock()
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])
    assert "français" in (await jm.ask(rcc, "!lang fr")).body
    due = noon_in_two_days(clock)
    added = await chair.ask(rcc, f"!deadline add {due:%Y-%m-%d %H:%M} Quick return remind=1d")
    assert "DL-1" in added.body
    clock.set(due - timedelta(days=1, seconds=3))
    runtime.app.jobs.wake("deadline", 1)
    jm_dm, tt_dm = await jm.accept_invite(), await tt.accept_invite()
    (french,) = await wait_for(lambda: [b for b in jm.texts_in(jm_dm) if "DL-1" in b])
    (english,) = await wait_for(lambda: [b for b in tt.texts_in(tt_dm) if "DL-1" in b])
    # The dates as CLDR writes them in each language (Babel directly, not the bot's helper).
    assert "⏰ Rappel pour Jamaica" in french
    assert format_datetime(due, "EEE d MMM y HH:mm", tzinfo=ZONE, locale="fr") in french
    assert "⏰ Reminder for Trinidad and Tobago" in english
    assert f"{due:%a %-d %b %Y %H:%M}" in english
