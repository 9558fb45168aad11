"""Incidents with TLP 2.0, lessons learnt and resources, through the dispatcher."""

from __future__ import annotations

import pytest

from commands.tlp import LEVELS
from storage.visibility import InFull
from tests.helpers import CHAIR, JM1, OUTSIDER, STEERING, TT1, TT2, say, text_of

RCC, OTHER = "!rcc:test.org", "!other:test.org"
EVERYTHING = InFull(frozenset(LEVELS))  # every row: what the tests look at behind the rule


async def incidents(app):
    async with app.db.unit(write=False) as store:
        return await store.incidents.find(open_only=False, in_full=EVERYTHING)


async def test_incident_lifecycle_with_history(app):
    new = await say(app, JM1, "!incident new severity=medium tlp=green sectors=Finance Phishing")
    assert new.outcome == "accepted"
    assert "🚨 INC-1 [TLP:GREEN] medium: Phishing" in text_of(new)
    update = await say(app, JM1, "!incident update inc-1 status=contained Domain taken down")
    assert "INC-1 updated (status contained)" in text_of(update)
    closed = await say(app, CHAIR, "!incident close INC-1 No losses")
    assert "INC-1 closed" in text_of(closed)
    shown = text_of(await say(app, STEERING, "!incident show INC-1"))
    assert "INC-1 [TLP:GREEN] medium · closed" in shown
    assert "created" in shown and "update → contained: Domain taken down" in shown
    assert "closed → closed: No losses" in shown
    (incident,) = await incidents(app)
    async with app.db.unit(write=False) as store:
        history = await store.incidents.history(incident)
    assert [(h.kind, h.author) for h in history] == [
        ("created", JM1),
        ("update", JM1),
        ("closed", CHAIR),
    ]
    assert all(h.event_id for h in history)
    second = await say(app, JM1, "!incident new severity=low tlp=clear Second")
    assert "INC-2" in text_of(second)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!incident new severity=high Missing label", "missing tlp="),
        ("!incident new tlp=green No severity", "missing severity="),
        ("!incident new severity=severe tlp=green X", "'severe' is not one of: low, medium"),
        ("!incident new severity=low tlp=purple X", "'purple' is not a TLP label"),
        ("!incident new severity=low tlp=green countries=XX X", "unknown country 'XX'"),
        ("!incident new severity=low tlp=green", "missing title"),
        ("!incident update INC-99 note", "there is no INC-99"),
        ("!incident show INC-99", "there is no INC-99"),
        ("!incident update 12x note", "is not an ID like INC-12"),
        ("!incident list later", "'later' is not one of: open, all"),
    ],
)
async def test_bad_incident_inputs_change_nothing(app, command, expected):
    outcome = await say(app, JM1, command)
    assert outcome.outcome == "invalid" and expected in text_of(outcome)
    assert await incidents(app) == []


async def test_closing_a_closed_incident_is_an_error(app):
    await say(app, JM1, "!incident new severity=low tlp=green X")
    await say(app, JM1, "!incident close INC-1 done")
    again = await say(app, JM1, "!incident close INC-1 done again")
    assert again.outcome == "invalid" and "INC-1 is already closed" in text_of(again)
    update = await say(app, JM1, "!incident update INC-1 more")
    assert "INC-1 is closed; reopen it with status=open" in text_of(update)
    reopened = await say(app, JM1, "!incident update INC-1 status=open Came back")
    assert reopened.outcome == "accepted"
    async with app.db.unit(write=False) as store:
        history = await store.incidents.history((await incidents(app))[0])
    assert [h.kind for h in history] == ["created", "closed", "update"]


async def test_high_severity_mentions_ncpocs_concerned_and_nobody_else(app):
    high = await say(app, CHAIR, "!incident new severity=high tlp=green countries=TT Outage")
    assert high.replies[0].mentions == (TT1, TT2)
    assert "For the attention of: @tt1:test.org, @tt2:test.org" in text_of(high)
    own = await say(app, JM1, "!incident new severity=critical tlp=green Ransomware at ministry")
    assert own.replies[0].mentions == ()  # JM's only NCPOC reported it: nobody else to tell
    named = await say(app, TT1, "!incident new severity=low tlp=green countries=JM,TT Scan")
    assert named.replies[0].mentions == (JM1, TT2)
    quiet = await say(app, TT1, "!incident new severity=medium tlp=green Defacement")
    assert quiet.replies[0].mentions == ()


async def test_red_stays_in_its_room(app):
    red = await say(app, JM1, "!incident new severity=critical tlp=red Minister account hijacked")
    assert red.outcome == "accepted"
    badge = '<font data-mx-bg-color="#000000" data-mx-color="#FF2B2B"><b>TLP:RED</b></font>'
    assert badge in red.replies[0].message.html  # the label in TLP 2.0 colours survives nh3
    here = text_of(await say(app, TT1, "!incident list"))
    assert "Minister account hijacked" in here
    for room, kind in ((OTHER, "rcc"), ("!dm:test.org", "direct"), ("!st:test.org", "steering")):
        listed = text_of(await say(app, STEERING, "!incident list all", room=room, kind=kind))
        shown = text_of(await say(app, STEERING, "!incident show INC-1", room=room, kind=kind))
        for body in (listed, shown):
            assert "Minister" not in body and "hijacked" not in body
            assert "INC-1 [TLP:RED] critical · TLP:RED — details withheld" in body
        filtered = text_of(await say(app, STEERING, "!incident list", room=room, kind=kind))
        assert "INC-1" not in filtered and "1 more incident is not shown" in filtered
    update = await say(app, JM1, "!incident update INC-1 leak", room=OTHER)
    assert "is TLP:RED: update it in the room where it was reported" in text_of(update)


async def test_red_is_refused_in_an_unencrypted_room(app):
    outcome = await say(app, JM1, "!incident new severity=high tlp=red X", encrypted=False)
    assert outcome.outcome == "invalid" and "TLP:RED cannot be posted here" in text_of(outcome)
    assert "not encrypted" in text_of(outcome)
    assert await incidents(app) == []


async def test_amber_stays_within_the_rcc(app):
    posted = await say(app, JM1, "!incident new severity=low tlp=amber+strict Bank probe")
    assert "[TLP:AMBER+STRICT]" in text_of(posted)
    dm = text_of(await say(app, TT1, "!incident list", room="!dm:t", kind="direct"))
    assert "Bank probe" in dm
    steering = text_of(await say(app, STEERING, "!incident list", room="!st:t", kind="steering"))
    assert "Bank probe" not in steering and "INC-1" not in steering  # AMBER+STRICT: counted
    assert "1 more incident is not shown in this room" in steering
    refused = await say(
        app, CHAIR, "!incident new severity=low tlp=amber Y", room="!st:t", kind="steering"
    )
    assert "TLP:AMBER cannot be posted here: people outside the RCC" in text_of(refused)


async def test_incident_list_filters(app):
    await say(app, JM1, "!incident new severity=low tlp=green A")
    await say(app, TT1, "!incident new severity=high tlp=green countries=JM B")
    await say(app, TT1, "!incident new severity=high tlp=green C")
    await say(app, TT1, "!incident close INC-3 done")
    listed = text_of(await say(app, CHAIR, "!incident list country=JM")).splitlines()
    assert [line.split()[0] for line in listed[1:-1]] == ["INC-2", "INC-1"]
    assert listed[-1] == "[TLP:GREEN]"  # the label the list carries
    everything = text_of(await say(app, CHAIR, "!incident list all severity=high"))
    assert "INC-3" in everything and "INC-2" in everything and "INC-1" not in everything
    assert "INC-3" not in text_of(await say(app, CHAIR, "!incident list"))


async def test_outsider_cannot_see_incidents(app):
    await say(app, JM1, "!incident new severity=low tlp=clear Public")
    assert (await say(app, OUTSIDER, "!incident list")).outcome == "refused"


async def test_lessons_search_anonymity_and_link(app, backend):
    await say(app, JM1, "!incident new severity=high tlp=amber Registrar abuse")
    one = await say(
        app,
        JM1,
        "!lesson add area=coop tags=phishing,Registrars incident=INC-1 Pre-agreed takedown "
        "contacts at registrars cut our response time from days to hours",
    )
    assert "LL-1 shared by @jm1:test.org [TLP:AMBER (from INC-1)]" in text_of(one)
    typed = "!lesson add anonymous=yes tlp=clear Phished staff reported late"
    in_room = await say(app, TT1, typed)  # everyone in the room sees who typed it
    assert in_room.outcome == "invalid" and "only in your direct chat" in text_of(in_room)
    two = await say(app, TT1, typed, room="!dm-tt1:test.org", kind="direct")
    assert "LL-2 shared anonymously [TLP:CLEAR]" in text_of(two)
    found = text_of(await say(app, CHAIR, "!lesson search takedown registrar"))
    assert "LL-1" in found and "LL-2" not in found
    steering = text_of(
        await say(app, STEERING, "!lesson search takedown", room="!s", kind="steering")
    )
    assert "LL-1" not in steering and "1 lesson is not shown in this room" in steering
    stemmed = text_of(
        await say(app, STEERING, "!lesson search phishing", room="!s", kind="steering")
    )
    assert "LL-2" in stemmed  # "phished" matches "phishing": stemming on both backends
    assert "anonymous" in stemmed and TT1 not in stemmed
    shown = text_of(await say(app, CHAIR, "!lesson show LL-2"))
    assert "— anonymous" in shown and TT1 not in shown and "(TT)" not in shown
    async with app.db.unit(write=False) as store:
        lesson = await store.lessons.get(2)
        audit = [e for e in await store.audit.recent() if e.detail.startswith("LL-2")]
    assert lesson.author is None and lesson.country is None
    assert audit[0].actor == TT1  # the audit log alone still knows
    by_tag = text_of(await say(app, CHAIR, "!lesson list tag=registrars"))
    assert "LL-1" in by_tag and "LL-2" not in by_tag
    assert "LL-1" in text_of(await say(app, CHAIR, "!lesson list area=coop"))
    withheld = text_of(await say(app, STEERING, "!lesson show LL-1", room="!s", kind="steering"))
    assert "details withheld" in withheld and "registrars" not in withheld
    none = text_of(await say(app, CHAIR, "!lesson search zebra"))
    assert "No lesson this room may see matches “zebra”" in none
    bad = await say(app, JM1, "!lesson add incident=INC-7 Text")
    assert "there is no INC-7" in text_of(bad)


async def test_resources(app):
    own = await say(app, JM1, "!resource add kind=lab Mobile forensics lab, can image phones")
    assert "RS-1 recorded for Jamaica: lab [TLP:GREEN]" in text_of(own)
    other = await say(app, JM1, "!resource add kind=tool country=TT Something")
    assert other.outcome == "refused"
    regional = await say(app, CHAIR, "!resource add kind=training Regional CSIRT course")
    assert "RS-2 recorded (regional)" in text_of(regional)
    missing = await say(app, CHAIR, "!resource add Forensic lab")
    assert "missing kind=" in text_of(missing)
    labs = text_of(await say(app, STEERING, "!resource list kind=lab"))
    assert "RS-1" in labs and "RS-2" not in labs and "contact @jm1:test.org" in labs
    assert "RS-2" in text_of(await say(app, STEERING, "!resource search CSIRT training"))
    assert "RS-1" in text_of(await say(app, STEERING, "!resource list country=JM"))


async def test_only_the_reporting_country_or_the_chair_changes_an_incident(make_app):
    from tests.helpers import DEFAULT_ROSTER

    jm2 = '[[roster]]\nuser_id = "@jm2:test.org"\nrole = "ncpoc"\ncountry = "JM"\n'
    app = await make_app(roster=DEFAULT_ROSTER + jm2)
    made = await say(app, JM1, "!incident new severity=high tlp=amber+strict Port scans")
    assert made.outcome == "accepted"
    for command in (
        "!incident update INC-1 status=resolved nothing there",
        "!incident close INC-1 nothing to see",
        "!incident edit INC-1 title=False alarm",
        "!incident edit INC-1 tlp=red",
    ):
        other = await say(app, TT1, command)  # another country reads it, never rewrites it
        assert other.outcome == "refused", command
        assert "reported by Jamaica: only its NCPOCs or the chair" in text_of(other)
    colleague = await say(app, "@jm2:test.org", "!incident update INC-1 status=contained ok")
    assert colleague.outcome == "accepted", text_of(colleague)  # the same country's NCPOC
    chair = await say(app, CHAIR, "!incident close INC-1 Scans stopped")
    assert chair.outcome == "accepted", text_of(chair)
    (incident,) = await incidents(app)
    assert incident.status == "closed" and incident.title == "Port scans"
