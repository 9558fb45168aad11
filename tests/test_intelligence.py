"""Incidents as intelligence: indicators checked and normalised, matched across countries
without disclosure, shared on purpose, and child exploitation cases kept to their country."""

from __future__ import annotations

import json

import pytest

from commands.framework import ArgumentError
from commands.incidents import observables
from commands.values import CHROME, Clearance, RoomKind
from tests.helpers import CHAIR, JM1, RCC_MEMBERS, TT1, TT2, Postman, say, text_of

RCC = "!rcc:test.org"
BB1 = "@bb1:test.org"
JM_LE = "@jm-le:test.org"
RIFC = "@rifc:test.org"


@pytest.mark.parametrize(
    ("kind", "typed", "kept"),
    [
        (
            "url",
            "hxxps://Secure-Bank[.]Example/login?x=1",
            "https://secure-bank.example/login?x=1",
        ),
        ("url", "http://203.0.113.7:8080", "http://203.0.113.7:8080/"),
        ("domain", "BÜCHER.example.", "xn--bcher-kva.example"),
        ("domain", "evil(.)example", "evil.example"),
        ("ip", "203.0.113[.]7", "203.0.113.7"),
        ("ip", "2001:DB8:0::1", "2001:db8::1"),
        ("hash", "44D88612FEA8A8F36DE82E1278ABB02F", "44d88612fea8a8f36de82e1278abb02f"),
        ("email", "Fraud[@]Evil[.]Example", "Fraud@evil.example"),
    ],
)
def test_indicators_are_refanged_and_normalised(kind, typed, kept):
    assert observables.parser(kind)(typed, None) == [kept]


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        ("ip", "203.0.113.300"),
        ("domain", "localhost"),
        ("domain", "203.0.113.7"),
        ("domain", "bad_label-.example"),
        ("url", "javascript:alert(1)"),
        ("url", "www.example.org"),
        ("hash", "44d88612fea8a8f36de82e1278abb02"),  # 31 digits: no algorithm
        ("hash", "zz" * 16),
        ("email", "nobody"),
    ],
)
def test_a_malformed_indicator_is_refused(kind, typed):
    with pytest.raises(ArgumentError):
        observables.parser(kind)(typed, None)


def test_hashes_are_named_by_length_and_shown_as_they_are_links_defanged():
    assert observables.kind_of("hash", "a" * 64) == "sha256"
    assert observables.kind_of("hash", "a" * 40) == "sha1"
    assert observables.defanged("url", "https://a.example/x.php") == "hxxps://a[.]example/x.php"
    assert observables.defanged("ip", "203.0.113.7") == "203[.]0[.]113[.]7"
    assert observables.defanged("email", "x@a.example") == "x[@]a[.]example"


@pytest.fixture
async def region(make_app):
    extra = f"""
[[roster]]
user_id = "{BB1}"
role = "ncpoc"
country = "BB"

[[roster]]
user_id = "{RIFC}"
role = "rifc"

[[roster]]
user_id = "{JM_LE}"
role = "contact"
country = "JM"
kind = "le-24x7"
"""
    app = await make_app(extra)
    app.rooms[RoomKind.RCC] = RCC
    app.test_rooms.set(RCC, RCC_MEMBERS | {BB1})
    for person in (JM1, TT1, TT2, BB1, CHAIR, JM_LE, RIFC):
        app.test_rooms.set(f"!dm-{person}", {person})
    return app


async def _observe(app, who, command, room=RCC, kind="rcc"):
    outcome = await say(app, who, command, room=room, kind=kind)
    assert outcome.outcome == "accepted", text_of(outcome)
    return outcome


async def test_indicators_are_kept_once_at_the_incidents_label_or_stricter(region):
    await say(region, JM1, "!incident new severity=high tlp=amber Card skimming wave")
    first = await _observe(
        region, JM1, "!incident observe INC-1 domain=secure-bank[.]example,pay-jm[.]example "
        "ip=203.0.113.7 hash=44D88612FEA8A8F36DE82E1278ABB02F",
    )  # fmt: skip
    assert "INC-1: 4 of 4 indicators added (0 already kept). [TLP:AMBER]" in text_of(first)
    again = await _observe(region, JM1, "!incident observe INC-1 ip=203.0.113.7 tlp=red",
                           room="!dm-jm1", kind="direct")  # fmt: skip
    assert "0 of 1 indicators added (1 already kept)" in text_of(again)
    lower = await say(region, JM1, "!incident observe INC-1 ip=198.51.100.1 tlp=green")
    assert "an indicator of INC-1 is labelled TLP:AMBER or stricter" in text_of(lower)
    bad = await say(region, JM1, "!incident observe INC-1 ip=198.51.100.1 domain=localhost")
    assert bad.outcome == "invalid" and "'localhost' is not a domain name" in text_of(bad)
    other = await say(region, TT1, "!incident observe INC-1 ip=198.51.100.1")
    assert other.outcome == "refused"
    shown = text_of(await say(region, TT1, "!incident show INC-1"))
    assert "[TLP:AMBER] domain: secure-bank[.]example" in shown
    assert "[TLP:AMBER] md5: 44d88612fea8a8f36de82e1278abb02f" in shown
    assert "203[.]0[.]113[.]7" in shown and "198.51" not in shown


async def test_two_countries_learn_they_share_an_indicator_and_nothing_more(region):
    await say(region, JM1, "!incident new severity=high tlp=amber Card skimming wave")
    await _observe(region, JM1, "!incident observe INC-1 ip=203.0.113.7 domain=a.example")
    await say(region, TT1, "!incident new severity=high tlp=red Ministry mail read",
              room="!dm-tt1", kind="direct")  # fmt: skip
    found = await _observe(region, TT1, "!incident observe INC-2 ip=203.0.113[.]7",
                           room="!dm-tt1", kind="direct")  # fmt: skip
    told = {r.to_user: r.message.body for r in found.replies if r.to_user}
    # Both countries' NCPOCs; BB and the chair nothing; the RIFC nothing (TT's is RED).
    assert set(told) == {JM1, TT1, TT2}
    assert "🔗 INC-1 (Jamaica) and INC-2 (Trinidad and Tobago) share an indicator" in told[JM1]
    assert "!incident share INC-1 with=TT" in told[JM1]
    assert "!incident share INC-2 with=JM" in told[TT1]
    for body in told.values():
        assert "203.0.113" not in body and "Ministry" not in body and "skimming" not in body
    # IDs and countries only, sealed as what the labels show: never for an outsider's eyes.
    assert all(r.seal.label == "clear" and r.seal.needs == Clearance.STEERING
               for r in found.replies if r.to_user)  # fmt: skip
    # The same pair is told once.
    more = await _observe(region, TT1, "!incident observe INC-2 domain=a.example",
                          room="!dm-tt1", kind="direct")  # fmt: skip
    assert not [r for r in more.replies if r.to_user]
    # JM cannot read TT's RED incident, nor its indicators, until TT shares it.
    before = text_of(await say(region, JM1, "!incident show INC-2", room="!dm-jm1",
                               kind="direct"))  # fmt: skip
    assert "Ministry" not in before and "203" not in before
    shared = await _observe(region, TT1, "!incident share INC-2 with=JM", room="!dm-tt1",
                            kind="direct")  # fmt: skip
    assert "INC-2 is shared with Jamaica: @jm1:test.org may read it in full" in text_of(shared)
    dm = next(r for r in shared.replies if r.to_user == JM1)
    assert "Ministry mail read" in dm.message.body and dm.seal.bound_to is not None
    after = text_of(await say(region, JM1, "!incident show INC-2", room="!dm-jm1",
                              kind="direct"))  # fmt: skip
    assert "Ministry mail read" in after and "203[.]0[.]113[.]7" in after


async def test_a_child_exploitation_case_stays_with_its_country(region):
    new = await _observe(region, JM1, "!incident new severity=high tlp=amber "
                         "crime=child-exploitation Grooming via a school app")  # fmt: skip
    le = next(r for r in new.replies if r.to_user == JM_LE)
    # A contact may read none of the record: asked to call, not told its ID, kind or title.
    assert "call @jm1:test.org" in le.message.body and le.seal == CHROME
    assert all(w not in le.message.body for w in ("INC-1", "Grooming", "exploitation"))
    assert "24/7 law-enforcement contacts were told: @jm-le:test.org" in text_of(new)
    await _observe(region, JM1, "!incident observe INC-1 url=hxxp://bad-app[.]example/x",
                   room="!dm-jm1", kind="direct")  # fmt: skip
    own = text_of(await say(region, JM1, "!incident show INC-1", room="!dm-jm1", kind="direct"))
    assert "hxxp://bad-app[.]example/x" in own
    for who, room, kind in ((JM1, RCC, "rcc"), (CHAIR, "!dm-chair", "direct")):
        elsewhere = text_of(await say(region, who, "!incident show INC-1", room=room, kind=kind))
        assert "Grooming via a school app" in elsewhere  # the incident is AMBER: the RCC reads it
        assert "bad-app" not in elsewhere and "1 indicator is not shown here." in elsewhere


async def test_the_heads_report_shows_types_crime_and_links_its_readers_may_see(region):
    from bot.files import render_file

    for who, command in (
        (JM1, "!incident new severity=high tlp=green type=phishing crime=fraud SMS lures"),
        (JM1, "!incident observe INC-1 domain=lure.example"),
        (TT1, "!incident new severity=medium tlp=green type=phishing Bank lookalikes"),
        (TT1, "!incident observe INC-2 domain=lure.example"),
        (TT1, "!incident new severity=high tlp=amber type=ddos Grid probing"),
        (TT1, "!incident observe INC-3 domain=lure.example"),  # AMBER: titles only for Heads
    ):
        await _observe(region, who, command)
    pages = {}
    for profile in ("heads", "consle"):
        outcome = await say(region, CHAIR, f"!report {profile} period=2026-11")
        spec = next(f for f in outcome.replies[0].files if f.mimetype == "text/html")
        pages[profile] = render_file(region.renderer, "report-html", spec.data).decode()
    heads = pages["heads"]
    assert "Phishing <span" in heads and "(fraud:phishing)" in heads
    assert "Linked to other crime: fraud 1." in heads
    assert "INC-1 and INC-2 (JM–TT) share an indicator." in heads
    assert heads.count("share an indicator") == 1  # INC-3's links: AMBER, a title here
    async with region.db.unit(write=False) as store:
        sent = [r for r in await store.outbox.pending(limit=1000) if r.to_user == RIFC]
    # The RIFC reads GREEN in full: told of INC-1 ~ INC-2, never of a link to AMBER INC-3.
    assert [json.loads(r.content)["body"] for r in sent] == [
        "🔗 INC-1 (Jamaica) and INC-2 (Trinidad and Tobago) share an indicator: "
        "!incident show INC-1"
    ]
    assert "by type: Phishing 2" in pages["consle"]


async def test_a_file_in_reply_to_a_child_exploitation_alert_is_refused_and_not_kept(region):
    await _observe(region, JM1, "!incident new severity=high tlp=amber crime=child-exploitation "
                   "Grooming via a school app")  # fmt: skip
    await _observe(region, JM1, "!incident new severity=low tlp=green Spam run")
    sent = await Postman(region).deliver_all()
    alerts = {r.ref: r for r in sent if r.ref and r.ref.startswith("incident:")}
    file = '{"msgtype": "m.image", "body": "screenshot.png", "url": "mxc://test.org/abc"}'
    refused = await say(region, JM1, "screenshot.png", reply_to=alerts["incident:1"].event_id,
                        attachment=file)  # fmt: skip
    assert "⛔ Not kept: no file is attached to a child sexual exploitation case (INC-1)" in (
        text_of(refused)
    )
    other = await say(region, JM1, "log.txt", reply_to=alerts["incident:2"].event_id,
                      attachment=file)  # fmt: skip
    assert other is None  # any other incident: a file in reply is chatter, as before
    async with region.db.unit(write=False) as store:
        assert [u.kind for u in await store.incidents.history(await store.incidents.get(1))] == [
            "created"
        ]


async def test_the_longest_incident_type_is_kept_on_every_backend(region):
    longest = "information-content-security:unauthorised-information-modification"
    await _observe(region, JM1, f"!incident new severity=low tlp=green type={longest} Edited")
    async with region.db.unit(write=False) as store:
        assert (await store.incidents.get(1)).rsit == longest
