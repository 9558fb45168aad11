"""Incidents with TLP 2.0, lessons learnt and resources, through the dispatcher."""

from __future__ import annotations

import json

import pytest

from bot.app import Admission
from commands.tlp import LEVELS
from commands.values import RoomKind
from storage.visibility import InFull
from tests.helpers import (
    CHAIR,
    JM1,
    OUTSIDER,
    RCC_MEMBERS,
    STEERING,
    TT1,
    TT2,
    say,
    text_of,
)

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


async def test_high_severity_alerts_ncpocs_concerned_and_the_chair_and_nobody_else(app):
    high = await say(app, CHAIR, "!incident new severity=high tlp=green countries=TT Outage")
    assert high.replies[0].mentions == (TT1, TT2) and high.replies[0].alert  # m.text: it rings
    assert "For the attention of: @tt1:test.org, @tt2:test.org" in text_of(high)
    # No country named: every NCPOC and the chair; never the person who reported it.
    own = await say(app, JM1, "!incident new severity=critical tlp=green Ransomware at ministry")
    assert own.replies[0].mentions == (TT1, TT2, CHAIR) and own.replies[0].alert
    # A reply mentions whom it answers, but an alert (which rings) never its own sender.
    content = json.loads(own.outbox[0].content)
    assert content["msgtype"] == "m.text" and JM1 not in content["m.mentions"]["user_ids"]
    quiet_reply = json.loads((await say(app, JM1, "!incident list")).outbox[0].content)
    assert quiet_reply["m.mentions"]["user_ids"] == [JM1] and quiet_reply["msgtype"] == "m.notice"
    named = await say(app, TT1, "!incident new severity=low tlp=green countries=JM,TT Scan")
    assert named.replies[0].mentions == (JM1, TT2, CHAIR)
    quiet = await say(app, TT1, "!incident new severity=medium tlp=green Defacement")
    assert quiet.replies[0].mentions == () and not quiet.replies[0].alert  # a notice
    assert len(quiet.replies) == 1


def _where(reply) -> str:
    return reply.room_id or f"!dm-{reply.to_user}"


async def _sent(app, outcome) -> dict[str, object]:
    """Each message of an outcome by where it goes, after the sender's gate let it through
    (every DM read by its one person, the RCC room by its members)."""
    for reply in outcome.outbox:
        if reply.to_user:
            app.test_rooms.set(f"!dm-{reply.to_user}", {reply.to_user})
            reply.room_id = f"!dm-{reply.to_user}"
        assert await app.admits(reply) is Admission.SEND, reply.content
    return {_where(r): r for r in outcome.replies}


async def test_a_red_incident_reported_in_a_dm_rings_the_room_with_its_id_only(app):
    app.rooms[RoomKind.RCC] = RCC
    app.test_rooms.set(RCC, RCC_MEMBERS)
    red = await say(app, JM1, "!incident new severity=critical tlp=red Minister account hijacked",
                    room="!dm-jm1", kind="direct")  # fmt: skip
    assert red.outcome == "accepted"
    sent = await _sent(app, red)
    assert set(sent) == {"!dm-jm1", RCC, "!dm-@tt1:test.org", "!dm-@tt2:test.org",
                         "!dm-@chair:test.org"}  # fmt: skip
    answer = sent.pop("!dm-jm1")
    assert not answer.alert and "Minister account hijacked" in answer.message.body
    assert "Alerted directly: @tt1:test.org, @tt2:test.org, @chair:test.org" in answer.message.body
    room = sent.pop(RCC)
    assert room.alert and room.mentions == (TT1, TT2, CHAIR)
    assert "🚨 INC-1 [TLP:RED] critical — Jamaica" in room.message.body
    assert "Details withheld here: ask @jm1:test.org." in room.message.body
    for told in sent.values():  # RED is for those who heard it: the label and whom to ask
        assert told.alert and told.mentions == (told.to_user,)
        assert "Details withheld here: ask @jm1:test.org." in told.message.body
    everything = "\n".join(r.message.body + r.message.html for r in red.replies if r is not answer)
    assert "hijacked" not in everything


async def test_an_amber_incident_reported_in_a_dm_is_told_in_full_where_amber_may_be_read(app):
    app.rooms[RoomKind.RCC] = RCC
    app.test_rooms.set(RCC, RCC_MEMBERS)
    typed = "!incident new severity=high tlp=amber countries=TT sectors=energy Grid SCADA probing"
    amber = await say(app, JM1, typed, room="!dm-jm1", kind="direct")
    sent = await _sent(app, amber)
    assert set(sent) == {"!dm-jm1", RCC, "!dm-@tt1:test.org", "!dm-@tt2:test.org",
                         "!dm-@chair:test.org"}  # fmt: skip
    room = sent[RCC]
    assert "🚨 INC-1 [TLP:AMBER] high — Jamaica: Grid SCADA probing" in room.message.body
    assert room.seal.label == "amber" and room.mentions == (TT1, TT2, CHAIR)
    dm = sent["!dm-@tt1:test.org"]
    assert "Grid SCADA probing" in dm.message.body and "Sectors: energy." in dm.message.body
    assert "You are told because it concerns you" in dm.message.body
    # A low one, naming no country, rings nobody: the RCC room still learns it exists.
    low = await say(app, JM1, "!incident new severity=low tlp=green Spam run", room="!dm-jm1",
                    kind="direct")  # fmt: skip
    quiet = await _sent(app, low)
    assert set(quiet) == {"!dm-jm1", RCC} and not quiet[RCC].alert and not quiet[RCC].mentions


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


async def test_a_country_escalates_and_the_chair_broadcasts_the_incident_with_its_label(app):
    app.rooms[RoomKind.RCC] = RCC
    app.test_rooms.set(RCC, RCC_MEMBERS)
    await say(app, JM1, "!incident new severity=high tlp=amber sectors=finance Card skimming")
    await say(app, JM1, "!incident update INC-1 Seen at three banks")
    other = await say(app, TT1, "!incident escalate INC-1 please")
    assert other.outcome == "refused" and "only its NCPOCs or the chair" in text_of(other)
    asked = await say(app, JM1, "!incident escalate INC-1 Spreading to the region; patch today")
    assert asked.outcome == "accepted", text_of(asked)
    sent = await _sent(app, asked)
    assert "⬆️ INC-1: the chair was asked (@chair:test.org)" in sent[RCC].message.body
    dm = sent["!dm-@chair:test.org"]
    assert dm.alert and dm.mentions == (CHAIR,) and dm.seal.label == "amber"
    body = dm.message.body
    assert "@jm1:test.org asks for an emergency broadcast: INC-1 [TLP:AMBER] high" in body
    assert "Why: “Spreading to the region; patch today”" in body
    assert "!broadcast from=INC-1" in body
    own = await say(app, CHAIR, "!incident escalate INC-1")
    assert "you are the chair: make it a broadcast with !broadcast from=INC-1" in text_of(own)
    # The chair broadcasts it: its label, its severity, its title and latest update.
    lower = await say(app, CHAIR, "!broadcast from=INC-1 tlp=green")
    assert "keeps its label TLP:AMBER or a stricter one" in text_of(lower)
    done = await say(app, CHAIR, "!broadcast from=INC-1 Apply the vendor fix")
    assert done.outcome == "accepted", text_of(done)
    async with app.db.unit(write=False) as store:
        broadcast = await store.broadcasts.get(1)
        history = await store.incidents.history((await incidents(app))[0])
    assert (broadcast.tlp, broadcast.severity) == ("amber", "high")
    assert broadcast.message == (
        "INC-1 (high): Card skimming\nSeen at three banks\nApply the vendor fix"
    )
    assert [(h.kind, h.note) for h in history][-2:] == [
        ("escalated", "Spreading to the region; patch today"),
        ("broadcast", "BC-1"),
    ]


async def test_a_red_incident_is_escalated_by_its_label_and_broadcast_only_by_who_heard_it(app):
    app.rooms[RoomKind.RCC] = RCC
    app.test_rooms.set(RCC, RCC_MEMBERS)
    app.test_rooms.set("!dm-jm1", {JM1})
    await say(app, JM1, "!incident new severity=critical tlp=red Minister account hijacked",
              room="!dm-jm1", kind="direct")  # fmt: skip
    asked = await say(app, JM1, "!incident escalate INC-1 The minister's mail is read",
                      room="!dm-jm1", kind="direct")  # fmt: skip
    sent = await _sent(app, asked)
    dm = sent["!dm-@chair:test.org"].message.body
    assert "Details withheld here: ask @jm1:test.org." in dm
    assert "hijacked" not in dm and "mail" not in dm  # the reason speaks of it: RED too
    refused = await say(app, CHAIR, "!broadcast from=INC-1")
    assert refused.outcome == "refused"
    assert "INC-1 is TLP:RED and this room may not read it in full" in text_of(refused)


async def test_an_incident_says_what_it_is_for_intelligence(app):
    new = await say(app, JM1, "!incident new severity=high tlp=green type=phishing crime=fraud "
                    "sectors=finance SMS lures for bank credentials")  # fmt: skip
    assert new.outcome == "accepted", text_of(new)
    assert "Type: Phishing (fraud:phishing). Linked to other crime: fraud." in text_of(new)
    edited = await say(
        app,
        JM1,
        '!incident edit INC-1 type=rsit:fraud="masquerade" '
        "crime=money-laundering mo=Lookalike bank domains, SMS from short codes",
    )
    assert edited.outcome == "accepted", text_of(edited)
    shown = text_of(await say(app, STEERING, "!incident show INC-1"))
    assert "Type: Masquerade (fraud:masquerade)" in shown
    assert "Linked to other crime: money laundering" in shown
    assert "Modus operandi: Lookalike bank domains, SMS from short codes" in shown
    (incident,) = await incidents(app)
    assert (incident.rsit, incident.crime) == ("fraud:masquerade", "money-laundering")
    wrong = await say(app, JM1, "!incident new severity=low tlp=green type=hacking Defacement")
    assert wrong.outcome == "invalid" and "'hacking' is not an incident type" in text_of(wrong)
    assert "phishing" in text_of(wrong)
    await say(app, JM1, "!lang fr", room="!dm-jm1", kind="direct")
    french = await say(app, JM1, "!incident show INC-1", room="!dm-jm1", kind="direct")
    assert "Mascarade (fraud:masquerade)" in text_of(french)


async def test_with_the_rcc_room_unknown_a_dm_report_still_reaches_the_people_concerned(app):
    outcome = await say(app, JM1, "!incident new severity=critical tlp=amber Grid down",
                        room="!dm-jm1", kind="direct")  # fmt: skip
    told = {r.to_user for r in outcome.replies if r.to_user}
    assert told == {TT1, TT2, CHAIR}
    assert "The RCC room was told" not in text_of(outcome)
