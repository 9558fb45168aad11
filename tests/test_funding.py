"""The money behind the plan (issue 35): Steering members register their own organisation's
projects, funding lines (amount, currency, state, funder), funders and their interests, the
unfunded needs, and the annex for proposals, opened with openpyxl and pypdf (both backends)."""

from __future__ import annotations

import io

import pytest

from commands.audience import Viewer
from commands.digest.data import digest_period
from commands.reports.profiles import audience_for, report_data, to_xlsx
from tests.helpers import CHAIR, DEFAULT_ROSTER, JM1, STEERING, TT1, say, text_of

EU = "@eu:test.org"
MORE = f'''
[[roster]]
user_id = "{EU}"
role = "steering"
agency = "European Union"
'''


@pytest.fixture
async def funded(make_app):
    return await make_app(roster=DEFAULT_ROSTER + MORE)


async def accepted(app, sender, text) -> str:
    outcome = await say(app, sender, text)
    assert outcome.outcome == "accepted", text_of(outcome)
    return text_of(outcome)


async def test_a_steering_member_registers_their_organisations_project_and_its_funding(funded):
    app = funded
    other = await say(app, EU, '!project add Bill drafting lead="Commonwealth Secretariat"')
    assert other.outcome == "refused" and "lead= is European Union" in text_of(other)
    unknown = await say(app, STEERING, '!project add X lead="Anyone"')
    assert unknown.outcome == "refused" and "not on the roster yet" in text_of(unknown)
    added = await accepted(
        app, EU, '!project add Cyber Resilience for the Caribbean lead="European Union" '
        "countries=JM,TT items=legal.cybercrime tlp=green",
    )  # fmt: skip
    assert "PR-1 “Cyber Resilience for the Caribbean” registered (JM, TT)" in added
    funding = await accepted(app, EU, '!project fund PR-1 1,250,000 eur committed '
                             'funder="European Union"')  # fmt: skip
    assert "1,250,000.00 EUR committed by European Union. [TLP:GREEN]" in funding
    nobody = await say(app, TT1, '!project fund PR-1 10 USD pledged funder="Someone"')
    assert nobody.outcome == "refused" and "entered by its lead" in text_of(nobody)
    bad = await say(app, CHAIR, '!project fund PR-1 -5 USD pledged funder="X"')
    assert bad.outcome == "invalid" and "is not an amount" in text_of(bad)
    also = await accepted(app, CHAIR, '!project fund PR-1 50000 usd pledged funder="OAS/CICTE"')
    assert "50,000.00 USD pledged by OAS/CICTE" in also


async def seed_needs(app) -> None:
    """JM and TT have NCPOCs. JM met legal.strategy; PR-1 (JM, TT) is funded on
    legal.cybercrime; PR-2 (regional) is only pledged on legal.privacy; one funder."""
    await accepted(app, JM1, "!status set legal.strategy met")
    await accepted(app, TT1, "!status set legal.privacy n/a")
    await accepted(app, CHAIR, '!project add Bill drafting lead="ComSec" countries=JM,TT '
                   "items=legal.cybercrime tlp=green")  # fmt: skip
    await accepted(app, CHAIR, '!project fund PR-1 80000 USD disbursed funder="ComSec"')
    await accepted(app, CHAIR, '!project add Privacy laws lead="CARICOM IMPACS" '
                   "countries=regional items=legal.privacy")  # fmt: skip
    await accepted(app, CHAIR, '!project fund PR-2 20000 USD pledged funder="UNODC"')
    await accepted(app, STEERING, "!funder add interests=legal,technical.forensics EU Cyber "
                   "Resilience Fund")  # fmt: skip


def expected_needs(app) -> set[tuple[str, str]]:
    """Every (item, country) the annex must list, worked out here from the seeded facts."""
    catalogue = app.env.reference.catalogue
    needs = set()
    for item in catalogue.scored:
        for country in ("JM", "TT"):
            if (item.id, country) in {("legal.strategy", "JM"), ("legal.privacy", "TT")}:
                continue  # met, or not applicable
            if item.id == "legal.cybercrime":
                continue  # disbursed money funds it in both countries
            needs.add((item.id, country))
    return needs


async def test_unfunded_lists_exactly_the_needs_nobody_funds_with_partners_and_funders(funded):
    app = funded
    await seed_needs(app)
    legal = await accepted(app, STEERING, "!unfunded legal")
    assert "legal.cybercrime" not in legal  # funded
    assert "legal.privacy — Data Privacy Act: JM" in legal  # a pledge is not money yet
    assert "legal.strategy — National Cyber Security Strategy: TT" in legal
    assert "Funders whose interests match: EU Cyber Resilience Fund" in legal
    assert "[TLP:GREEN]" in legal
    async with app.db.unit(write=False) as store:
        period = digest_period("last-30d", app.env)
        viewer = Viewer(audience_for("funding", None))
        data = await report_data(store, app.env, app.sections, "funding", None, period, viewer,
                                 app.clock())  # fmt: skip
    assert data["label"] == "TLP:GREEN"
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(to_xlsx(data)))
    assert book.sheetnames == ["Unfunded needs"]
    sheet = book["Unfunded needs"]
    assert sheet["B1"].value == "TLP:GREEN"
    lines = [[c.value for c in r] for r in sheet.iter_rows(min_row=4)]
    assert {(line[0], line[4]) for line in lines} == expected_needs(app)
    assert len(lines) == len(expected_needs(app))  # each need once
    forensics = next(line for line in lines if line[0] == "technical.forensics")
    assert forensics[6] == "EU Cyber Resilience Fund"
    strategy = next(line for line in lines if line[0] == "awareness.strategy")
    assert "OAS/CICTE" in strategy[5]  # the partners the plan names for it


async def test_the_annex_as_pdf_lists_every_unfunded_need(funded):
    from bot.files import render_file
    from commands.reports.profiles import pdf_available

    if not pdf_available():
        pytest.skip("WeasyPrint (the pdf extra) is not installed")
    from pypdf import PdfReader

    app = funded
    await seed_needs(app)
    outcome = await say(app, CHAIR, "!report funding")
    assert outcome.outcome == "accepted", text_of(outcome)
    spec = next(f for f in outcome.replies[0].files if f.mimetype == "application/pdf")
    reader = PdfReader(io.BytesIO(render_file(app.renderer, "report-pdf", spec.data)))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    assert "Unfunded needs: annex for proposals" in text and "TLP:GREEN" in text
    items = {item for item, _country in expected_needs(app)}
    for item in items:
        assert item in text, item
    assert "legal.cybercrime" not in text


async def test_the_register_shows_the_money_and_an_items_delivered_help(funded):
    app = funded
    await seed_needs(app)
    listed = await accepted(app, STEERING, "!projects legal.cybercrime")
    assert "money: 80,000.00 USD disbursed (ComSec)" in listed
    await accepted(app, JM1, "!request forensic item=coop.forensic-pool tlp=green Image two "
                   "phones")  # fmt: skip
    await accepted(app, TT1, "!offer RQ-1 Our lab")
    await accepted(app, JM1, "!accept RQ-1 OF-1")
    await accepted(app, JM1, "!delivered RQ-1")
    pool = await accepted(app, STEERING, "!projects coop.forensic-pool")
    assert "Help the region delivered on this item:" in pool
    assert "RQ-1 [TLP:GREEN] forensic · JM: Image two phones" in pool
