"""Requests for assistance (issue 35): matched by item, the matched countries asked in their
DMs as their label allows, offers, acceptance, delivery and closing; a preservation request's
24/7 contacts alerted at once and the chain widened until one acknowledges; reminders and the
chair's word on the unanswered; `!help-with` shows only resources linked to the item (both
backends, through the dispatcher)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from commands.values import RoomKind
from storage.requests import RequestStore
from tests.helpers import (
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
from tests.test_contacts import CONTACTS, TT_LE

BB1 = "@bb1:test.org"
MORE = f'''
[[roster]]
user_id = "{BB1}"
role = "ncpoc"
country = "BB"
'''


@pytest.fixture
async def region(make_app):
    app = await make_app(roster=DEFAULT_ROSTER + CONTACTS + MORE)
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    return app


async def accepted(app, sender, text, **kwargs) -> str:
    outcome = await say(app, sender, text, **kwargs)
    assert outcome.outcome == "accepted", text_of(outcome)
    return text_of(outcome)


async def row(app, number=1):
    async with app.db.unit(write=False) as store:
        return await store.of(RequestStore).get(number)


def to(sent, person) -> list[str]:
    return [body_of(r) for r in sent if r.room_id == f"!dm-{person}" and r.kind == "message"]


async def test_a_request_is_matched_by_item_and_the_matched_countries_are_asked(region):
    app = region
    await accepted(app, TT1, "!status set technical.forensics met")
    await accepted(app, TT1, "!resource add kind=lab item=technical.forensics tlp=green TTPS lab "
                   "images phones and laptops")  # fmt: skip
    await accepted(app, BB1, "!resource add kind=lab Lab of the BB police")  # not linked
    helped = await accepted(app, STEERING, "!help-with technical.forensics JM")
    assert "RS-1" in helped and "RS-2" not in helped  # only resources linked to the item
    opened = await accepted(app, JM1, "!request forensic item=technical.forensics due=2027-01-15 "
                            "Examiner for two seized phones")  # fmt: skip
    assert "✅ RQ-1 opened for Jamaica: forensic (technical.forensics) [TLP:AMBER]." in opened
    assert "Countries that met the item: Trinidad and Tobago (TT)." in opened
    assert "RS-1 [TLP:GREEN] (lab, TT): TTPS lab images phones and laptops" in opened
    assert "Asked: the NCPOCs of TT." in opened
    await Postman(app).deliver_all()
    await app.jobs.run("request", 1)
    sent = await Postman(app).deliver_all()
    for ncpoc in (TT1, TT2):
        (ask,) = to(sent, ncpoc)
        assert ask.startswith(
            "🆘 RQ-1 [TLP:AMBER]: JM asks for forensic (technical.forensics), due"
        )
        assert "Examiner for two seized phones" in ask and "!offer RQ-1" in ask
    assert not to(sent, BB1)  # BB did not match
    await app.jobs.run("request", 1)
    assert not [r for r in await Postman(app).deliver_all() if r.room_id != "!rcc:test.org"]

    offered = await accepted(app, TT1, "!offer RQ-1 Our lab can image both phones next week")
    assert "OF-1 sent to @jm1:test.org for RQ-1" in offered
    told = to(await Postman(app).deliver_all(), JM1)
    assert told == ["🤝 OF-1 on RQ-1 from @tt1:test.org (TT): Our lab can image both phones "
                    "next week\nAccept it: !accept RQ-1 OF-1"]  # fmt: skip
    refused = await say(app, TT1, "!accept RQ-1 OF-1")
    assert refused.outcome == "refused"  # only the requesting side decides
    assert "OF-1 accepted" in await accepted(app, JM1, "!accept RQ-1 OF-1")
    assert to(await Postman(app).deliver_all(), TT1) == [
        "✅ Your offer OF-1 on RQ-1 was accepted by @jm1:test.org."
    ]
    await accepted(app, JM1, "!delivered RQ-1")
    await accepted(app, JM1, "!close RQ-1 Both phones imaged in four days")
    done = await row(app)
    assert (done.state, done.accepted_offer, done.feedback) == (
        "closed", 1, "Both phones imaged in four days",
    )  # fmt: skip
    listed = await accepted(app, STEERING, "!requests all")
    assert "RQ-1 [TLP:AMBER] forensic · JM · technical.forensics · closed" in listed
    assert "OF-1 ✅ @tt1:test.org (TT): Our lab can image both phones next week" in listed
    assert "Feedback: Both phones imaged in four days" in listed


async def test_a_red_request_is_asked_without_its_text(region):
    app = region
    await accepted(app, TT1, "!status set technical.forensics met")
    await accepted(app, JM1, "!request forensic item=technical.forensics tlp=red Phones of the "
                   "minister's driver", room="!dm-jm1", kind="direct")  # fmt: skip
    await Postman(app).deliver_all()
    await app.jobs.run("request", 1)
    sent = await Postman(app).deliver_all()
    (ask,) = to(sent, TT1)
    assert ask.startswith("🆘 RQ-1 [TLP:RED]: JM asks for forensic (technical.forensics).")
    assert "minister" not in ask and "ask @jm1:test.org" in ask
    listed = await accepted(app, STEERING, "!requests open")
    assert "minister" not in listed and "1 request is not shown in this room" in listed
    hidden = await say(app, TT1, "!offer RQ-1 We can")
    assert hidden.outcome == "invalid" and "there is no RQ-1" in text_of(hidden)


async def test_a_preservation_request_rings_the_24x7_contact_and_widens_until_acknowledged(
    region, clock
):
    app = region
    no_country = await say(app, JM1, "!request preservation Server logs of host 10.0.0.5")
    assert no_country.outcome == "invalid" and "to=XX" in text_of(no_country)
    red = await say(app, JM1, "!request preservation to=TT tlp=red x", room="!dm-jm1",
                    kind="direct")  # fmt: skip
    assert red.outcome == "invalid"
    opened = await accepted(app, JM1, "!request preservation to=TT Preserve the logs of "
                            "mail.example.tt for 1-3 Dec, case JM-2026-114")  # fmt: skip
    assert "Trinidad and Tobago's 24/7 law-enforcement contacts are being alerted" in opened
    await Postman(app).deliver_all()
    first = await app.jobs.run("request", 1)
    assert first == clock() + timedelta(hours=24)
    sent = await Postman(app).deliver_all()
    (ring,) = to(sent, TT_LE)
    assert "Preserve the logs of mail.example.tt" in ring and "!request ack RQ-1" in ring
    assert not to(sent, TT1)  # the NCPOCs come in only if the contacts stay silent
    clock.advance(timedelta(hours=24, minutes=1))
    await app.jobs.run("request", 1)
    sent = await Postman(app).deliver_all()
    assert to(sent, TT_LE)[0].startswith("🆘 Still not acknowledged: RQ-1")
    assert to(sent, TT1) and to(sent, TT2)
    (chair,) = to(sent, CHAIR)
    assert "have not acknowledged the preservation request from JM (round 1)" in chair
    assert "Call: @tt-police:test.org +18685550199" in chair
    wrong = await say(app, TT_LE, "!request ack RQ-9", room=f"!dm-{TT_LE}", kind="direct")
    assert wrong.outcome == "invalid"
    acked = await accepted(app, TT_LE, "!request ack RQ-1", room=f"!dm-{TT_LE}", kind="direct")
    assert "RQ-1 acknowledged" in acked
    assert to(await Postman(app).deliver_all(), JM1) == [
        "✅ RQ-1: @tt-police:test.org (TT) acknowledged your preservation request."
    ]
    assert (await row(app)).acked_by == TT_LE
    clock.advance(timedelta(hours=30))
    await app.jobs.run("request", 1)
    assert not to(await Postman(app).deliver_all(), TT_LE)  # acknowledged: the chain stops
    by_contact = await accepted(app, TT_LE, "!offer RQ-1 Preserved under order 44/2026",
                                room=f"!dm-{TT_LE}", kind="direct")  # fmt: skip
    assert "OF-1" in by_contact


async def test_a_reply_ack_to_the_ask_acknowledges_it(region):
    app = region
    await accepted(app, JM1, "!request preservation to=TT Preserve logs of host x")
    await app.jobs.run("request", 1)
    (ring,) = [r for r in await Postman(app).deliver_all() if r.room_id == f"!dm-{TT_LE}"]
    outcome = await say(app, TT_LE, "ack", room=f"!dm-{TT_LE}", kind="direct",
                        reply_to=ring.event_id)  # fmt: skip
    assert outcome.outcome == "accepted", text_of(outcome)
    assert (await row(app)).acked_by == TT_LE


async def test_the_chair_hears_of_a_request_without_offers_and_the_requester_of_its_due(
    region, clock
):
    app = region
    await accepted(app, JM1, "!request training due=2026-12-20 Two trainers for prosecutors")
    opened = (await row(app)).created_at.astimezone(app.env.zone).date().isoformat()
    await Postman(app).deliver_all()
    await app.jobs.run("request", 1)
    clock.advance(timedelta(days=3, minutes=1))
    await app.jobs.run("request", 1)
    sent = await Postman(app).deliver_all()
    assert to(sent, CHAIR) == [
        f"📭 RQ-1 (JM, training) has had no offer since {opened}. !requests open lists it."
    ]
    await app.jobs.run("request", 1)
    assert not to(await Postman(app).deliver_all(), CHAIR)  # once
    due = (await row(app)).due_at
    clock.current = due - timedelta(days=2) + timedelta(minutes=1)
    await app.jobs.run("request", 1)
    assert to(await Postman(app).deliver_all(), JM1) == [
        "⏰ RQ-1 (JM, training) is due on 2026-12-20; it is open."
    ]
    withdrawn = await accepted(app, JM1, "!withdraw RQ-1")
    assert "RQ-1 withdrawn" in withdrawn
    assert await app.jobs.run("request", 1) is None


async def test_the_record_counts_in_the_gap_report_and_the_digest(region, clock):
    from bot.files import render_file
    from commands.audience import FILE_AUDIENCES, Viewer
    from commands.digest.data import build, digest_period
    from commands.gaps import gap_report

    app = region
    await accepted(app, JM1, "!request expertise item=legal.cybercrime tlp=green Drafter for "
                   "the cybercrime bill")  # fmt: skip
    await accepted(app, JM1, "!request training tlp=amber+strict Trainers for the unit")
    clock.advance(timedelta(hours=5))
    await accepted(app, TT1, "!offer RQ-1 Our drafting team, two weeks in January")
    await accepted(app, JM1, "!accept RQ-1 OF-1")
    await accepted(app, JM1, "!delivered RQ-1")
    await accepted(app, JM1, "!close RQ-1 The bill was tabled in March")
    jm = app.env.reference.countries.resolve("JM")
    async with app.db.unit(write=False) as store:
        steering = Viewer(FILE_AUDIENCES["steering"])
        report = await gap_report(store, app.env.reference, steering, jm, now=clock(),
                                  zone=app.env.zone, committee="RCC")  # fmt: skip
        period = digest_period("last-30d", app.env)
        data = await build(store, period, env=app.env, config=app.sections, committee="RCC",
                           now=clock(), viewer=steering)  # fmt: skip
    (helped,) = report["requests"]
    assert helped["id"] == "RQ-1" and helped["by"] == "TT (@tt1:test.org)"
    page = render_file(app.renderer, "gaps-html", report).decode()
    assert "Assistance the region delivered" in page and "The bill was tabled in March" in page
    assert "Trainers for the unit" not in page  # AMBER+STRICT: not for these readers
    counts = data["requests"]
    assert (counts["opened"], counts["answered"], counts["median_hours"]) == (2, 1, 5.0)
    assert counts["by_country"] == [{"country": "JM", "opened": 2, "answered": 1, "overdue": 0}]
    digest = render_file(app.renderer, "digest-html", data).decode()
    assert "Requests for assistance" in digest and "Median time to a first offer: 5.0 h." in digest


async def test_a_24x7_contact_without_matrix_is_emailed_its_text_only_up_to_green(make_app, clock):
    smtp = '[smtp]\nhost = "127.0.0.1"\nport = 2525\nstarttls = false\nfrom = "b@rcc.example"\n'
    by_mail = '[[roster]]\nrole = "contact"\ncountry = "TT"\nkind = "le-24x7"\nemail = "duty@ttps.example"\n'  # noqa: E501
    app = await make_app(extra=smtp, roster=DEFAULT_ROSTER + CONTACTS + by_mail)
    await accepted(app, JM1, "!request preservation to=TT tlp=green Preserve logs of host x")
    await accepted(app, JM1, "!request preservation to=TT Preserve the AMBER logs of host y")
    for number in (1, 2):
        await app.jobs.run("request", number)
    async with app.db.unit(write=False) as store:
        mails = await store.outbox.pending(email=True)
    assert [m.to_user for m in mails] == ["duty@ttps.example"] * 2
    green, amber = (json.loads(m.content) for m in mails)
    assert "Preserve logs of host x" in green["text"] and green["subject"].startswith(
        "[TLP:GREEN] PRESERVATION request RQ-1 from JM"
    )
    assert "AMBER logs" not in amber["text"] and "its text is not sent by email" in amber["text"]
    assert {m.label for m in mails} == {"green", "clear"}
