"""Threads and polls with the stack Element uses (issue 37): an NCPOC on matrix-js-sdk with its
Rust crypto, cross-signed as Element does at first login, works with the bot in a thread and
votes through the motion's poll; what the SDK makes of the bot's events is what Element shows."""

from __future__ import annotations

import pytest

from devkit.synapse import wait_for
from storage.motions import Vote
from storage.outbox import OutboxMessage

pytestmark = pytest.mark.synapse

START = "org.matrix.msc3381.poll.start"


def body(event: dict) -> str:
    return event["content"].get("body", "")


async def test_an_element_user_works_in_a_thread_and_votes_through_the_poll(world):
    chair = await world.person("chair", "chair")
    tt = await world.person("tt", "ncpoc", "TT")
    jm = await world.element_person("jm", "ncpoc", "JM")
    assert jm.cross_signed, "the Element client cross-signed its device"
    await world.start_bot()
    rcc = await world.rcc_room(chair, [tt])
    await chair.invite(rcc, jm.user_id)
    await chair.wait_member(rcc, jm.user_id)  # the Element client joins what it is invited to

    # A command typed in a thread: the SDK places the bot's answer in that thread.
    root = await jm.send(rcc, "Planning the Q4 status round")
    asked = await jm.send(rcc, "!whoami", thread=root)
    answer = await jm.seen(lambda e: e["sender"] == world.bot_id and "NCPOC" in body(e))
    assert answer["encrypted"] and answer["thread_root"] == root
    assert answer["relates_to"]["m.in_reply_to"]["event_id"] == asked
    assert "Your session ELEMENT is verified (cross-signed by you)" in answer["content"]["body"]

    # The motion's poll, parsed by the SDK's poll model as Element renders it.
    opened = await chair.ask(rcc, "!motion propose legal.cybercrime tlp=green Act enacted")
    assert "MO-1 is open" in opened.body
    poll = await jm.seen(lambda e: e["type"] == START and e["room"] == rcc)
    assert "poll_error" not in poll, poll.get("poll_error")
    assert "MO-1" in poll["poll"]["question"] and poll["poll"]["max"] == 1
    choices = {a["text"].lower(): a["id"] for a in poll["poll"]["answers"]}
    assert set(choices) >= {"yes", "no", "abstain"}, choices
    sent = await wait_for(
        lambda: world.rows(
            OutboxMessage, OutboxMessage.event_type == START, OutboxMessage.state == "sent"
        )
    )
    assert sent[0].event_id == poll["id"]
    # Clicking "yes" in Element: the country's vote, confirmed in a DM the client joined.
    await jm.vote(rcc, poll["id"], choices["yes"])
    told = await jm.seen(
        lambda e: e["room"] != rcc and "votes yes on MO-1" in e["content"].get("body", "")
    )
    assert "Jamaica votes yes on MO-1." in told["content"]["body"] and told["encrypted"]
    votes = await world.rows(Vote)
    assert [(v.country, v.choice) for v in votes] == [("JM", "yes")]
