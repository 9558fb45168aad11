"""Deadline reminders through Synapse: the right NCPOC only, in a DM, once, also after a stop."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.devserver import wait_for

pytestmark = pytest.mark.synapse

ZONE = ZoneInfo("America/Port_of_Spain")


def in_seconds(seconds: int) -> str:
    return (datetime.now(ZONE) + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


async def test_short_fuse_deadline_reminds_the_right_ncpoc_only(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])
    assert "is filed" in (await tt.ask(rcc, "!status submit")).body
    added = await chair.ask(rcc, f"!deadline add {in_seconds(25)} Quick return remind=20s")
    assert "DL-1 “Quick return” is due" in added.body
    dm = await jm.accept_invite()
    reminder = await wait_for(lambda: [b for b in jm.texts_in(dm) if "Reminder" in b], 40)
    assert "“Quick return” (DL-1) is due" in reminder[0]
    assert "Jamaica has not filed its report" in reminder[0]
    assert "!status submit" in reminder[0]
    await asyncio.sleep(2)
    assert tt.client.invited_rooms == {} and all(
        "Quick return" not in e.body for room, e in tt.messages if room != rcc
    ), "Trinidad reported: it gets nothing"
    assert len([b for b in jm.texts_in(dm) if "Reminder" in b]) == 1


async def test_deadline_passing_while_stopped_gives_one_late_notice(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    added = await chair.ask(rcc, f"!deadline add {in_seconds(12)} Return remind=8s")
    assert "DL-1" in added.body
    await world.stop_bot()
    await asyncio.sleep(15)  # the reminder and the deadline both pass while the bot is down
    await world.start_bot()
    dm = await jm.accept_invite()
    notice = await wait_for(lambda: [b for b in jm.texts_in(dm) if "DL-1" in b], 40)
    assert "Overdue" in notice[0] and "Sent late" in notice[0]
    await asyncio.sleep(3)
    assert len([b for b in jm.texts_in(dm) if "DL-1" in b]) == 1, "one late notice, not two"
    # The chair hears which countries are missing.
    chair_dm = await chair.accept_invite()
    missing = await wait_for(lambda: [b for b in chair.texts_in(chair_dm) if "DL-1" in b], 30)
    assert "Still missing" in missing[0] and "Jamaica (JM)" in missing[0]
