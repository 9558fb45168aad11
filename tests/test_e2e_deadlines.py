"""Deadline reminders through Synapse: the right NCPOC only, in a DM, once, also after a stop.

The bot's clock is moved by the test (real time plus an offset), so a reminder falls due when
the test says, never because the machine was slow; the bot's own timers still fire it.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from devkit.synapse import wait_for
from storage.roster import RosterEntry
from tests.helpers import ShiftedClock

pytestmark = pytest.mark.synapse

ZONE = ZoneInfo("America/Port_of_Spain")


def noon_in_two_days(clock: ShiftedClock) -> datetime:
    return datetime.combine(clock().astimezone(ZONE).date() + timedelta(days=2), time(12), ZONE)


async def test_reminder_reaches_the_right_ncpoc_only(world):
    world.clock = clock = ShiftedClock()
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])
    assert "is filed" in (await tt.ask(rcc, "!status submit")).body
    due = noon_in_two_days(clock)
    added = await chair.ask(rcc, f"!deadline add {due:%Y-%m-%d %H:%M} Quick return remind=1d")
    assert "DL-1 “Quick return” is due" in added.body
    # Three seconds before the reminder: the job plans it, and the bot's timer sends it.
    clock.set(due - timedelta(days=1, seconds=3))
    runtime.app.jobs.wake("deadline", 1)
    dm = await jm.accept_invite()
    reminder = await wait_for(lambda: [b for b in jm.texts_in(dm) if "Reminder" in b])
    assert "“Quick return” (DL-1) is due" in reminder[0]
    assert "Jamaica has not filed its report" in reminder[0]
    assert "!status submit" in reminder[0]
    assert "Sent late" not in reminder[0]
    await world.barrier(tt, rcc)
    await world.quiet(jm)
    assert tt.client.invited_rooms == {} and all(
        "Quick return" not in e.body for room, e in tt.messages if room != rcc
    ), "Trinidad reported: it gets nothing"
    assert len([b for b in jm.texts_in(dm) if "Reminder" in b]) == 1


async def test_deadline_passing_while_stopped_gives_one_late_notice(world):
    world.clock = clock = ShiftedClock()
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    due = noon_in_two_days(clock)
    added = await chair.ask(rcc, f"!deadline add {due:%Y-%m-%d %H:%M} Return remind=1d")
    assert "DL-1" in added.body
    await world.stop_bot()
    clock.set(due + timedelta(hours=1))  # the reminder and the deadline pass while it is down
    await world.start_bot()
    dm = await jm.accept_invite()
    notice = await wait_for(lambda: [b for b in jm.texts_in(dm) if "DL-1" in b])
    assert "Overdue" in notice[0] and "Sent late" in notice[0]
    # The chair hears which countries are missing.
    chair_dm = await chair.accept_invite()
    missing = await wait_for(lambda: [b for b in chair.texts_in(chair_dm) if "DL-1" in b])
    assert "Still missing" in missing[0] and "Jamaica (JM)" in missing[0]
    await world.quiet(jm)
    assert len([b for b in jm.texts_in(dm) if "DL-1" in b]) == 1, "one late notice, not two"


async def test_times_written_to_a_person_are_in_their_profiles_zone(world):
    """Element writes a person's zone into their profile (`m.tz`); the bot reads it when it
    starts and writes their reminders and DM answers in it, the room's in the committee's."""
    world.clock = clock = ShiftedClock()
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    await jm.set_zone("Europe/Amsterdam")
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])

    async def zone_kept() -> bool:
        rows = await world.rows(RosterEntry, RosterEntry.user_id == jm.user_id)
        return any(e.tz == "Europe/Amsterdam" for e in rows)

    await wait_for(zone_kept)
    due = noon_in_two_days(clock)
    added = await chair.ask(rcc, f"!deadline add {due:%Y-%m-%d %H:%M} Quick return remind=1d")
    assert f"{due:%H:%M} (America/Port_of_Spain)" in added.body
    amsterdam = due.astimezone(ZoneInfo("Europe/Amsterdam"))
    clock.set(due - timedelta(days=1, seconds=3))
    runtime.app.jobs.wake("deadline", 1)
    dm = await jm.accept_invite()
    reminder = await wait_for(lambda: [b for b in jm.texts_in(dm) if "Reminder" in b])
    assert f"is due {amsterdam:%a} {amsterdam.day} " in reminder[0]
    assert f"{amsterdam:%H:%M} (Europe/Amsterdam)" in reminder[0]
    jamaica = due.astimezone(ZoneInfo("America/Jamaica"))
    assert f"In Jamaica that is {jamaica:%a} {jamaica.day} " in reminder[0]
    answer = await jm.ask(dm, "!deadline list")
    assert f"{amsterdam:%H:%M} (Europe/Amsterdam)" in answer.body
