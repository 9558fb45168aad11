"""A project's target through Synapse: its owner gets one reminder before, and one overdue
notice after — the month ending while the bot is stopped changes neither count."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from devkit.synapse import wait_for
from tests.helpers import ShiftedClock

pytestmark = pytest.mark.synapse

ZONE = ZoneInfo("America/Port_of_Spain")


async def test_a_projects_target_reminds_once_and_flags_once_across_a_restart(world):
    world.clock = clock = ShiftedClock()
    today = clock().astimezone(ZONE)
    first = datetime(today.year + today.month // 12, today.month % 12 + 1, 1, tzinfo=ZONE)
    target = f"{first:%Y-%m}"  # next month: it ends when the month after begins
    ends = datetime(first.year + first.month // 12, first.month % 12 + 1, 1, tzinfo=ZONE)
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    added = await jm.ask(rcc, f"!project add Bill drafting lead=JM target={target} tlp=green")
    assert "PR-1" in added.body, added.body
    clock.set(ends - timedelta(days=10))  # inside the 30 days before it ends
    runtime.app.jobs.wake("project target", 1)
    dm = await jm.accept_invite()
    await wait_for(lambda: [b for b in jm.texts_in(dm) if "has its target" in b])
    await world.stop_bot()
    clock.set(ends + timedelta(hours=2))  # the month ends while the bot is down
    await world.start_bot()
    late = await wait_for(lambda: [b for b in jm.texts_in(dm) if "past its target" in b])
    assert f"PR-1 “Bill drafting” is past its target ({target}) and still planned." in late[0]
    chair_dm = await chair.accept_invite()
    await wait_for(lambda: [b for b in chair.texts_in(chair_dm) if "past its target" in b])
    await world.quiet(jm)
    said = [b for b in jm.texts_in(dm) if "PR-1" in b]
    assert len(said) == 2, said  # one reminder, one overdue notice: nothing twice
