"""Nothing reaches the Steering Committee without the chair: digests as drafts (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.files import render_file
from commands.digest.compose import DigestConfig
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
    assert "draft DG-1, version 1, of the Steering Committee digest" in body_of(draft)
    assert "!digest approve DG-1 v1" in body_of(draft)
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
    held = await say(app, CHAIR, "!digest hold DG-1 wait for the TT figures")
    assert "DG-1 is held and will not be published" in said(held)
    assert (await say(app, CHAIR, "!digest approve DG-1")).outcome == "invalid"


async def test_an_unapproved_draft_expires_and_can_no_longer_be_approved(scheduled, clock):
    app, postman = scheduled, Postman(scheduled)
    await app.jobs.run("digest", 0)
    await postman.deliver_all()
    clock.advance(app.sections[DigestConfig].expires + timedelta(minutes=1))
    late = await say(app, CHAIR, "!digest approve DG-1")
    assert late.outcome == "invalid" and "expired" in said(late)
    assert all(r.room_id != STEERING_ROOM for r in await postman.deliver_all())
    assert await app.jobs.run("digest approval", 1) is None  # its job marks it and is over
    async with app.db.unit(write=False) as store:
        assert (await store.digests.get_draft(1)).state == "expired"


async def test_a_requested_steering_digest_goes_to_the_chair_first(scheduled):
    app, postman = scheduled, Postman(scheduled)
    told = await say(app, STEERING, "!digest period=2026-11 to=steering", room="!st",
                     kind="steering")  # fmt: skip
    assert "No digest has been approved yet; the chair has been asked (DG-1)" in said(told)
    sent = await postman.deliver_all()
    assert {r.room_id for r in sent} == {f"!dm-{CHAIR}", "!st"}  # the draft, and the answer
    assert all(r.room_id != STEERING_ROOM for r in sent)
    bad = await say(app, CHAIR, "!digest omit DG-1 everything")
    assert bad.outcome == "invalid" and "neither a record" in said(bad)


async def test_the_chairs_approval_is_not_bypassed_from_the_steering_room(scheduled):
    app, postman = scheduled, Postman(scheduled)
    await app.jobs.run("digest", 0)
    direct = {"room": f"!dm-{CHAIR}", "kind": "direct"}
    assert (await say(app, CHAIR, "!digest omit DG-1 INC-1", **direct)).outcome == "accepted"
    assert (await say(app, CHAIR, "!digest hold DG-1 not yet", **direct)).outcome == "accepted"
    await postman.deliver_all()
    # A Steering member asks in the Steering room, and for the steering report anywhere.
    for text, room, kind in (
        ("!digest", STEERING_ROOM, "steering"),
        ("!digest period=2026-11", STEERING_ROOM, "steering"),
        ("!report steering", f"!dm-{STEERING}", "direct"),
        ("!digest", f"!dm-{STEERING}", "direct"),
    ):
        outcome = await say(app, STEERING, text, room=room, kind=kind)
        assert outcome.outcome == "accepted", (text, said(outcome))
        assert "No digest has been approved yet" in said(outcome) or "is with the chair" in (
            said(outcome)
        )
    sent = await postman.deliver_all()
    shown = everything(app, [r for r in sent if r.room_id != f"!dm-{CHAIR}"])
    assert "Card skimming ring" not in shown and "Substation probe" not in shown
    assert all(r.kind == "message" for r in sent if r.room_id != f"!dm-{CHAIR}")
    # Once one is approved, that is what they are pointed to.
    await say(app, CHAIR, "!digest approve DG-2 v1", **direct)
    published = [r for r in await postman.deliver_all() if r.room_id == STEERING_ROOM]
    assert published
    pointer = await say(app, STEERING, "!digest", room=STEERING_ROOM, kind="steering")
    assert "the latest is DG-2" in said(pointer) and "matrix.to" in said(pointer)
    sent = await postman.deliver_all()
    assert [r.kind for r in sent] == ["message"]  # a pointer, no new digest
    # A digest in the RCC room is the RCC's, not the Steering Committee's: the chair's own.
    rcc = await say(app, CHAIR, "!digest period=2026-11")
    assert "Card skimming ring" in said(rcc)


async def test_an_approval_after_the_draft_changed_publishes_nothing(scheduled):
    app, postman = scheduled, Postman(scheduled)
    await app.jobs.run("digest", 0)
    first = everything(app, await postman.deliver_all())
    assert "Substation probe" in first
    raised = await say(app, TT1, "!incident edit INC-2 tlp=red")  # raised after it was built
    assert raised.outcome == "accepted", said(raised)
    edited = await say(app, JM1, "!incident edit INC-1 title=Card skimming gang arrested")
    assert edited.outcome == "accepted", said(edited)
    await postman.deliver_all()
    refused = await say(app, CHAIR, "!digest approve DG-1")
    assert "⛔ DG-1 changed since your copy was built" in said(refused)
    assert "incidents" in said(refused) and "Version 2" in said(refused)
    resent = await postman.deliver_all()
    assert all(r.room_id in (f"!dm-{CHAIR}", "!rcc:test.org") for r in resent)
    again = everything(app, [r for r in resent if r.room_id == f"!dm-{CHAIR}"])
    assert "version 2" in again and "Substation probe" not in again
    assert "Card skimming gang arrested" in again
    stale_one = await say(app, CHAIR, "!digest approve DG-1 v1")
    assert stale_one.outcome == "invalid" and "at version 2 now" in said(stale_one)
    ok = await say(app, CHAIR, "!digest approve DG-1 v2")
    assert ok.outcome == "accepted", said(ok)
    published = everything(
        app, [r for r in await postman.deliver_all() if r.room_id == STEERING_ROOM]
    )
    assert "Substation probe" not in published and "Card skimming ring" not in published


async def test_with_two_chairs_an_approval_names_the_version_read(make_app, clock):
    from tests.helpers import DEFAULT_ROSTER

    second = '[[roster]]\nuser_id = "@chair2:test.org"\nrole = "chair"\n'
    app = await make_app('[digest]\napproval = "chair"\n', roster=DEFAULT_ROSTER + second)
    app.rooms[RoomKind.STEERING] = STEERING_ROOM
    app.test_rooms.set(STEERING_ROOM, STEERING_MEMBERS)
    drafted = await say(app, CHAIR, "!digest to=steering")
    assert "DG-1" in said(drafted)
    bare = await say(app, "@chair2:test.org", "!digest approve DG-1")
    assert bare.outcome == "invalid" and "name the version you read" in said(bare)
    await say(app, CHAIR, "!digest omit DG-1 lessons", room=f"!dm-{CHAIR}", kind="direct")
    old = await say(app, "@chair2:test.org", "!digest approve DG-1 v1")
    assert old.outcome == "invalid" and "at version 2 now" in said(old)
    assert (await say(app, "@chair2:test.org", "!digest approve DG-1 v2")).outcome == "accepted"
