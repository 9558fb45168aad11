"""Meetings with an agenda, minutes with what was agreed and actioned, actions followed up
(both backends, through the dispatcher)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.files import render_file
from commands.values import RoomKind
from tests.helpers import (
    CHAIR,
    JM1,
    STEERING,
    STEERING_MEMBERS,
    TT1,
    Postman,
    body_of,
    say,
    text_of,
)

ROOM = "!steering:test.org"


@pytest.fixture
async def committee(app):
    app.rooms[RoomKind.STEERING] = ROOM
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    app.test_rooms.set(ROOM, STEERING_MEMBERS)
    await Postman(app).deliver_all()
    return app


async def chair(app, text, room=ROOM):
    outcome = await say(app, CHAIR, text, room=room, kind="steering" if room == ROOM else "rcc")
    assert outcome.outcome == "accepted", text_of(outcome)
    return text_of(outcome)


async def test_a_meetings_minutes_hold_what_was_agreed_actioned_and_noted(committee, clock):
    app = committee
    made = await chair(app, "!meeting add 2026-11-20 14:00 First quarterly review room=steering")
    assert "MT-1 “First quarterly review” on " in made and "agenda goes out 2 days ahead" in made
    started = await chair(app, "!minutes start")
    assert "Minutes of MT-1 “First quarterly review” are being taken here" in started
    await chair(app, "!agreed The Q4 digest goes to CONSLE as it stands")
    actioned = await chair(app, "!action RIFC due=2027-03-31 Report on the capacity centre")
    assert actioned.startswith("📌 AC-1 for RIFC, due Wed 31 Mar 2027 17:00")
    await chair(app, f"!action {JM1} due=2027-01-15 Circulate the strategy draft")
    noted = await say(app, STEERING, "!info CTU has two new CIRT members", room=ROOM,
                      kind="steering")  # fmt: skip
    assert "Noted in the minutes of MT-1" in text_of(noted)
    outside = await say(app, CHAIR, "!agreed something", room="!rcc:test.org")
    assert "no minutes are being taken in this room" in text_of(outside)
    stop = await say(app, CHAIR, "!minutes stop", room=ROOM, kind="steering")
    body = text_of(stop)
    assert "Minutes of MT-1 “First quarterly review”" in body
    assert "- [TLP:AMBER] The Q4 digest goes to CONSLE as it stands" in body
    assert "- AC-1 [TLP:AMBER] RIFC, due Wed 31 Mar 2027 17:00" in body
    assert "AC-2 [TLP:AMBER] @jm1:test.org" in body
    assert "- [TLP:AMBER] CTU has two new CIRT members (@steer:test.org)" in body
    (file,) = stop.replies[0].files
    page = render_file(app.renderer, "minutes-html", file.data).decode()
    assert "Minutes of MT-1" in page and "Report on the capacity centre" in page
    assert "CTU has two new CIRT members" in page
    assert "no minutes" in text_of(await say(app, CHAIR, "!agreed late", room=ROOM,
                                              kind="steering"))  # fmt: skip
    mine = text_of(await say(app, JM1, "!actions mine"))
    assert "AC-2 [TLP:AMBER] @jm1:test.org — Circulate the strategy draft" in mine
    assert "AC-1" not in mine
    # Said in the Steering room: its members read the actions there, in full.
    rifc = text_of(await say(app, STEERING, "!actions RIFC", room=ROOM, kind="steering"))
    assert "AC-1 [TLP:AMBER] RIFC" in rifc
    refused = await say(app, TT1, "!action done AC-2 not mine")
    assert refused.outcome == "refused"
    assert "AC-2 is done" in text_of(await say(app, JM1, "!action done AC-2 sent on 3 Dec"))
    open_ = text_of(await say(app, STEERING, "!actions", room=ROOM, kind="steering"))
    assert "AC-1" in open_ and "AC-2" not in open_


async def test_an_overdue_action_is_reminded_once_and_shows_in_agenda_and_digest(committee, clock):
    app, postman = committee, Postman(committee)
    await chair(app, f"!action {JM1} due=2026-11-10 Send the updated contact list")
    await chair(app, "!action RIFC due=2026-11-30 Capacity plan")
    await postman.deliver_all()
    due = datetime(2026, 11, 10, 21, tzinfo=UTC)  # 17:00 in Port of Spain
    assert await app.jobs.run("action", 1) == due - timedelta(days=3)
    clock.current = due - timedelta(days=3) + timedelta(minutes=1)
    await app.jobs.run("action", 1)
    before = await postman.deliver_all()
    assert [(r.to_user, r.room_id) for r in before] == [(JM1, f"!dm-{JM1}")]
    assert "Your action AC-1 is due" in body_of(before[0])
    clock.advance(timedelta(days=4))  # a day after it fell due
    await app.jobs.run("action", 1)
    overdue = await postman.deliver_all()
    assert sorted(r.to_user for r in overdue) == sorted([JM1, CHAIR])
    assert all("AC-1 (@jm1:test.org) was due" in body_of(r) for r in overdue)
    assert await app.jobs.run("action", 1) is None
    assert await postman.deliver_all() == []  # once
    # A body's action is followed up through the chair.
    clock.advance(timedelta(days=17))  # two days before AC-2 is due
    await app.jobs.run("action", 2)
    (ahead,) = await postman.deliver_all()
    assert ahead.to_user == CHAIR and "RIFC's action AC-2 is due" in body_of(ahead)
    clock.advance(timedelta(days=3))
    await app.jobs.run("action", 2)
    (told,) = await postman.deliver_all()
    assert told.to_user == CHAIR and "AC-2 (RIFC) was due" in body_of(told)
    # The next meeting's agenda and the next digest carry them, overdue.
    await chair(app, "!meeting add 2026-12-30 10:00 Year end room=steering")
    await postman.deliver_all()
    starts = datetime(2026, 12, 30, 14, tzinfo=UTC)  # 10:00 in Port of Spain
    clock.current = starts - timedelta(days=2, minutes=-1)  # the agenda goes out 2 days ahead
    await app.jobs.run("meeting", 1)
    (agenda,) = [r for r in await postman.deliver_all() if r.room_id == ROOM]
    text = body_of(agenda)
    assert "Agenda of MT-1 “Year end”" in text
    assert "AC-1 [TLP:AMBER] @jm1:test.org — Send the updated contact list (due" in text
    assert "OVERDUE" in text and "AC-2 [TLP:AMBER] RIFC" in text  # said in this very room
    await app.jobs.run("meeting", 1)
    assert [r for r in await postman.deliver_all() if r.room_id == ROOM] == []  # once
    digest = await say(app, STEERING, "!digest", room=ROOM, kind="steering")
    (here,) = [r for r in digest.replies if r.room_id == ROOM]
    assert "the chair has been asked" in here.message.body  # no digest without the chair
    (draft,) = [r for r in digest.replies if r.to_user == CHAIR and "DG-1" in r.message.body]
    assert "Open actions (2 overdue):" in draft.message.body
    assert "AC-1 @jm1:test.org: Send the updated contact list" in draft.message.body
    await postman.deliver_all()
    clock.current = starts - timedelta(minutes=30)  # within the hour before
    await app.jobs.run("meeting", 1)
    (reminder,) = [r for r in await postman.deliver_all() if r.room_id == ROOM]
    assert "MT-1 “Year end” starts" in body_of(reminder)


async def test_an_action_s_reminder_is_in_its_owner_s_language(committee, clock):
    """A job's plain reminder is written for each reader: the owner's in French with a French
    date, the chair's copy of the overdue notice in English."""
    app, postman = committee, Postman(committee)
    assert (await say(app, JM1, "!lang fr", room=f"!dm-{JM1}", kind="direct")).outcome == (
        "accepted"
    )
    await chair(app, f"!action {JM1} due=2026-11-10 Send the updated contact list")
    await postman.deliver_all()
    due = datetime(2026, 11, 10, 21, tzinfo=UTC)
    clock.current = due - timedelta(days=3) + timedelta(minutes=1)
    await app.jobs.run("action", 1)
    (before,) = await postman.deliver_all()
    assert "📌 Votre action AC-1 est due mar. 10 nov. 2026 17:00" in body_of(before)
    clock.advance(timedelta(days=4))
    await app.jobs.run("action", 1)
    told = {r.to_user: body_of(r) for r in await postman.deliver_all()}
    assert "AC-1 (@jm1:test.org) était due mar. 10 nov. 2026" in told[JM1]
    assert "AC-1 (@jm1:test.org) was due Tue 10 Nov 2026" in told[CHAIR]


async def test_a_recurring_meeting_schedules_the_next_one_once(committee, clock):
    app = committee
    said = await chair(app, "!meeting add 2026-11-20 10:00 Steering quarterly every=quarter")
    assert "MT-1" in said
    starts = datetime(2026, 11, 20, 14, tzinfo=UTC)  # 10:00 in Port of Spain
    clock.current = starts - timedelta(minutes=30)  # the reminder goes out: the next is planned
    await app.jobs.run("meeting", 1)
    await app.jobs.run("meeting", 1)
    async with app.db.unit(write=False) as store:
        upcoming = await store.meetings.upcoming()
    assert [(m.number, m.title, m.every) for m in upcoming] == [
        (1, "Steering quarterly", "quarter"),
        (2, "Steering quarterly", "quarter"),
    ]  # once: no MT-3
    assert upcoming[1].starts_at == datetime(2027, 2, 20, 14, tzinfo=UTC)  # same local time
    listed = await chair(app, "!meetings")
    assert "MT-2" in listed and "every quarter" in listed
