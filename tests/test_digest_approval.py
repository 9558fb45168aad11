"""Nothing reaches the Steering Committee without the chair: digests as drafts (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.files import render_file
from commands.values import RoomKind
from tests.helpers import CHAIR, JM1, STEERING, STEERING_MEMBERS, TT1, Postman, body_of, say
from tests.helpers import text_of as said

STEERING_ROOM = "!steering:test.org"


@pytest.fixture
async def scheduled(make_app, clock):
    app = await make_app('[digest]\nschedule = "0 9 1 * *"\napprove_within = "2d"\n')
    app.rooms[RoomKind.STEERING] = STEERING_ROOM
    app.test_rooms.set(STEERING_ROOM, STEERING_MEMBERS)
    for who, text in (
        (JM1, "!status set legal.strategy met"),
        (JM1, "!incident new severity=high tlp=green sectors=finance Card skimming ring"),
        (TT1, "!incident new severity=high tlp=green sectors=energy Substation probe"),
        (TT1, "!lesson add tags=ddos Ask upstream for scrubbing early"),
    ):
        assert (await say(app, who, text)).outcome == "accepted"
    await app.jobs.run("digest", 0)  # the first run: nothing due from before it
    await Postman(app).deliver_all()  # the replies to the above
    clock.current = datetime(2026, 12, 1, 13, 0, 5, tzinfo=UTC)  # the 1 December slot
    return app


def everything(app, rows) -> str:
    """Every rendering of the messages: bodies, HTML, and the files' own renderings."""
    parts = []
    for row in rows:
        content = json.loads(row.content)
        if row.kind == "file":
            data = content["data"]
            parts.append(render_file(app.renderer, content["renderer"], data).decode("latin-1"))
        else:
            parts += [content["body"], content.get("formatted_body", "")]
    return "\n".join(parts)


async def test_a_scheduled_digest_is_a_draft_published_only_once_approved(scheduled, clock):
    app, postman = scheduled, Postman(scheduled)
    await app.jobs.run("digest", 0)
    sent = await postman.deliver_all()
    assert {r.room_id for r in sent} == {f"!dm-{CHAIR}"}  # the chair alone: nothing published
    (draft,) = [r for r in sent if r.kind == "message"]
    assert "draft DG-1 of the Steering Committee digest" in body_of(draft)
    assert "digest for November 2026" in body_of(draft)
    assert sorted(r.kind for r in sent) == ["file", "file", "message"]
    await app.jobs.run("digest", 0)
    assert await postman.deliver_all() == []  # the slot is drafted once
    refused = await say(app, STEERING, "!digest approve DG-1", room="!st", kind="steering")
    assert refused.outcome == "refused"
    approved = await say(app, CHAIR, "!digest approve DG-1")
    assert "DG-1 is on its way to the Steering Committee room" in said(approved)
    published = [r for r in await postman.deliver_all() if r.room_id == STEERING_ROOM]
    assert sorted(r.kind for r in published) == ["file", "file", "message"]
    message = next(r for r in published if r.kind == "message")
    assert body_of(message) == body_of(draft).split("\n\n", 1)[1]  # exactly what was approved
    again = await say(app, CHAIR, "!digest approve DG-1")
    assert "DG-1 is published already" in said(again)


async def test_an_omitted_item_is_absent_from_every_rendering(scheduled):
    app, postman = scheduled, Postman(scheduled)
    await app.jobs.run("digest", 0)
    first = everything(app, await postman.deliver_all())
    assert "Card skimming ring" in first and "Substation probe" in first
    assert "Ask upstream" in first
    outcome = await say(app, CHAIR, "!digest omit DG-1 INC-1", room=f"!dm-{CHAIR}", kind="direct")
    assert outcome.outcome == "accepted", said(outcome)
    await say(app, CHAIR, "!digest omit DG-1 lessons", room=f"!dm-{CHAIR}", kind="direct")
    revised = await postman.deliver_all()
    last = everything(app, revised[-3:])  # the latest draft: its message and two files
    assert "Left out at your request: INC-1, lessons." in last
    assert "Card skimming ring" not in last and "INC-1" not in last.replace(
        "Left out at your request: INC-1", ""
    )
    assert "Ask upstream" not in last and "Substation probe" in last
    assert "1 more" not in last and "not shown" not in last  # no marker of what was left out
    await say(app, CHAIR, "!digest approve DG-1")
    published = everything(app, await postman.deliver_all())
    assert "Card skimming ring" not in published and "Substation probe" in published
    async with app.db.unit(write=False) as store:
        trail = [e.detail for e in await store.audit.recent(limit=20)]
    assert any("DG-1 omit INC-1" in d for d in trail)


async def test_a_draft_is_sent_again_once_and_never_published_by_itself(scheduled, clock):
    app, postman = scheduled, Postman(scheduled)
    await app.jobs.run("digest", 0)
    await postman.deliver_all()
    assert await app.jobs.run("digest approval", 1) == clock() + timedelta(days=2)
    clock.advance(timedelta(days=2, minutes=1))
    await app.jobs.run("digest approval", 1)
    again = await postman.deliver_all()
    assert {r.room_id for r in again} == {f"!dm-{CHAIR}"}
    assert "Still waiting for your approval: draft DG-1" in body_of(again[0])
    clock.advance(timedelta(days=30))
    assert await app.jobs.run("digest approval", 1) is None
    assert await postman.deliver_all() == []  # once, and never to the Steering room
    held = await say(app, CHAIR, "!digest hold DG-1 wait for the TT figures")
    assert "DG-1 is held and will not be published" in said(held)
    assert (await say(app, CHAIR, "!digest approve DG-1")).outcome == "invalid"


async def test_a_requested_steering_digest_goes_to_the_chair_first(scheduled):
    app, postman = scheduled, Postman(scheduled)
    told = await say(app, STEERING, "!digest period=2026-11 to=steering", room="!st",
                     kind="steering")  # fmt: skip
    assert "DG-1 is with the chair" in said(told)
    sent = await postman.deliver_all()
    assert {r.room_id for r in sent} == {f"!dm-{CHAIR}", "!st"}  # the draft, and the answer
    assert all(r.room_id != STEERING_ROOM for r in sent)
    bad = await say(app, CHAIR, "!digest omit DG-1 everything")
    assert bad.outcome == "invalid" and "neither a record" in said(bad)
