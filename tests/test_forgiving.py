"""Input as people really type it, from a table: understood, or answered with the fix.

The app's clock reads Monday 2 November 2026, 10:00 in the committee's zone
(America/Port_of_Spain)."""

from __future__ import annotations

import pytest

from tests.helpers import CHAIR, JM1, say, text_of


async def latest_state(app, item: str) -> str | None:
    async with app.db.unit(write=False) as store:
        found = {u.item_id: u.state for u in await store.status.latest("JM")}
    return found.get(item)


@pytest.mark.parametrize(
    ("typed", "item", "state"),
    [
        ("!status set technical.forensics not started", "technical.forensics", "not-started"),
        ("!status set legal.privacy In Progress drafting", "legal.privacy", "in-progress"),
        ("!status set met legal.privacy", "legal.privacy", "met"),  # the other way round
        ("!status set in legal.cybercrime", "legal.cybercrime", "in-progress"),  # a prefix
        ("!status set legal.strategy done", "legal.strategy", "met"),
    ],
)
async def test_states_as_people_type_them(app, typed, item, state):
    outcome = await say(app, JM1, typed)
    assert outcome.outcome == "accepted", text_of(outcome)
    assert await latest_state(app, item) == state


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ('!incident new severity=high tlp=green title="Tax portal down"', "Tax portal down"),
        ("!incident new severity=high tlp=green title=“Tax portal down”", "Tax portal down"),
        ("!incident new tlp=green title=Outage severity=low", "Outage"),
        ("!incident new severity=low tlp=green Mail relay abused", "Mail relay abused"),
    ],
)
async def test_a_title_quoted_by_name(app, typed, title):
    outcome = await say(app, JM1, typed)
    assert outcome.outcome == "accepted", text_of(outcome)
    async with app.db.unit(write=False) as store:
        assert (await store.incidents.get(1)).title == title


async def test_ids_bare_numbers_and_a_hint_for_the_command_meant(app):
    await say(app, JM1, "!incident new severity=low tlp=green Defacement")
    await say(app, JM1, "!incident new severity=low tlp=green Second")
    bare = await say(app, JM1, "!incident update 2 contained by the host")
    assert bare.outcome == "accepted" and "INC-2" in text_of(bare), text_of(bare)
    closed = await say(app, JM1, "!incident update 1 status=closed all done")
    assert closed.outcome == "invalid"
    assert "!incident close INC-n <summary>" in text_of(closed)


async def test_a_multi_word_area_ends_where_the_lesson_begins(app):
    outcome = await say(app, JM1, "!lesson add area=Legal environment Keep the MoUs current")
    assert outcome.outcome == "accepted", text_of(outcome)
    async with app.db.unit(write=False) as store:
        lesson = await store.lessons.get(1)
    assert lesson.area == "legal" and lesson.text == "Keep the MoUs current"
    quoted = await say(app, JM1, '!lesson add area="Public awareness" Posters work')
    assert quoted.outcome == "accepted", text_of(quoted)
    async with app.db.unit(write=False) as store:
        lesson = await store.lessons.get(2)
    assert lesson.area == "awareness" and lesson.text == "Posters work"


async def test_an_option_value_by_a_unique_prefix(app):
    outcome = await say(app, JM1, "!resource add kind=expert Malware analysts, two")
    assert outcome.outcome == "accepted", text_of(outcome)
    assert "expertise" in text_of(outcome)


@pytest.mark.parametrize(
    ("typed", "echoed", "title"),
    [
        ("!deadline add tomorrow 17:00 Q4 report", "Tue 3 Nov 2026 17:00", "Q4 report"),
        ("!deadline add 2026-11-29 1:43pm Q4 report", "Sun 29 Nov 2026 13:43", "Q4 report"),
        ("!deadline add next Friday Q4 report", "Fri 6 Nov 2026 17:00", "Q4 report"),
        ("!deadline add in 3 days Q4 report", "Thu 5 Nov 2026 17:00", "Q4 report"),
        ("!deadline add 2026-12-15T17:00 Q4 report", "Tue 15 Dec 2026 17:00", "Q4 report"),
        ("!deadline add 15 December 9am Q4 report", "Tue 15 Dec 2026 09:00", "Q4 report"),
        ('!deadline add 2026-12-15 title="Q4 report"', "Tue 15 Dec 2026 17:00", "Q4 report"),
        ("!deadline add 2026-12-15 3 reports due", "Tue 15 Dec 2026 17:00", "3 reports due"),
    ],
)
async def test_natural_dates_in_the_committees_zone_echoed_in_full(app, typed, echoed, title):
    outcome = await say(app, CHAIR, typed)
    assert outcome.outcome == "accepted", text_of(outcome)
    assert f"“{title}” is due {echoed} (America/Port_of_Spain)" in text_of(outcome)


async def test_a_date_that_is_not_one_is_answered_with_the_forms(app):
    outcome = await say(app, CHAIR, "!deadline add someday Q4 report")
    assert outcome.outcome == "invalid"
    assert "not a date like 2026-12-15" in text_of(outcome)


async def test_an_edited_command_is_answered_once_and_never_run(app):
    original = "$original"
    first = await say(app, CHAIR, "!roster add @x:test.org role=steering", replaces=original)
    assert first.outcome == "ignored" and "Edits are not run" in text_of(first)
    again = await say(app, CHAIR, "!roster add @x:test.org role=steering", replaces=original)
    assert again is None  # told once per message
    chat = await say(app, CHAIR, "fixed a typo", replaces="$chat")
    assert chat is None  # an edit that is no command is nobody's business
    async with app.db.unit(write=False) as store:
        assert await store.roster.member("@x:test.org") is None


async def test_a_space_after_the_prefix_gets_the_fix(app):
    outcome = await say(app, JM1, "! status")
    assert outcome.outcome == "invalid"
    assert "write commands without a space after !: !status" in text_of(outcome)
    assert await say(app, JM1, "! wow, great work") is None  # chatter stays chatter


async def test_a_reply_to_a_broadcast_that_is_no_ack_gets_a_hint(app):
    from commands.values import RoomKind
    from tests.helpers import Postman

    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    hs = Postman(app)
    await say(app, CHAIR, "!broadcast severity=high Patch the VPN appliances")
    await app.jobs.run("broadcast", 1)
    sent = await hs.deliver_all()
    announcement = next(r for r in sent if r.room_id == "!rcc:test.org")
    thanks = await say(app, JM1, "Received, thanks", reply_to=announcement.event_id)
    assert "not taken as an acknowledgement of BC-1" in text_of(thanks)
    assert "!ack BC-1" in text_of(thanks)
    acked = await say(app, JM1, "ack", reply_to=announcement.event_id)
    assert "BC-1 acknowledged" in text_of(acked)
    assert await say(app, JM1, "thanks again", reply_to=announcement.event_id) is None
