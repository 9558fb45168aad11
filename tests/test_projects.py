"""The register of projects, the duplication view and `!help-with` (both backends)."""

from __future__ import annotations

import html
import re

from tests.helpers import CHAIR, JM1, STEERING, TT1, say, text_of


async def ok(app, sender, text):
    outcome = await say(app, sender, text)
    assert outcome.outcome == "accepted", text_of(outcome)
    return text_of(outcome)


async def test_projects_that_overlap_in_country_and_item_are_shown(app):
    first = await ok(
        app,
        JM1,
        '!project add Cybercrime bill drafting lead="Commonwealth Secretariat" '
        "countries=JM,TT items=legal.cybercrime target=2027-06",
    )
    assert first == "✅ PR-1 “Cybercrime bill drafting” registered (JM, TT)."
    second = await ok(
        app,
        CHAIR,
        '!project add Model cybercrime law workshop lead="OAS/REMJA" partners="CoE, UNODC" '
        "countries=regional items=legal.cybercrime,capacity.judiciary funding=EU",
    )
    assert "overlaps in country and item with PR-1 “Cybercrime bill drafting”" in second
    # The same item elsewhere, or another item in the same country, is no duplication.
    third = await ok(app, TT1, "!project add Privacy bill lead=AG items=legal.privacy")
    assert "overlaps" not in third
    await ok(app, CHAIR, "!project add Bahamas bill lead=X countries=BS items=legal.privacy")
    view = await ok(app, TT1, "!projects overlap")
    assert "PR-1 “Cybercrime bill drafting”" in view and "PR-2 “Model cybercrime law" in view
    assert "both on legal.cybercrime" in view
    assert "PR-3" not in view and "PR-4" not in view
    # Registered without a label, the projects are AMBER: not for a Steering member's DM.
    steering = await say(app, STEERING, "!projects overlap", room="!dm-st", kind="direct")
    assert "PR-1" not in text_of(steering) and "Cybercrime bill" not in text_of(steering)
    # A completed project duplicates nothing any more.
    await ok(app, CHAIR, "!project update PR-1 status=completed bill tabled")
    assert "PR-1" not in await ok(app, TT1, "!projects overlap")


async def test_the_register_by_country_item_and_partner(app):
    await ok(app, JM1, "!project add National CSIRT lead=ITU items=coop.cert")
    await ok(app, CHAIR, '!project add RIFC training lead="CARICOM IMPACS" countries=regional')
    await ok(app, TT1, '!project add Drill lead=TTCSIRT partners="OAS/CICTE" items=coop.cert')
    await ok(app, TT1, "!project add Open day lead=TTCSIRT tlp=green")
    by_country = await ok(app, TT1, "!projects JM")
    assert "PR-1" in by_country and "PR-2" in by_country and "PR-3" not in by_country
    by_item = await ok(app, TT1, "!projects coop.cert")
    assert "PR-1" in by_item and "PR-3" in by_item and "PR-2" not in by_item
    by_partner = await ok(app, TT1, "!projects cicte")
    assert "PR-3 [TLP:AMBER] “Drill”" in by_partner and "PR-1" not in by_partner
    # A Steering member's DM: the GREEN one in full, the AMBER ones counted, never named.
    steering = await say(app, STEERING, "!projects", room="!dm-st", kind="direct")
    assert "PR-4 [TLP:GREEN] “Open day”" in text_of(steering)
    assert "3 more are not shown in this room" in text_of(steering)
    assert "Drill" not in text_of(steering) and "National CSIRT" not in text_of(steering)
    updated = await ok(app, JM1, "!project update PR-1 status=under-way analysts hired")
    assert updated == "✅ PR-1 “National CSIRT” is under-way (was planned)."
    async with app.db.unit(write=False) as store:
        project = await store.projects.get(1)
    assert project.version == 1 and project.status == "under-way"
    bad = await say(app, JM1, "!project add Nothing lead=X items=legal.nothing")
    assert bad.outcome == "invalid" and "unknown item" in text_of(bad)


async def test_help_with_names_who_met_it_their_resources_projects_and_the_plans_partners(app):
    await ok(app, TT1, "!status set legal.cybercrime met Act of 2015")
    await ok(app, TT1, "!resource add kind=expertise item=legal.cybercrime tlp=green Legal "
             "drafters for cybercrime")  # fmt: skip
    await ok(app, TT1, "!resource add kind=lab tlp=green Forensic lab, by arrangement")
    await ok(
        app, CHAIR, '!project add Bill drafting lead="ComSec" countries=JM items=legal.cybercrime'
    )
    helped = await ok(app, JM1, "!help-with legal.cybercrime")
    assert (
        "Who can help with legal.cybercrime — Enactment of appropriate Cyber legislation "
        "for Jamaica" in helped
    )
    assert "Countries that met it: Trinidad and Tobago (TT)." in helped
    assert "Legal drafters for cybercrime" in helped
    assert "Forensic lab" not in helped  # a resource not linked to the item is not listed
    assert "PR-1 “Bill drafting” (ComSec, planned)" in helped
    assert "Partners the Action Plan names (Table 4, need 2): Cybercrime (T-CY)" in helped
    # A section 5 example takes the partners of the table row it belongs to.
    ministers = await ok(app, JM1, "!help-with awareness.ministers")
    assert "(Table 1, need 2): CoE; OAS/CICTE; ComSec; UNODC" in ministers


async def test_a_countrys_gap_report_names_who_can_help_under_the_rooms_label(app):
    from bot.files import render_file

    def text_of_html(page: str) -> str:
        inline = re.sub(r"</?(code|b|span)\b[^>]*>", "", page).replace("\u2068", "")
        inline = inline.replace("\u2069", "")  # the isolation around user text
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())

    await ok(app, TT1, "!status set legal.cybercrime met Act of 2015")
    await ok(app, TT1, "!resource add kind=expertise item=legal.cybercrime tlp=green Legal "
             "drafters for cybercrime")  # fmt: skip
    await ok(app, TT1, "!resource add kind=lab item=technical.forensics tlp=amber Forensic lab, "
             "by arrangement")  # fmt: skip
    await ok(app, JM1, "!status set legal.strategy met")
    await ok(app, JM1, '!project add Bill drafting lead="ComSec" items=legal.cybercrime')
    outcome = await say(app, JM1, "!gaps report=yes")
    assert outcome.outcome == "accepted", text_of(outcome)
    (reply,) = outcome.replies
    assert "Gaps — Jamaica (JM): 1 of 9 items with a minimum standard met" in reply.message.body
    (file,) = reply.files
    assert (file.filename, file.mimetype) == ("rcc-gaps-JM.html", "text/html")
    page = render_file(app.renderer, "gaps-html", file.data).decode()
    words = text_of_html(page)
    assert "Gap analysis — Jamaica (JM)" in words and "TLP:AMBER" in words
    assert "legal.strategy" not in words  # met: no gap
    assert "Met by Trinidad and Tobago (TT)." in words
    assert "Legal drafters for cybercrime" in words and "Forensic lab" in words
    assert "PR-1 “Bill drafting” (ComSec, planned)" in words
    assert "Partners named by the plan: Cybercrime (T-CY) Committee" in words
    # In the Steering room the AMBER resource is left out, and the label follows.
    steering = await say(app, STEERING, "!gaps JM report=yes", room="!steer:test.org",
                         kind="steering")  # fmt: skip
    data = steering.replies[0].files[0].data
    shown = text_of_html(render_file(app.renderer, "gaps-html", data).decode())
    assert "Forensic lab" not in shown and "Legal drafters" in shown
    assert data["label"] == "TLP:GREEN"


async def test_a_project_is_updated_by_its_lead_or_the_chair(make_app):
    from tests.helpers import DEFAULT_ROSTER

    oas = '[[roster]]\nuser_id = "@oas:test.org"\nrole = "steering"\nagency = "OAS/CICTE"\n'
    app = await make_app(roster=DEFAULT_ROSTER + oas)
    await ok(app, CHAIR, '!project add Drill season lead="OAS/CICTE" countries=regional')
    await ok(app, CHAIR, "!project add Jamaican CSIRT lead=Jamaica items=coop.cert")
    await ok(app, CHAIR, "!project add Tax portal hardening lead=MoF countries=JM")
    for number in (1, 2, 3):  # another country's NCPOC, or another agency: refused
        other = await say(app, TT1, f"!project update PR-{number} status=cancelled")
        assert other.outcome == "refused", number
        assert "its lead, whoever registered it or the chair" in text_of(other)
    steer = await say(app, STEERING, "!project update PR-1 status=stalled")
    assert steer.outcome == "refused"  # a Steering member of another agency
    await ok(app, "@oas:test.org", "!project update PR-1 status=under-way first drill held")
    await ok(app, JM1, "!project update PR-2 status=under-way team hired")  # the lead country
    await ok(app, JM1, "!project update PR-3 status=under-way")  # the one country it is for
    async with app.db.unit(write=False) as store:
        assert [(await store.projects.get(n)).status for n in (1, 2, 3)] == ["under-way"] * 3


async def test_quick_wins_are_marked_and_listed(app):
    await ok(app, JM1, "!project add Awareness week lead=JM quick-win=yes tlp=green")
    await ok(app, JM1, "!project add Cybercrime bill lead=JM tlp=green")
    wins = await ok(app, STEERING, "!projects quick-wins")
    assert "PR-1" in wins and "⚡ quick win" in wins and "PR-2" not in wins
    every = await ok(app, STEERING, "!projects")
    assert "PR-2" in every and every.count("⚡ quick win") == 1


async def test_a_project_and_a_correction_are_answered_in_the_readers_language(app):
    await say(app, JM1, "!lang es", room="!dm-jm1", kind="direct")
    added = await say(app, JM1, "!project add Semana de concienciación lead=JM tlp=green",
                      room="!dm-jm1", kind="direct")  # fmt: skip
    assert "✅ PR-1 «Semana de concienciación» registrado (JM)." in text_of(added)
    await say(app, JM1, "!incident new severity=low tlp=green Spam", room="!dm-jm1",
              kind="direct")  # fmt: skip
    fixed = await say(app, JM1, "!incident edit INC-1 severity=medium", room="!dm-jm1",
                      kind="direct")  # fmt: skip
    assert "✅ INC-1 corregido (severity); se conservan los valores anteriores." in text_of(fixed)
