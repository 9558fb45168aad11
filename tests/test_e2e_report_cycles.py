"""A report on its cycle through Synapse (issue 36): the scheduled CONSLE report waits for the
chair — across a restart, drafted once — and is delivered once, encrypted, to the Steering
room; the feedback a Steering member types there reaches the next digest."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.digest.compose import next_slot
from devkit.synapse import wait_for
from storage.outbox import OutboxMessage
from tests.helpers import ShiftedClock

pytestmark = pytest.mark.synapse

ZONE = ZoneInfo("America/Port_of_Spain")
SCHEDULE = "0 9 1 * *"  # the first of each month, 09:00 in the committee's zone


async def test_a_scheduled_consle_report_waits_for_the_chair_and_is_delivered_once(world):
    world.clock = clock = ShiftedClock()
    world.extra_config = (
        f'[reports]\nconsle = {{ schedule = "{SCHEDULE}", period = "last-30d", '
        'room = "steering" }\n'
    )
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    steer = await world.person("steer", "steering")
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    steering = await world.room(chair, [steer], alias=world.steering_alias)
    await jm.ask(rcc, "!incident new severity=high tlp=green sectors=finance Card skimming ring")
    await jm.ask(rcc, "!incident new severity=high tlp=amber sectors=energy Substation probe")
    chair.accept_invites()
    slot = next_slot(SCHEDULE, ZONE, clock())
    assert slot is not None
    clock.set(slot + timedelta(minutes=1))
    runtime.app.jobs.wake("report cycle", 1)
    drafts = await wait_for(
        lambda: [
            (r, e) for r, e in chair.messages if "RP-1, version 1: the consle report" in e.body
        ]
    )
    (dm, draft) = drafts[0]
    assert dm not in (rcc, steering) and "!report approve RP-1 v1" in draft.body
    await wait_for(lambda: len([r for r, _ in chair.files if r == dm]) >= 2)
    # Every file of the draft sent (the sender idle), then a restart before the chair
    # answers: the slot is not drafted again.
    await wait_for(lambda: _all_sent(world), 120)
    await world.stop_bot()
    await world.start_bot()
    await world.quiet(chair, steer)
    assert len([e for _, e in chair.messages if "RP-1, version" in e.body]) == 1
    assert not [e for r, e in steer.messages if r == steering and "RP-1" in e.body]

    approved = await chair.ask(dm, "!report approve RP-1 v1")
    assert "RP-1 is approved and on its way to" in approved.body
    delivered = await wait_for(
        lambda: [e for r, e in steer.messages if r == steering and "📄 RP-1" in e.body]
    )
    assert "the consle report for the 30 days to" in delivered[0].body
    assert f"approved by {chair.user_id}" in delivered[0].body
    files = await wait_for(
        lambda: [e for r, e in steer.files if r == steering and _mimetype(e) == "text/html"], 120
    )
    page = (await steer.download(files[0])).decode()
    assert "Report of CARICOM IMPACS to CONSLE" in page and "TLP:GREEN" in page
    assert "Substation probe" not in page  # AMBER: not for CONSLE's readers
    await world.quiet(steer)
    assert len([e for r, e in steer.messages if r == steering and "📄 RP-1" in e.body]) == 1

    # Section 8.4: the readers' feedback feeds the monitoring — the next digest shows it.
    given = await steer.ask(
        steering, "!feedback RP-1 tlp=green CONSLE asks for the incident counts by type"
    )
    assert "Feedback on RP-1 (consle," in given.body
    told = await chair.ask(rcc, "!digest to=steering")
    assert "DG-1 is in your direct chat with the bot" in told.body
    await wait_for(lambda: [e for r, e in chair.messages if r == dm and "draft DG-1" in e.body])
    await chair.ask(dm, "!digest approve DG-1")
    digest = await wait_for(
        lambda: [e for r, e in steer.messages if r == steering and "digest for" in e.body]
    )
    assert "CONSLE asks for the incident counts by type" in digest[0].body
    assert "RP-1 (consle" in digest[0].body


def _mimetype(event) -> str:
    return event.source["content"].get("info", {}).get("mimetype", "")


async def _all_sent(world) -> bool:
    pending = await world.rows(OutboxMessage, OutboxMessage.state == "pending")
    return not pending
