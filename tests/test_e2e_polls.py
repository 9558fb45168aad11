"""Polls as a mirror of motions, through Synapse (issue 37): the motion's poll is posted in the
RCC room as Element sends polls; an NCPOC's answer, sent as Element sends it (encrypted),
counts as the country's vote; the chair's answer does not."""

from __future__ import annotations

import pytest

from devkit.synapse import wait_for
from storage.motions import Vote
from storage.outbox import OutboxMessage

pytestmark = pytest.mark.synapse

START = "org.matrix.msc3381.poll.start"
RESPONSE = "org.matrix.msc3381.poll.response"


async def answer(person, room: str, poll: str, choice: str) -> None:
    content = {
        "m.relates_to": {"rel_type": "m.reference", "event_id": poll},
        RESPONSE: {"answers": [choice]},
    }
    response = await person.client.room_send(
        room, RESPONSE, content, ignore_unverified_devices=True
    )
    assert getattr(response, "event_id", None), response


async def test_an_ncpocs_poll_answer_is_the_countrys_vote_and_the_chairs_is_not(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])
    jm.accept_invites()
    opened = await chair.ask(rcc, "!motion propose legal.cybercrime tlp=green Act enacted")
    assert "MO-1 is open" in opened.body
    polls = await wait_for(
        lambda: world.rows(
            OutboxMessage, OutboxMessage.event_type == START, OutboxMessage.state == "sent"
        )
    )
    poll = polls[0].event_id
    await answer(chair, rcc, poll, "no")  # the chair does not vote: ignored
    await answer(jm, rcc, poll, "yes")
    told = await wait_for(
        lambda: [e for r, e in jm.messages if r != rcc and "votes yes on MO-1" in e.body]
    )
    assert "Jamaica votes yes on MO-1." in told[0].body
    votes = await world.rows(Vote)
    assert [(v.country, v.choice) for v in votes] == [("JM", "yes")]
