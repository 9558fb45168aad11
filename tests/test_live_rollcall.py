"""The live roll-call (issue 37): one message in the RCC room, pinned while the broadcast is
open, edited in place as countries answer — at most one edit every 20 seconds — and unpinned
once every country has answered (both backends)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from commands.values import RoomKind
from tests.helpers import CHAIR, JM1, TT2, Postman, say, text_of

RCC = "!rcc:test.org"
JOB = "broadcast roll-call"


@pytest.fixture
async def sent(app):
    app.rooms[RoomKind.RCC] = RCC
    outcome = await say(app, CHAIR, "!broadcast severity=critical Patch VPN appliances now")
    assert outcome.outcome == "accepted", text_of(outcome)
    await app.jobs.run("broadcast", 1)
    await Postman(app).deliver_all()
    return app


def live(rows) -> list[dict]:
    return [json.loads(r.content) for r in rows if (r.ref or "").startswith("rollcall:")]


async def test_one_pinned_roll_call_edited_as_countries_answer_then_unpinned(sent, clock):
    app, postman = sent, Postman(sent)
    await app.jobs.run(JOB, 1)
    (first,) = live(await postman.deliver_all())
    assert "0/2 countries acknowledged" in first["body"]
    original = (await postman_sent(app))[0]
    await app.jobs.run(JOB, 1)
    (pinned,) = [r for r in await postman.deliver_all() if r.kind == "pin"]
    assert json.loads(pinned.content) == {"event_id": original, "pin": True}
    assert pinned.event_type == "m.room.pinned_events"
    await say(app, TT2, "!ack BC-1", room="!dm-tt2", kind="direct")
    await app.jobs.run(JOB, 1)
    (edit,) = live(await postman.deliver_all())
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": original}
    assert "1/2 countries acknowledged" in edit["m.new_content"]["body"]
    assert edit["body"].startswith("* ")
    await say(app, JM1, "!ack BC-1", room="!dm-jm1", kind="direct")
    again = await app.jobs.run(JOB, 1)  # within 20 s of the last edit: coalesced
    assert not live(await postman.deliver_all()) and again is not None
    clock.advance(timedelta(seconds=21))
    assert await app.jobs.run(JOB, 1) is None  # every country answered: over
    rows = await postman.deliver_all()
    (last,) = live(rows)
    assert "2/2 countries acknowledged" in last["m.new_content"]["body"]
    (unpinned,) = [r for r in rows if r.kind == "pin"]
    assert json.loads(unpinned.content) == {"event_id": original, "pin": False}


async def postman_sent(app) -> list[str]:
    """The event IDs the roll-call's first message was sent as."""
    async with app.db.unit(write=False) as store:
        first = await store.outbox.first_sent("rollcall:1", RCC)
        return [first.event_id] if first else []
