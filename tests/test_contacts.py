"""The contact directory, and broadcasts by audience, acknowledged and escalated by country,
with email as the fallback: in-process (the end-to-end path is tests/test_e2e_contacts.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from commands.values import RoomKind
from tests.helpers import (
    ADMIN,
    CHAIR,
    DEFAULT_ROSTER,
    JM1,
    STEERING,
    TT1,
    TT2,
    Postman,
    body_of,
    say,
    text_of,
)

TT_CIRT, TT_LE, JM_CIRT = "@tt-cirt:test.org", "@tt-police:test.org", "@jm-cirt:test.org"
CONTACTS = f'''
[[roster]]
user_id = "{TT_CIRT}"
role = "contact"
country = "TT"
kind = "cirt"
agency = "TT-CSIRT"
email = "duty@ttcsirt.example"
phone = "+1 868 555 0100"
lang = "en"

[[roster]]
user_id = "{TT_LE}"
role = "contact"
country = "TT"
kind = "le-24x7"
agency = "TTPS Cyber Crime Unit"
phone = "+18685550199"

[[roster]]
user_id = "{JM_CIRT}"
role = "contact"
country = "JM"
kind = "cirt"
email = "soc@jamaicacirt.example"
'''
SMTP = """
[smtp]
host = "127.0.0.1"
port = 2525
starttls = false
from = "rcc-bot@rcc.example"

[broadcast]
email_after = "30m"
relay_within = "1h"
escalation = [
  { after = "10m", notify = ["primary"] },
  { after = "20m", notify = ["alternate"] },
  { after = "30m", notify = ["cirt", "le-24x7"] },
  { after = "40m", notify = ["chair"] },
]
"""


@pytest.fixture
async def app(make_app):
    made = await make_app(extra=SMTP, roster=DEFAULT_ROSTER + CONTACTS)
    made.rooms[RoomKind.RCC] = "!rcc:test.org"
    return made


@pytest.fixture
def hs(app):
    return Postman(app)


async def entry(app, user, role="contact"):
    async with app.db.unit(write=False) as store:
        return await store.roster.find(user, role)


async def emails(app) -> list:
    async with app.db.unit(write=False) as store:
        return await store.outbox.pending(email=True)


async def recipients(app, number=1):
    async with app.db.unit(write=False) as store:
        found = await store.broadcasts.get(number)
        return {r.user_id: r for r in await store.broadcasts.recipients(found.id)}


# The directory


async def test_the_config_seeds_contacts_with_their_details(app):
    cirt = await entry(app, TT_CIRT)
    assert (cirt.country, cirt.kind, cirt.agency) == ("TT", "cirt", "TT-CSIRT")
    assert cirt.phone == "+18685550100"  # E.164, punctuation dropped
    assert (await entry(app, TT1, "ncpoc")).rank is None  # primary by order (commands)


async def test_a_changed_config_changes_details_and_keeps_the_entry(make_app):
    first = await make_app(roster=DEFAULT_ROSTER + CONTACTS)
    before = await entry(first, TT_CIRT)
    again = await make_app(roster=DEFAULT_ROSTER + CONTACTS.replace("TT-CSIRT", "TTCSIRT"))
    after = await entry(again, TT_CIRT)
    assert after.agency == "TTCSIRT" and after.id == before.id


async def test_roster_add_takes_a_contact_with_details_and_checks_them(app):
    added = await say(
        app,
        ADMIN,
        "!roster add @bb-cirt:test.org role=contact kind=cirt country=BB "
        'agency="CIRT Barbados" title="Duty officer" phone=+12465550101 lang=en',
    )
    assert added.outcome == "accepted", text_of(added)
    assert "national contact for Barbados (BB)" in text_of(added)
    made = await entry(app, "@bb-cirt:test.org")
    assert (made.agency, made.title) == ("CIRT Barbados", "Duty officer")
    assert made.phone == "+12465550101"
    for line, why in [
        ("role=contact country=BB", "a contact needs a kind"),
        ("role=contact kind=cirt", "needs a country"),
        ("role=contact kind=cirt country=BB phone=555-0101", "not a phone number in E.164"),
        ("role=contact kind=cirt country=BB email=nobody", "not an email address"),
        ("role=ncpoc kind=cirt country=BB", "an NCPOC is kind=primary or kind=alternate"),
        ("role=steering phone=+18685550101", "describe NCPOCs and contacts"),
    ]:
        refused = await say(app, CHAIR, f"!roster add @new:test.org {line}")
        assert refused.outcome == "invalid" and why in text_of(refused), line
    # The roster rules extend to contacts: an NCPOC does not add one.
    denied = await say(app, JM1, "!roster add @x:test.org role=contact kind=other country=JM")
    assert denied.outcome == "refused"


async def test_the_second_ncpoc_of_a_country_is_its_alternate(app):
    await say(app, CHAIR, "!roster add @bb1:test.org role=ncpoc country=BB")
    await say(app, CHAIR, "!roster add @bb2:test.org role=ncpoc country=BB")
    ranks = [(await entry(app, f"@bb{n}:test.org", "ncpoc")).rank for n in (1, 2)]
    assert ranks == ["primary", "alternate"]


async def test_contacts_lists_them_and_shows_numbers_only_to_the_chair_in_a_dm(app):
    public = text_of(await say(app, JM1, "!contacts TT"))
    assert "Trinidad and Tobago (TT):" in public
    assert f"{TT_CIRT} — contact, national CIRT, TT-CSIRT [en] · ☎ on file · ✉ on file" in public
    assert f"{TT1} — NCPOC, primary" in public and f"{TT2} — NCPOC, alternate" in public
    assert "never confirmed" in public and "+18685550100" not in public
    assert "duty@ttcsirt.example" not in public
    private = text_of(await say(app, CHAIR, "!contacts", room="!dm-chair", kind="direct"))
    assert "☎ +18685550100" in private and "✉ duty@ttcsirt.example" in private
    assert "Jamaica (JM):" in private and "Barbados" not in private  # nobody there
    # Contacts are not committee members: their roster entry gives no reading rights.
    assert (await say(app, TT_CIRT, "!contacts")).outcome == "refused"
    assert "(+2 contacts)" in text_of(await say(app, STEERING, "!roster"))


# Broadcasts by audience


async def start(app, hs, text):
    outcome = await say(app, CHAIR, text)
    assert outcome.outcome == "accepted", text_of(outcome)
    await app.jobs.run("broadcast", 1)
    return outcome, await hs.deliver_all()


async def test_a_broadcast_reaches_every_national_contact_by_default_with_its_label(app, hs):
    outcome, sent = await start(app, hs, "!broadcast Patch VPN appliances now")
    people = await recipients(app)
    assert set(people) == {JM1, TT1, TT2, TT_CIRT, TT_LE, JM_CIRT}
    assert {u: r.tier for u, r in people.items()} == {
        JM1: "primary",
        TT1: "primary",
        TT2: "alternate",
        TT_CIRT: "cirt",
        TT_LE: "le-24x7",
        JM_CIRT: "cirt",
    }
    assert all("[TLP:AMBER]" in body_of(row) for row in sent)  # the config's default
    assert "To every national contact:" in text_of(outcome)
    # Breadth first: one of each country, primaries first, before a second of any.
    order = [r.room_id for r in sorted(sent, key=lambda r: r.id) if r.room_id != "!rcc:test.org"]
    assert sorted(order[:2]) == ["!dm-@jm1:test.org", "!dm-@tt1:test.org"]


async def test_to_and_tlp_choose_the_audience_and_the_label(app, hs):
    _, sent = await start(app, hs, "!broadcast to=cirt,le-24x7 tlp=green Check your VPNs")
    assert set(await recipients(app)) == {TT_CIRT, TT_LE, JM_CIRT}
    assert all("[TLP:GREEN]" in body_of(row) for row in sent)
    bad = await say(app, CHAIR, "!broadcast to=police Hello")
    assert bad.outcome == "invalid" and "police: not one of" in text_of(bad)


async def test_a_label_the_rcc_room_may_not_show_is_refused(app, hs):
    app.test_rooms.meet("!rcc:test.org", "rcc", STEERING, True)  # a Steering member joins
    refused = await say(app, CHAIR, "!broadcast tlp=amber+strict Details follow by phone")
    assert refused.outcome == "refused"
    assert "the RCC room may not show TLP:AMBER+STRICT" in text_of(refused)


# Acknowledged by country, escalated by country


async def test_one_acknowledgement_answers_for_the_country_and_stops_its_chain(app, hs, clock):
    await start(app, hs, "!broadcast severity=critical Ransomware via VPN")
    answered = await say(app, TT_LE, "!ack", room="!dm-tt-le", kind="direct")
    assert "1/2 countries so far" in text_of(answered), text_of(answered)
    await hs.deliver_all()
    clock.advance(timedelta(minutes=10))  # step 1: primaries of dark countries: Jamaica only
    await app.jobs.run("broadcast", 1)
    assert [r.room_id for r in await hs.deliver_all()] == ["!dm-@jm1:test.org"]
    clock.advance(timedelta(minutes=10))  # step 2: alternates: Jamaica has none
    await app.jobs.run("broadcast", 1)
    assert await hs.deliver_all() == []
    clock.advance(timedelta(minutes=10))  # step 3: CIRTs and 24/7 contacts of Jamaica
    await app.jobs.run("broadcast", 1)
    assert [r.room_id for r in await hs.deliver_all()] == [f"!dm-{JM_CIRT}"]
    clock.advance(timedelta(minutes=10))  # step 4: the chair, with numbers to call
    await app.jobs.run("broadcast", 1)
    (chair,) = await hs.deliver_all()
    body = body_of(chair)
    assert chair.room_id == "!dm-@chair:test.org" and "1/2 countries acknowledged" in body
    assert "Dark:\n- Jamaica" in body
    assert "+1868" not in body  # Trinidad and Tobago answered: its numbers are not listed
    status = text_of(await say(app, STEERING, "!broadcast status"))
    assert status.index("🔴 Jamaica") < status.index("✅ Trinidad and Tobago")


async def test_the_chair_records_an_acknowledgement_obtained_by_phone(app, hs):
    await start(app, hs, "!broadcast Patch the VPN appliances now")
    recorded = await say(app, CHAIR, f"!ack BC-1 for={JM1} via=phone")
    assert f"acknowledged for {JM1} (phone)" in text_of(recorded)
    person = (await recipients(app))[JM1]
    assert (person.ack_via, person.ack_recorded_by) == ("phone", CHAIR)
    assert (await say(app, TT1, f"!ack BC-1 for={JM1} via=phone")).outcome == "refused"
    again = await say(app, CHAIR, f"!ack BC-1 for={JM1}")
    assert f"{JM1} acknowledged it already" in text_of(again)
    stranger = await say(app, CHAIR, f"!ack BC-1 for={STEERING}")
    assert f"BC-1 was not sent to {STEERING}" in text_of(stranger)


async def test_relayed_is_recorded_per_country_and_the_unrelayed_chased_once(app, hs, clock):
    await start(app, hs, "!broadcast Patch the VPN appliances now")
    await say(app, JM1, "!ack")
    relayed = await say(
        app, TT_CIRT, "!relayed BC-1 passed to the sector CSIRTs", room="!dm-tt-cirt",
        kind="direct",
    )  # fmt: skip
    assert "onward dissemination in Trinidad and Tobago recorded" in text_of(relayed)
    assert "counts as your acknowledgement too" in text_of(relayed)
    twice = await say(app, TT1, "!relayed BC-1")
    assert f"{TT_CIRT} confirmed the relay in your country already" in text_of(twice)
    steer = await say(app, STEERING, "!relayed BC-1", room="!dm-st", kind="direct")
    assert steer.outcome == "refused", "a broadcast never reaches a Steering member"
    status = text_of(await say(app, TT1, "!broadcast status BC-1"))
    assert "relayed (passed to the sector CSIRTs)" in status
    assert "2/2 countries acknowledged, 1 relayed" in status
    steering = text_of(
        await say(app, STEERING, "!broadcast status BC-1", room="!dm-st", kind="direct")
    )
    assert "relayed" in steering and "sector CSIRTs" not in steering  # the note is AMBER
    await hs.deliver_all()
    clock.advance(timedelta(hours=1))  # Jamaica answered an hour ago and has not relayed
    await app.jobs.run("broadcast", 1)
    chased = [r for r in await hs.deliver_all() if "has it been passed on" in body_of(r)]
    assert [r.room_id for r in chased] == ["!dm-@jm1:test.org"]
    clock.advance(timedelta(hours=1))
    await app.jobs.run("broadcast", 1)
    assert not [r for r in await hs.deliver_all() if "has it been passed on" in body_of(r)]


# Email as a fallback


async def test_email_goes_once_to_dark_countries_only_and_never_with_amber_text(app, hs, clock):
    await start(app, hs, "!broadcast severity=critical Secret indicators: 203.0.113.7")
    await say(app, TT2, "!ack")
    clock.advance(timedelta(minutes=29))
    await app.jobs.run("broadcast", 1)
    assert await emails(app) == []  # not yet
    clock.advance(timedelta(minutes=1))
    await app.jobs.run("broadcast", 1)
    (mail,) = await emails(app)  # Jamaica's CIRT; Trinidad and Tobago answered
    assert mail.to_user == "soc@jamaicacirt.example" and mail.kind == "email"
    content = json.loads(mail.content)
    assert content["subject"].startswith("[TLP:AMBER] CRITICAL broadcast BC-1")
    assert "203.0.113.7" not in content["text"] + content["subject"]
    assert "its text is not sent by email" in content["text"]
    assert (await recipients(app))[JM_CIRT].email_outbox_id == mail.id
    clock.advance(timedelta(minutes=30))
    await app.jobs.run("broadcast", 1)
    assert len(await emails(app)) == 1  # once


async def test_a_green_broadcast_emails_its_text(app, hs, clock):
    await start(app, hs, "!broadcast tlp=green to=cirt Patch the VPN appliances")
    clock.advance(timedelta(minutes=30))
    await app.jobs.run("broadcast", 1)
    texts = {m.to_user: json.loads(m.content)["text"] for m in await emails(app)}
    assert set(texts) == {"duty@ttcsirt.example", "soc@jamaicacirt.example"}
    assert all("Patch the VPN appliances" in t for t in texts.values())


async def test_without_smtp_no_email_is_written(make_app, clock):
    plain = await make_app(roster=DEFAULT_ROSTER + CONTACTS)
    plain.rooms[RoomKind.RCC] = "!rcc:test.org"
    await say(plain, CHAIR, "!broadcast Patch the VPN appliances now")
    clock.advance(timedelta(hours=3))
    await plain.jobs.run("broadcast", 1)
    assert await emails(plain) == []


# Drills


async def test_a_drill_reports_per_country_and_the_change_since_the_last(app, hs, clock):
    await start(app, hs, "!drill Communications check")
    clock.advance(timedelta(minutes=4))
    await say(app, TT1, "!ack")
    outcome = await say(app, CHAIR, "!drill Communications check two")
    assert "EXERCISE" in text_of(outcome)
    clock.advance(timedelta(minutes=2))
    await say(app, TT2, "!ack")
    await say(app, JM_CIRT, "!ack")
    report = text_of(await say(app, CHAIR, "!broadcast status BC-2"))
    assert "Drill report" in report
    assert "- Trinidad and Tobago: 2m 00s (−2m 00s)" in report
    assert "- Jamaica: 2m 00s (was dark)" in report


# Absence


async def test_away_sends_broadcasts_to_the_colleague_who_takes_their_place(app, hs, clock):
    away = await say(app, TT1, "!away until 2026-11-20", room="!dm-tt1", kind="direct")
    assert f"your reminders and broadcasts go to {TT2}" in text_of(away), text_of(away)
    assert "Fri 20 Nov 2026 00:00" in text_of(away)
    _, sent = await start(app, hs, "!broadcast Patch the VPN appliances now")
    people = await recipients(app)
    assert TT1 not in people and people[TT2].tier == "primary"  # in TT1's place in the chain
    assert len([r for r in sent if r.room_id == f"!dm-{TT2}"]) == 1  # reached once
    clock.advance(timedelta(minutes=10))  # step 1: the primary of Trinidad and Tobago
    await app.jobs.run("broadcast", 1)
    rooms = sorted(r.room_id for r in await hs.deliver_all())
    assert f"!dm-{TT2}" in rooms and f"!dm-{TT1}" not in rooms
    back = await say(app, TT1, "!away off", room="!dm-tt1", kind="direct")
    assert "Welcome back" in text_of(back)


async def test_away_checks_the_date_and_the_colleague(app):
    for line, why in [
        ("!away until 2026-01-01", "has already passed"),
        (f"!away until 2026-12-01 to={TT1}", "not yourself"),
        (f"!away until 2026-12-01 to={JM1}", "is not a national contact of Trinidad"),
        ("!away until", "say until when"),
    ]:
        answer = await say(app, TT1, line)
        assert answer.outcome == "invalid" and why in text_of(answer), (line, text_of(answer))
    await say(app, TT2, "!away until 2026-12-01")
    busy = await say(app, TT1, "!away until 2026-12-01")
    assert f"{TT2} is away too" in text_of(busy)
    assert (await say(app, STEERING, "!away until 2026-12-01")).outcome == "refused"


async def test_an_absent_ncpocs_reminders_go_to_the_colleague(app, hs, clock):
    await say(app, CHAIR, "!deadline add 2026-11-10 remind=7d Quarterly status report")
    await say(app, TT1, "!away until 2026-11-30")
    await hs.deliver_all()
    clock.advance(timedelta(days=1, hours=8))  # the 7-day reminder falls due
    await app.jobs.run("deadline", 1)
    to = sorted(r.to_user for r in await hs.deliver_all() if r.to_user)
    assert to == [JM1, TT2]  # TT2 once, for both of Trinidad and Tobago's NCPOCs


# Keeping the directory true


async def test_confirm_and_update_keep_details_current(app):
    done = await say(app, TT_CIRT, "!confirm", room="!dm-cirt", kind="direct")
    assert "details are confirmed" in text_of(done) and "+18685550100" in text_of(done)
    assert (await entry(app, TT_CIRT)).confirmed_at is not None
    changed = await say(app, TT_LE, "!contact update phone=+1 868 555 0123 email=none")
    assert "Updated and confirmed" in text_of(changed)
    assert "+18685550123" not in text_of(changed)  # not in a shared room
    made = await entry(app, TT_LE)
    assert made.phone == "+18685550123" and made.email is None and made.confirmed_at
    others = await say(app, TT_LE, f"!contact update {TT_CIRT} title=Boss")
    assert others.outcome == "refused"
    by_chair = await say(app, CHAIR, f'!contact update {TT_CIRT} title="Duty manager"')
    assert by_chair.outcome == "accepted" and (await entry(app, TT_CIRT)).title == "Duty manager"
    assert "say what changes" in text_of(await say(app, TT_LE, "!contact update"))
    listed = text_of(await say(app, JM1, "!contacts TT"))
    assert f"{TT_LE} — contact, 24/7 law-enforcement contact" in listed
    assert "2 not confirmed within the cycle" in listed  # TT1, TT2; the contacts confirmed
    assert (
        f"{TT_LE} — contact, 24/7 law-enforcement contact, TTPS Cyber Crime Unit · "
        "☎ on file · confirmed" in listed
    )


async def test_contacts_are_asked_to_reconfirm_then_their_ncpoc_then_the_chair(app, hs, clock):
    await say(app, TT_CIRT, "!confirm")
    await hs.deliver_all()
    await app.jobs.run("contact confirmation", 0)
    assert await hs.deliver_all() == []  # nothing due yet
    clock.advance(timedelta(days=7))
    await app.jobs.run("contact confirmation", 0)
    (weekly,) = await hs.deliver_all()  # the chair's weekly summary, from the second week
    assert weekly.to_user == CHAIR and "Not confirmed within the cycle (5)" in body_of(weekly)
    assert f"{TT_CIRT} (TT" not in body_of(weekly)  # confirmed a week ago
    assert f"Unreachable — no email, and no direct chat with the bot they joined (4): {JM1}" in (
        body_of(weekly)
    )
    await app.jobs.run("contact confirmation", 0)
    assert await hs.deliver_all() == []  # once a week
    clock.advance(timedelta(days=115))
    await app.jobs.run("contact confirmation", 0)
    asked = {r.to_user for r in await hs.deliver_all() if "still right" in body_of(r)}
    assert asked == {JM1, TT1, TT2, TT_CIRT, TT_LE, JM_CIRT}  # everyone's cycle is due
    await say(app, TT_LE, "!confirm")  # answers; the others do not
    await hs.deliver_all()
    clock.advance(timedelta(days=14))
    await app.jobs.run("contact confirmation", 0)
    told = [r for r in await hs.deliver_all() if "this week" not in body_of(r)]
    about_cirt = [r for r in told if TT_CIRT in body_of(r)]
    assert [r.to_user for r in about_cirt] == [TT1]  # the country's primary NCPOC
    assert not [r for r in told if TT_LE in body_of(r)]
    assert {r.to_user for r in told if TT1 in body_of(r)} == {TT2}  # an NCPOC: the other one
    await app.jobs.run("contact confirmation", 0)
    assert await hs.deliver_all() == []  # once
    clock.advance(timedelta(days=14))
    await app.jobs.run("contact confirmation", 0)
    (chair,) = [r for r in await hs.deliver_all() if "this week" not in body_of(r)]
    assert chair.to_user == CHAIR and TT_CIRT in body_of(chair) and TT_LE not in body_of(chair)


async def test_a_drill_report_with_its_chart_goes_to_the_chair_once(app, hs, clock, tmp_path):
    from bot.files import render_file

    await start(app, hs, "!drill Communications check")
    clock.advance(timedelta(minutes=3))
    await say(app, JM1, "!ack")
    await say(app, JM1, "!relayed BC-1")
    await hs.deliver_all()
    clock.advance(timedelta(minutes=40))  # the chain has run its course; TT stayed dark
    await app.jobs.run("broadcast", 1)
    sent = [r for r in await hs.deliver_all() if r.to_user == CHAIR]
    report = [r for r in sent if "Drill report" in body_of(r)]
    assert len(report) == 1 and "- Trinidad and Tobago: dark" in body_of(report[0])
    (chart,) = [r for r in sent if r.kind == "file"]
    spec = json.loads(chart.content)
    assert spec["renderer"] == "drill-png" and spec["filename"] == "rcc-drill-BC-1.png"
    png = render_file(app.renderer, "drill-png", spec["data"])
    assert png.startswith(b"\x89PNG")
    (tmp_path / "drill.png").write_bytes(png)
    clock.advance(timedelta(hours=3))
    await app.jobs.run("broadcast", 1)
    assert not [r for r in await hs.deliver_all() if "Drill report" in body_of(r)]  # once


async def test_the_digest_shows_drills_and_the_directory_but_never_a_broadcasts_text(
    app, hs, clock
):
    from tests.test_digest import all_outputs, digest_of

    await start(app, hs, "!broadcast tlp=amber+strict Secret: 203.0.113.7")
    await start_again(app, hs, "!drill Communications check")
    clock.advance(timedelta(minutes=2))
    await say(app, TT2, "!ack")
    await say(app, TT_CIRT, "!confirm")
    clock.advance(timedelta(days=3))
    data = await digest_of(app, clock)
    (first, drill) = data["broadcasts"]
    assert (first["id"], first["label"], first["exercise"]) == ("BC-1", "TLP:AMBER+STRICT", False)
    assert (drill["answered"], drill["countries"], drill["median"]) == (1, 2, "2m 00s")
    assert drill["dark"] == ["Jamaica"]
    assert data["directory"] == {
        "total": 6,
        "unconfirmed": 0,  # nobody is late: five were added within the cycle and await
        "awaiting": 5,  # their first confirmation (the sixth confirmed)
        "unreachable": 4,  # TT1, TT2, JM1 and the police: no direct chat yet, no email
        "attention": data["directory"]["attention"],
    }
    text = all_outputs(app, data)
    assert "BC-2 EXERCISE" in text and "2/2 countries answered" not in text
    assert "203.0.113.7" not in text and "Communications check" not in text


async def start_again(app, hs, text):
    outcome = await say(app, CHAIR, text)
    assert outcome.outcome == "accepted", text_of(outcome)
    await app.jobs.run("broadcast", 2)
    await hs.deliver_all()


# Contacts without a Matrix account

BB_BY_EMAIL = """
[[roster]]
role = "contact"
country = "BB"
kind = "cirt"
agency = "CIRT Barbados"
email = "ops@cirt.bb.example"
"""
BB = "mailto:ops@cirt.bb.example"


async def test_an_email_only_contact_is_emailed_at_once_and_its_address_kept(make_app, clock):
    app = await make_app(extra=SMTP, roster=DEFAULT_ROSTER + CONTACTS + BB_BY_EMAIL)
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    hs = Postman(app)
    outcome, sent = await start(app, hs, "!broadcast Patch the VPN appliances now")
    assert "(and 1 by email)" in text_of(outcome)
    assert "ops@cirt.bb.example" not in text_of(outcome) + "".join(body_of(r) for r in sent)
    (mail,) = await emails(app)  # at once, not after email_after
    assert mail.to_user == "ops@cirt.bb.example"
    assert "without a Matrix account" in json.loads(mail.content)["text"]
    barbados = (await recipients(app))[BB]
    assert barbados.dm_outbox_id == barbados.email_outbox_id == mail.id
    status = text_of(await say(app, STEERING, "!broadcast status"))
    assert "an email-only contact (cirt) — silent" in status and "ops@" not in status
    recorded = await say(app, CHAIR, "!ack BC-1 for=ops@cirt.bb.example via=email")
    assert "acknowledged for an email-only contact (email)" in text_of(recorded)
    clock.advance(timedelta(minutes=45))  # every step of the chain: never a DM to an address
    await app.jobs.run("broadcast", 1)
    assert not [r for r in await hs.deliver_all() if (r.to_user or "").startswith("mailto:")]
    listed = text_of(await say(app, JM1, "!contacts BB"))
    assert "an email-only contact — contact, national CIRT, CIRT Barbados" in listed
    private = text_of(await say(app, CHAIR, "!contacts BB", room="!dm-chair", kind="direct"))
    assert f"{BB} — contact" in private and "✉ ops@cirt.bb.example" in private


async def test_without_smtp_an_email_only_contact_is_not_reached_and_the_chair_told(make_app):
    app = await make_app(roster=DEFAULT_ROSTER + BB_BY_EMAIL)
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    outcome = await say(app, CHAIR, "!broadcast Patch the VPN appliances now")
    assert "1 email-only contact(s) were not reached: the bot has no [smtp] server" in "".join(
        r.message.body for r in outcome.replies
    )
    assert BB not in await recipients(app)


async def test_a_contact_is_added_by_email_address(app):
    added = await say(
        app, ADMIN, "!roster add desk@oas.example role=contact kind=oas-cicte country=BB"
    )
    assert added.outcome == "accepted", text_of(added)
    assert "desk@oas.example" not in text_of(added)
    made = await entry(app, "mailto:desk@oas.example")
    assert made.email == "desk@oas.example" and made.kind == "oas-cicte"
    refused = await say(app, CHAIR, "!roster add desk2@oas.example role=ncpoc country=BB")
    assert "only a contact may be added by email address" in text_of(refused)
    fixed = await say(
        app, CHAIR, "!contact update desk@oas.example title=Desk", room="!dm-c", kind="direct"
    )
    assert "(and confirmed)" in text_of(fixed)  # they cannot confirm themselves
    assert (await entry(app, "mailto:desk@oas.example")).confirmed_at is not None


async def test_a_contact_who_never_joined_the_direct_chat_is_unreachable(app, hs, clock):
    async with app.db.unit() as store:  # the bot opened both DMs; one was never joined
        await store.rooms.set_direct_room(TT1, "!dm-tt1", now=clock())
        await store.rooms.set_direct_room(TT2, "!dm-tt2", now=clock())
    app.test_rooms.set("!dm-tt1", [TT1])
    app.test_rooms.set("!dm-tt2", [TT2])
    app.test_rooms.invited.add((TT2, "!dm-tt2"))
    listed = text_of(await say(app, CHAIR, "!contacts TT", room="!dm-chair", kind="direct"))
    line = {ln.split(" — ")[0].lstrip("- "): ln for ln in listed.splitlines() if " — " in ln}
    assert "unreachable" not in line[TT1]
    assert "⚠️ unreachable (has not joined the direct chat, no email)" in line[TT2]
    await app.jobs.run("contact confirmation", 0)  # the first week is skipped
    clock.advance(timedelta(days=7))
    await app.jobs.run("contact confirmation", 0)
    (weekly,) = [r for r in await hs.deliver_all() if "this week" in body_of(r)]
    unreachable = body_of(weekly).split("Unreachable")[1]
    assert TT2 in unreachable and TT1 not in unreachable
    from tests.test_digest import digest_of

    # The digest (which may be written offline) counts the direct chats the bot opened.
    assert (await digest_of(app, clock))["directory"]["unreachable"] == 2  # JM1, the police


async def test_details_changed_by_someone_else_are_told_and_marked_in_call_lists(app, hs, clock):
    changed = await say(
        app, CHAIR, f"!contact update {TT_LE} phone=+18685550666", room="!dm-c", kind="direct"
    )
    assert changed.outcome == "accepted", text_of(changed)
    sent = {r.room_id or r.to_user: r for r in await hs.deliver_all()}
    told = body_of(sent[f"!dm-{TT_LE}"])  # the person, in their DM: before and after
    assert "changed by @chair:test.org" in told
    assert "+18685550199 → +18685550666" in told
    room = body_of(sent["!rcc:test.org"])  # the committee: that it changed, not to what
    assert f"{TT_LE}'s contact details were changed by @chair:test.org (phone)" in room
    assert "555" not in room
    own = await say(
        app, TT_CIRT, "!contact update title=Duty officer", room="!dm-tt-cirt", kind="direct"
    )
    assert own.outcome == "accepted"
    assert [r.room_id for r in await hs.deliver_all()] == ["!dm-tt-cirt"]  # own: no notice
    # For a week the chair's call list marks the number that someone else put in.
    await start(app, hs, "!broadcast severity=critical Ransomware via VPN")
    clock.advance(timedelta(minutes=40))
    for _ in range(4):
        await app.jobs.run("broadcast", 1)
    calls = [body_of(r) for r in await hs.deliver_all() if "To call" in body_of(r)]
    assert calls and "+18685550666 ⚠️ changed recently by @chair:test.org" in calls[-1]
    assert "+1 868 555 0100 ⚠️" not in calls[-1]  # the number its owner gave stays unmarked


JM_BY_EMAIL = """
[[roster]]
role = "contact"
country = "JM"
kind = "le-24x7"
agency = "JCF Cyber Unit"
email = "desk@jcf.example"
"""


async def test_an_email_only_contacts_address_is_never_named_to_its_ncpoc(make_app, clock):
    app = await make_app(extra=SMTP, roster=DEFAULT_ROSTER + JM_BY_EMAIL)
    hs = Postman(app)
    listed = text_of(await say(app, JM1, "!contacts JM", room="!dm-jm1", kind="direct"))
    assert "an email-only contact — contact" in listed and "desk@jcf" not in listed
    clock.advance(timedelta(days=140))  # its cycle and grace are over: its NCPOC checks it
    await app.jobs.run("contact confirmation", 0)
    sent = await hs.deliver_all()
    to_ncpoc = [body_of(r) for r in sent if r.to_user == JM1]
    assert [b for b in to_ncpoc if "email-only contact" in b], to_ncpoc
    assert not [b for b in to_ncpoc if "desk@jcf" in b]
    assert not [r for r in sent if r.to_user != CHAIR and "desk@jcf" in body_of(r)]


async def test_phone_lists_go_to_whoever_is_chair_when_they_are_sent(app, hs, clock):
    await start(app, hs, "!broadcast severity=critical Ransomware via VPN")
    chair2 = "@chair2:test.org"
    handed = await say(app, CHAIR, f"!roster add {chair2} role=chair", room="!dm-c", kind="direct")
    assert handed.outcome == "accepted", text_of(handed)
    gone = await say(app, chair2, f"!roster remove {CHAIR}", room="!dm-c2", kind="direct")
    assert gone.outcome == "accepted", text_of(gone)
    await hs.deliver_all()
    clock.advance(timedelta(minutes=45))
    for _ in range(4):
        await app.jobs.run("broadcast", 1)
    calls = [r for r in await hs.deliver_all() if "To call" in body_of(r)]
    assert calls and {r.to_user for r in calls} == {chair2}
