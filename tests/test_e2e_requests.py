"""A preservation request through Synapse (issue 35): Jamaica asks Trinidad and Tobago to
preserve server logs; TT's 24/7 law-enforcement contact is alerted at once, the chain widens
to TT's NCPOC and the chair (with the number to call) while nobody acknowledges; a reply
"ack" stops it; the contact answers, Jamaica accepts, confirms delivery and closes with its
feedback, and the request shows in Jamaica's gap analysis report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from devkit.synapse import wait_for
from tests.helpers import ShiftedClock

pytestmark = pytest.mark.synapse


def from_bot(world, person, having: str, *, outside: str = "") -> list:
    return [
        (r, e) for r, e in person.messages
        if e.sender == world.bot_id and having in e.body and r != outside
    ]  # fmt: skip


async def test_a_preservation_request_rings_escalates_and_is_answered(world):
    world.clock = clock = ShiftedClock()
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    police = await world.person("ttle", "contact", "TT", kind="le-24x7", phone="+18685550199")
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])
    for person in (chair, jm, tt, police):
        person.accept_invites()
    opened = await jm.ask(
        rcc,
        "!request preservation to=TT tlp=amber Preserve the mail logs of mail.gov.example "
        "for 1-3 Dec, case JM-2026-114",
    )
    assert "RQ-1 opened for Jamaica: preservation [TLP:AMBER]" in opened.body
    (room, ring) = (await wait_for(lambda: from_bot(world, police, "🆘 RQ-1")))[0]
    assert "Preserve the mail logs of mail.gov.example" in ring.body
    assert "!request ack RQ-1" in ring.body
    assert await police.would_ring(room, ring)  # it rings on their phone
    await world.quiet(tt)
    # TT's NCPOC reads the RCC room, but is asked only if the contact stays silent.
    assert not from_bot(world, tt, "RQ-1", outside=rcc)

    clock.advance(timedelta(hours=24, minutes=1))  # nobody acknowledged within a day
    runtime.app.jobs.wake("request", 1)
    await wait_for(lambda: from_bot(world, police, "Still not acknowledged: RQ-1"))
    await wait_for(lambda: from_bot(world, tt, "🆘 RQ-1", outside=rcc))
    told = await wait_for(lambda: from_bot(world, chair, "📞 RQ-1"))
    assert "Call: " in told[0][1].body and "+18685550199" in told[0][1].body

    await police.reply(room, ring.event_id, "ack")
    acked = await wait_for(lambda: from_bot(world, jm, "acknowledged your preservation request"))
    assert police.user_id in acked[0][1].body
    answered = await police.ask(room, "!offer RQ-1 Preserved under order 44/2026; copy ready")
    assert "OF-1 sent to" in answered.body
    await wait_for(lambda: from_bot(world, jm, "🤝 OF-1 on RQ-1"))
    assert "OF-1 accepted" in (await jm.ask(rcc, "!accept RQ-1 OF-1")).body
    assert "RQ-1 delivered" in (await jm.ask(rcc, "!delivered RQ-1")).body
    closed = await jm.ask(rcc, "!close RQ-1 Logs received in two days, admitted as evidence")
    assert "RQ-1 closed" in closed.body

    # The record counts: the request is in Jamaica's gap analysis report.
    jm.files.clear()
    await jm.ask(rcc, "!gaps JM report=yes")
    (page,) = await wait_for(lambda: [e for r, e in jm.files if r == rcc], 120)
    html = (await jm.download(page)).decode()
    assert "Assistance the region delivered" in html
    assert "Logs received in two days, admitted as evidence" in html
    assert "TT (" in html and police.user_id in html
