"""Intelligence exports: a STIX 2.1 bundle parsed back with `stix2` and MISP events loaded
by PyMISP, every object carrying the official TLP 2.0 marking, never a RED one."""

from __future__ import annotations

import json

import pytest

from commands.incidents.export import TLP_EXTENSION, TLP_MARKINGS
from commands.values import RoomKind
from tests.helpers import CHAIR, JM1, RCC_MEMBERS, TT1, say, text_of

RCC = "!rcc:test.org"
JM_LE = "@jm-le:test.org"
RIFC = "@rifc:test.org"
# The published TLP 2.0 marking definitions (OASIS cti-stix-common-objects), written out
# here on their own so that a slip in the code's table cannot pass.
OFFICIAL = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


@pytest.fixture
async def region(make_app):
    extra = f"""
[[roster]]
user_id = "{JM_LE}"
role = "contact"
country = "JM"
kind = "le-24x7"

[[roster]]
user_id = "{RIFC}"
role = "rifc"
"""
    app = await make_app(extra)
    app.rooms[RoomKind.RCC] = RCC
    app.test_rooms.set(RCC, RCC_MEMBERS)
    for who, command in (
        (JM1, "!incident new severity=high tlp=green type=phishing crime=fraud Bank SMS lures"),
        (
            JM1,
            "!incident observe INC-1 ip=203.0.113.7 domain=bank-jm[.]example "
            "url=hxxps://bank-jm[.]example/it's email=pay[@]bank-jm[.]example "
            f"hash={'ab' * 32}",
        ),
        (JM1, "!incident new severity=medium tlp=amber+strict type=ddos Ministry site down"),
        (JM1, "!incident observe INC-2 ip=198.51.100.9"),
        (TT1, "!incident new severity=high tlp=amber type=scanner Port scans on the grid"),
        (TT1, "!incident new severity=critical tlp=red Cabinet mail read"),
        (TT1, "!incident observe INC-4 domain=red-only.example"),
        (JM1, "!incident new severity=high tlp=amber crime=child-exploitation School app"),
        (JM1, "!incident observe INC-5 domain=grooming-app.example"),
    ):
        outcome = await say(app, who, command)
        assert outcome.outcome == "accepted", (command, text_of(outcome))
    return app


async def _export(app, who, what):
    outcome = await say(app, who, f"!export {what}", room=f"!dm-{who}", kind="direct")
    assert outcome.outcome == "accepted", text_of(outcome)
    (spec,) = outcome.replies[0].files
    return outcome, spec.data["text"]


def _bundle(text):
    import stix2

    bundle = stix2.parse(text, allow_custom=True)
    return bundle, {o["id"]: o for o in bundle.objects}


async def test_a_stix_bundle_marks_every_object_with_its_official_tlp_label(region):
    assert TLP_MARKINGS == OFFICIAL
    _outcome, text = await _export(region, JM1, "stix")
    bundle, objects = _bundle(text)
    markings = {i: o for i, o in objects.items() if o["type"] == "marking-definition"}
    for level, marking in ((k, markings[v]) for k, v in OFFICIAL.items() if v in markings):
        assert marking["name"] == f"TLP:{level.upper()}"
        assert marking["created"].isoformat().startswith("2022-10-01T00:00:00")
        assert marking["extensions"][TLP_EXTENSION]["tlp_2_0"] == level
    assert OFFICIAL["red"] not in text  # never a RED marking, nor a RED incident
    others = [o for o in bundle.objects if o["type"] != "marking-definition"]
    for obj in others:
        (mark,) = obj["object_marking_refs"]
        assert mark in markings, obj["id"]
    incidents = {o["name"]: o for o in others if o["type"] == "incident"}
    assert set(incidents) == {
        "INC-1: Bank SMS lures",
        "INC-2: Ministry site down",
        "INC-3: Port scans on the grid",
        "INC-5: School app",
    }  # its own AMBER+STRICT for JM; TT's RED never
    assert incidents["INC-1: Bank SMS lures"]["labels"] == ['rsit:fraud="phishing"', "crime:fraud"]
    assert incidents["INC-2: Ministry site down"]["object_marking_refs"] == [
        OFFICIAL["amber+strict"]
    ]
    patterns = sorted(o["pattern"] for o in others if o["type"] == "indicator")
    assert patterns == sorted([
        "[ipv4-addr:value = '203.0.113.7']",
        "[domain-name:value = 'bank-jm.example']",
        "[url:value = 'https://bank-jm.example/it\\'s']",
        "[email-addr:value = 'pay@bank-jm.example']",
        f"[file:hashes.'SHA-256' = '{'ab' * 32}']",
        "[ipv4-addr:value = '198.51.100.9']",
        "[domain-name:value = 'grooming-app.example']",  # JM's own case: JM may have it
    ])  # fmt: skip
    links = [o for o in others if o["type"] == "relationship"]
    assert len(links) == 7 and {o["relationship_type"] for o in links} == {"indicates"}
    assert all(objects[r["target_ref"]]["type"] == "incident" for r in links)


async def test_another_country_gets_neither_strict_nor_child_exploitation_indicators(region):
    _outcome, text = await _export(region, TT1, "stix")
    bundle, _objects = _bundle(text)
    names = {o["name"] for o in bundle.objects if o["type"] == "incident"}
    assert names == {"INC-1: Bank SMS lures", "INC-3: Port scans on the grid", "INC-5: School app"}
    assert "198.51.100.9" not in text and "grooming-app" not in text and "red-only" not in text
    assert OFFICIAL["red"] not in text and OFFICIAL["amber+strict"] not in text


async def test_misp_events_load_in_pymisp_with_their_tlp_and_rsit_tags(region):
    from pymisp import MISPEvent

    outcome, text = await _export(region, CHAIR, "misp period=2026-11")
    assert "📦 3 incidents of November 2026 as MISP; 2 not exportable here" in text_of(outcome)
    events = []
    for data in json.loads(text)["response"]:
        event = MISPEvent()
        event.load(data)
        events.append(event)
    first = next(e for e in events if e.info == "INC-1: Bank SMS lures")
    assert {t.name for t in first.tags} == {"tlp:green", 'rsit:fraud="phishing"'}
    kinds = {(a.type, a.value) for a in first.attributes}
    assert ("ip-dst", "203.0.113.7") in kinds and ("sha256", "ab" * 32) in kinds
    assert all({t.name for t in a.tags} == {"tlp:green"} for a in first.attributes)
    assert all("tlp:red" not in {t.name for t in e.tags} for e in events)
    case = next(e for e in events if e.info == "INC-5: School app")
    assert case.attributes == []  # the chair is not JM's own: no indicators of that case


async def test_the_rifc_exports_what_it_reads_in_full_and_only_in_a_dm(region):
    _outcome, text = await _export(region, RIFC, "misp")
    infos = [e["Event"]["info"] for e in json.loads(text)["response"]]
    assert infos == ["INC-1: Bank SMS lures"]  # a Steering member's clearance: GREEN in full
    refused = await say(region, JM1, "!export stix")
    assert refused.outcome == "invalid" and "only in a direct message" in text_of(refused)
    shown = text_of(await say(region, RIFC, "!help", room=f"!dm-{RIFC}", kind="direct"))
    assert "!export misp period=last-30d" in shown
