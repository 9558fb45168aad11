"""Calendar files (issue 37): the meetings, deadlines and actions a reader may see, parsed back
with `icalendar` — repeats, alarms, the label in each description, UIDs that stay the same
when the file is made again (both backends, through the dispatcher)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from bot.files import render_file
from commands.values import RoomKind
from tests.helpers import CHAIR, JM1, STEERING, STEERING_MEMBERS, Postman, say, text_of

ROOM = "!steering:test.org"


@pytest.fixture
async def dated(app):
    app.rooms[RoomKind.STEERING] = ROOM
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    app.test_rooms.set(ROOM, STEERING_MEMBERS)
    for text in (
        "!meeting add 2026-11-05 10:00 Kick-off room=steering",
        "!minutes start",
        "!action RIFC due=2027-03-31 tlp=green Report on the capacity centre",
        f"!action {JM1} due=2027-01-15 Circulate the strategy draft",  # AMBER by default
        "!minutes stop",
        "!meeting add 2026-12-20 14:00 Quarterly review room=steering every=quarter",
    ):
        outcome = await say(app, CHAIR, text, room=ROOM, kind="steering")
        assert outcome.outcome == "accepted", text_of(outcome)
    made = await say(app, CHAIR, "!deadline add 2026-12-15 Q4 status report every=quarter "
                     "remind=14d,7d")  # fmt: skip
    assert made.outcome == "accepted", text_of(made)
    await Postman(app).deliver_all()
    return app


async def calendar_of(app, sender, command) -> Calendar:
    outcome = await say(app, sender, command, room=f"!dm-{sender}", kind="direct")
    assert outcome.outcome == "accepted", text_of(outcome)
    (reply,) = outcome.replies
    (spec,) = reply.files
    assert (spec.filename.endswith(".ics"), spec.mimetype) == (True, "text/calendar")
    return Calendar.from_ical(render_file(app.renderer, "calendar-ics", spec.data))


def by_uid(calendar: Calendar) -> dict:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


async def test_meetings_and_deadlines_repeat_with_their_alarms_and_label(dated):
    app = dated
    meetings = by_uid(await calendar_of(app, STEERING, "!meetings ics"))
    (uid,) = meetings
    assert uid == "rcc-mt-2@test.org"  # MT-1 was held: only meetings ahead
    meeting = meetings[uid]
    assert str(meeting["SUMMARY"]) == "MT-2 Quarterly review"
    assert meeting["RRULE"]["FREQ"] == ["MONTHLY"] and meeting["RRULE"]["INTERVAL"] == [3]
    assert "[TLP:GREEN]" in str(meeting["DESCRIPTION"])
    (alarm,) = meeting.walk("VALARM")
    assert alarm["TRIGGER"].dt == -timedelta(hours=1)
    deadlines = by_uid(await calendar_of(app, JM1, "!deadlines ics"))
    deadline = deadlines["rcc-dl-1@test.org"]
    assert str(deadline["SUMMARY"]) == "DL-1 Q4 status report"
    triggers = sorted(a["TRIGGER"].dt for a in deadline.walk("VALARM"))
    assert triggers == [-timedelta(days=14), -timedelta(days=7)]
    again = by_uid(await calendar_of(app, STEERING, "!meetings ics"))
    assert set(again) == set(meetings)  # made again: the same UIDs, so nothing is duplicated


async def test_actions_only_as_the_reader_may_see_them(dated):
    from commands.audience import FILE_AUDIENCES, Viewer
    from commands.calendars import events

    app = dated
    mine = by_uid(await calendar_of(app, JM1, "!actions ics"))
    assert set(mine) == {"rcc-ac-1@test.org", "rcc-ac-2@test.org"}
    described = str(mine["rcc-ac-2@test.org"]["DESCRIPTION"])
    assert described.startswith("[TLP:AMBER] Circulate the strategy draft")
    async with app.db.unit(write=False) as store:  # as `rcc-bot calendar` writes it
        viewer = Viewer(FILE_AUDIENCES["steering"])
        found = await events(store, app.sections, viewer, app.clock(), ("actions",))
    assert [e["uid"] for e in found] == ["rcc-ac-1@test.org"]  # the AMBER one is not theirs
    done = await say(app, CHAIR, "!action done AC-1 delivered", room=ROOM, kind="steering")
    assert done.outcome == "accepted", text_of(done)
    after = by_uid(await calendar_of(app, JM1, "!actions ics"))
    assert set(after) == {"rcc-ac-2@test.org"}  # done: no longer in the calendar
    in_room = await say(app, JM1, "!actions ics")
    assert in_room.outcome == "invalid" and "direct message" in text_of(in_room)


def test_rcc_bot_calendar_writes_an_ics_file(tmp_path, monkeypatch, capsys):
    from bot.cli import main
    from tests.helpers import write_config

    monkeypatch.setattr("bot.cli.configure_logging", lambda level: None)
    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
    assert main(["db", "upgrade", "--config", str(path)]) == 0
    out = tmp_path / "cal" / "rcc.ics"
    assert main(["calendar", "--config", str(path), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    calendar = Calendar.from_ical(out.read_bytes())
    assert str(calendar["VERSION"]) == "2.0"
    assert main(["calendar", "--config", str(path), "--out", str(tmp_path / "x.txt")]) == 1
