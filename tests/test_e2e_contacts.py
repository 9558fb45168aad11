"""Reaching every national contact through Synapse: a broadcast to NCPOCs and contacts of
several countries, one answer closing a country's escalation, the chain reaching the
alternate, then the contacts, then the chair with numbers to call; the email fallback to a
real SMTP server; and a kill -9 in the middle of an escalation step."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from devkit.synapse import free_port, wait_for
from storage.broadcasts import BroadcastNotice
from tests.helpers import ShiftedClock
from tests.test_mail import Inbox, smtp_server

pytestmark = pytest.mark.synapse

WAIT = 120
CHAIN = """email_after = "35m"
escalation = [
  { after = "10m", notify = ["primary"] },
  { after = "20m", notify = ["alternate"] },
  { after = "30m", notify = ["contacts"] },
  { after = "40m", notify = ["chair"] },
]"""


def from_bot(world, person, *, tag="BC-1", excluding=None, having=""):
    return [
        (room, e)
        for room, e in person.messages
        if e.sender == world.bot_id and tag in e.body and room != excluding and having in e.body
    ]


async def test_a_country_is_escalated_until_someone_there_answers(world):
    world.clock = clock = ShiftedClock()
    port = free_port()
    world.extra_config = f"""
[smtp]
host = "127.0.0.1"
port = {port}
starttls = false
from = "rcc-bot@rcc.example"
"""
    world.broadcast_config = CHAIN
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM", kind="primary")
    jm2 = await world.person("jm2", "ncpoc", "JM", kind="alternate")
    jm_cirt = await world.person(
        "jmcirt", "contact", "JM", kind="cirt", email="soc@cirt.jm.example", phone="+18765550100"
    )
    tt = await world.person("tt", "ncpoc", "TT")
    tt_le = await world.person(
        "ttle", "contact", "TT", kind="le-24x7", email="duty@ttps.example", phone="+18685550199"
    )
    national = [jm, jm2, jm_cirt, tt, tt_le]
    for person in (*national, chair):
        person.accept_invites()  # the DMs the bot opens
    inbox = Inbox(asyncio.get_running_loop())
    with smtp_server(inbox, port):
        runtime = await world.start_bot()
        rcc = await world.rcc_room(chair, [jm, jm2, tt])  # the contacts are not in it

        async def step(minutes: int) -> None:
            clock.set(created + timedelta(minutes=minutes, seconds=5))
            runtime.app.jobs.wake("broadcast", 1)

        await chair.say(rcc, "!broadcast severity=critical Switch to the fallback channel")
        for person in national:  # every national contact by DM, labelled, ringing
            ((room, copy),) = await wait_for(
                lambda p=person: from_bot(world, p, excluding=rcc, having="fallback"), WAIT
            )
            assert "[TLP:AMBER]" in copy.body
            assert await person.would_notify(room, copy), person.user_id
        async with runtime.app.db.unit(write=False) as store:
            created = (await store.broadcasts.get(1)).created_at

        # Trinidad and Tobago answers through its 24/7 contact: the country is answered.
        ((dm, copy),) = from_bot(world, tt_le, excluding=rcc)
        await tt_le.reply(dm, copy.event_id, "ack")
        await wait_for(lambda: from_bot(world, tt_le, having="1/2 countries so far"), WAIT)

        await step(10)  # the primary NCPOC of the dark country
        (reminder,) = await wait_for(lambda: from_bot(world, jm, having="Reminder 1"), WAIT)
        assert "nobody in Jamaica has acknowledged yet" in reminder[1].body
        await step(20)  # then its alternate
        await wait_for(lambda: from_bot(world, jm2, having="Reminder 2"), WAIT)
        await step(30)  # then its contacts
        await wait_for(lambda: from_bot(world, jm_cirt, having="Reminder 3"), WAIT)
        await step(35)  # then email, to the dark country's addresses only
        async with asyncio.timeout(WAIT):
            await inbox.arrived.wait()
        await step(40)  # then the chair, with the numbers to call
        ((_, told),) = await wait_for(lambda: from_bot(world, chair, having="To call"), WAIT)
        assert "+18765550100" in told.body and "+18685550199" not in told.body
        assert await chair.would_notify(_, told)
        await world.quiet(tt, tt_le, jm, jm2, jm_cirt)
    # Trinidad and Tobago was never escalated; each step reached its tier once.
    for person in (tt, tt_le):
        assert not from_bot(world, person, having="Reminder"), person.user_id
    for person, n in ((jm, 1), (jm2, 2), (jm_cirt, 3)):
        assert [e.body[:40] for _, e in from_bot(world, person, having="Reminder")] == [
            e.body[:40] for _, e in from_bot(world, person, having=f"Reminder {n}")
        ]
        assert len(from_bot(world, person, having="Reminder")) == 1, person.user_id
    ((to, mail),) = inbox.messages
    assert to == ["soc@cirt.jm.example"]
    assert "fallback channel" not in mail.get_content()  # AMBER: never in an email
    # The chair reached Jamaica by phone and records it; the roll-call is complete.
    recorded = await chair.ask(rcc, f"!ack BC-1 for={jm.user_id} via=phone")
    assert "2/2 countries so far" in recorded.body
    roll = await chair.ask(rcc, "!broadcast status BC-1")
    assert "2/2 countries acknowledged" in roll.body
    assert f"recorded by {chair.user_id}" in roll.body


async def test_a_kill_during_an_escalation_step_loses_and_doubles_nothing(world):
    """Killed after the step's messages were committed but before the sender had them:
    the next start sends each once and does not run the step again."""
    world.broadcast_config = 'escalation = [{ after = "2s", notify = ["all", "chair"] }]'
    chair = await world.person("chair", "chair")
    people = [
        await world.person("jm", "ncpoc", "JM"),
        await world.person("jmcirt", "contact", "JM", kind="cirt"),
        await world.person("tt", "ncpoc", "TT"),
    ]
    for person in (*people, chair):
        person.accept_invites()
    world.spawn_bot(crash_at="after-job-commit@broadcast:2")  # run 1 delivers, run 2 steps
    rcc = await world.rcc_room(chair, [people[0], people[2]])
    await chair.say(rcc, "!broadcast Phone tree check")
    assert await world.wait_exit(WAIT) == -9, "the bot was killed in the escalation step"
    world.spawn_bot()
    for person in people:
        await wait_for(lambda p=person: from_bot(world, p, having="Reminder 1"), WAIT)
    await wait_for(lambda: from_bot(world, chair, having="escalation step 1"), WAIT)
    await world.quiet(chair, *people)
    for person in people:
        assert len(from_bot(world, person, having="Reminder 1")) == 1, person.user_id
        assert len(from_bot(world, person, excluding=rcc, having="Phone tree")) == 2  # DM+1
    assert len(from_bot(world, chair, having="escalation step 1")) == 1
    steps = await world.rows(BroadcastNotice, BroadcastNotice.kind == "step")
    assert [s.round for s in steps] == [1]


async def test_a_drill_reports_to_the_chair_and_contacts_keep_their_details_true(world):
    world.clock = clock = ShiftedClock()
    world.broadcast_config = 'escalation = [{ after = "10m", notify = ["all", "chair"] }]'
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    jm_cirt = await world.person("jmcirt", "contact", "JM", kind="cirt", phone="+18765550100")
    tt = await world.person("tt", "ncpoc", "TT")
    for person in (chair, jm, jm_cirt, tt):
        person.accept_invites()
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])

    # A drill: Jamaica answers and relays, Trinidad and Tobago stays dark.
    await chair.say(rcc, "!drill Communications check")
    await wait_for(lambda: from_bot(world, jm_cirt, excluding=rcc, having="EXERCISE"), WAIT)
    await jm.ask(rcc, "!ack BC-1")
    relayed = await jm.ask(rcc, "!relayed BC-1 to the sector CSIRTs")
    assert "onward dissemination in Jamaica recorded" in relayed.body
    clock.advance(timedelta(minutes=11))  # the chain has run its course
    runtime.app.jobs.wake("broadcast", 1)
    ((_, report),) = await wait_for(lambda: from_bot(world, chair, having="Drill report"), WAIT)
    assert "Trinidad and Tobago: dark" in report.body and "Jamaica:" in report.body
    (chart,) = await wait_for(lambda: chair.files, WAIT)
    assert (await chair.download(chart[1])).startswith(b"\x89PNG")

    # Four months on, everyone is asked to confirm their details; the CIRT does not answer.
    clock.advance(timedelta(days=122))
    runtime.app.jobs.wake("contact confirmation", 0)
    for person in (jm, jm_cirt, tt):
        await wait_for(
            lambda p=person: from_bot(world, p, tag="directory", having="still right"), WAIT
        )
    ((dm, _),) = from_bot(world, jm, tag="directory", having="still right")
    confirmed = await jm.ask(dm, "!confirm")
    assert "details are confirmed" in confirmed.body
    clock.advance(timedelta(days=14))  # no answer from the CIRT: its NCPOC hears
    runtime.app.jobs.wake("contact confirmation", 0)
    ((_, _told),) = await wait_for(
        lambda: from_bot(world, jm, tag=jm_cirt.user_id, having="has not confirmed"), WAIT
    )
    clock.advance(timedelta(days=14))  # then the chair, once, with both who did not answer
    runtime.app.jobs.wake("contact confirmation", 0)
    ((_, listed),) = await wait_for(
        lambda: from_bot(world, chair, tag="National contacts who have not confirmed"), WAIT
    )
    assert jm_cirt.user_id in listed.body and tt.user_id in listed.body
    assert jm.user_id not in listed.body
    await world.quiet(chair, jm)
    assert len(from_bot(world, chair, tag="have not confirmed")) == 1
