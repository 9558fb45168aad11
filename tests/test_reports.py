"""Reports for each audience follow the one need-to-know rule and carry its label."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from bot.files import render_file
from tests.helpers import CHAIR, JM1, STEERING, TT1, say, text_of

GREEN, AMBER, RED = "Skimming ring at ATMs", "Probing of the grid SCADA", "Implant on a phone"


@pytest.fixture
async def seeded(app):
    for who, text in (
        (JM1, "!status set legal.strategy met"),
        (JM1, f"!incident new severity=high tlp=green sectors=finance countries=JM {GREEN}"),
        (TT1, f"!incident new severity=high tlp=amber sectors=energy countries=TT {AMBER}"),
        (JM1, f"!incident new severity=critical tlp=red {RED}"),
        (TT1, "!lesson add tags=ddos Ask upstream for scrubbing early"),
        (CHAIR, "!motion propose legal.authority tlp=green Established by law"),
        (CHAIR, "!motion propose legal.privacy Quietly agreed wording"),  # AMBER
    ):
        outcome = await say(app, who, text)
        assert outcome.outcome == "accepted", text_of(outcome)
    return app


async def report(app, profile: str, *, sender=CHAIR, room="!rcc:test.org", kind="rcc"):
    outcome = await say(app, sender, f"!report {profile} period=2026-11", room=room, kind=kind)
    assert outcome.outcome == "accepted", text_of(outcome)
    (reply,) = outcome.replies
    html, *_, xlsx = reply.files  # HTML, PDF where WeasyPrint is installed, XLSX
    page = render_file(app.renderer, "report-html", html.data).decode()
    page = page.replace("\u2068", "").replace("\u2069", "")  # the isolation of user text
    book = render_file(app.renderer, "report-xlsx", xlsx.data)
    return reply.message.body, page, book


@pytest.mark.parametrize(
    ("profile", "label", "title", "shown", "hidden"),
    [
        ("consle", "TLP:GREEN", "Report of CARICOM IMPACS to CONSLE", [], [AMBER, RED]),
        ("heads", "TLP:AMBER", "Heads of Intelligence", [GREEN, AMBER], [RED]),
        ("csm", "TLP:GREEN", "Caribbean Stakeholders Meeting", [], [GREEN, AMBER, RED]),
        ("steering", "TLP:AMBER", "Digest for the Steering Committee", [GREEN, AMBER], [RED]),
        ("country:JM", "TLP:GREEN", "Gap analysis — Jamaica (JM)", [], [GREEN, AMBER, RED]),
    ],
)
async def test_each_profile_renders_with_its_label_and_nothing_withheld(
    seeded, profile, label, title, shown, hidden
):
    from openpyxl import load_workbook

    body, page, book = await report(seeded, profile)
    assert f"[{label}]" in body
    assert title in page and page.count(label) >= 2  # the header and the footer
    for text in shown:
        assert text in page, text
    for text in hidden:
        assert text not in page, text
    sheets = load_workbook(io.BytesIO(book))
    for sheet in sheets:
        cells = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row)
        assert label in cells
        for text in (GREEN, AMBER, RED):
            assert text not in cells  # never an incident in a spreadsheet


async def test_a_report_in_a_room_shows_no_more_than_the_room_may(seeded):
    # The Heads' report asked for in the Steering room: AMBER as titles there too; RED never.
    _, page, _ = await report(seeded, "heads", sender=STEERING, room="!st", kind="steering")
    assert AMBER in page and RED not in page and "details withheld" in page
    assert (await say(seeded, JM1, "!report consle")).outcome == "refused"


async def test_the_csm_report_carries_the_years_decisions_and_proposed_amendments(seeded):
    _, page, _ = await report(seeded, "csm")
    assert "Proposed amendments" in page and "MO-1 adopt legal.authority" in page
    assert "Quietly agreed" not in page  # AMBER words: not for the stakeholders' report


async def test_a_committees_own_template_replaces_the_shipped_one(make_app, tmp_path):
    own = tmp_path / "templates" / "reports"
    own.mkdir(parents=True)
    (own / "consle.html.j2").write_text(
        "<html><body>Our own CONSLE page for {{ period.label }} [{{ label }}]</body></html>"
    )
    app = await make_app(f'[reports]\ntemplates_dir = "{tmp_path / "templates"}"\n')
    _, page, _ = await report(app, "consle")
    assert page == "<html><body>Our own CONSLE page for November 2026 [TLP:GREEN]</body></html>"


async def test_every_report_as_pdf_a_label_and_page_number_on_each_page(seeded, tmp_path):
    """The PDF opens with its reader; every page carries the label and its number; the first
    page, drawn to PNG by pdftoppm, is a real page with ink on it."""
    import shutil
    import subprocess

    from pypdf import PdfReader

    for profile, label, title in (
        ("country:JM", "TLP:GREEN", "Gap analysis — Jamaica (JM)"),  # many pages
        ("heads", "TLP:AMBER", "Report to the Heads of Intelligence"),
        ("csm", "TLP:GREEN", "Report to the Caribbean Stakeholders Meeting"),
        ("consle", "TLP:GREEN", "Report of CARICOM IMPACS to CONSLE"),
        ("steering", "TLP:AMBER", "Digest for the Steering Committee"),
    ):
        outcome = await say(seeded, CHAIR, f"!report {profile} period=2026-11")
        spec = next(f for f in outcome.replies[0].files if f.mimetype == "application/pdf")
        document = render_file(seeded.renderer, "report-pdf", spec.data)
        reader = PdfReader(io.BytesIO(document))
        pages = [" ".join(p.extract_text().split()) for p in reader.pages]
        assert title in pages[0], profile
        for number, text in enumerate(pages, start=1):
            assert label in text and f"Page {number} of {len(pages)}" in text, (profile, number)
            assert "Regional Cyber Committee" in text and "November 2026" in text
        allowed = {"heads": (GREEN, AMBER), "steering": (GREEN, AMBER)}.get(profile, ())
        for secret in (s for s in (GREEN, AMBER, RED) if s not in allowed):
            assert all(secret not in text for text in pages), (profile, secret)
        if profile == "country:JM":
            assert len(pages) >= 3
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (Debian's poppler-utils) is not installed: .ci/run installs it")
    path = tmp_path / "report.pdf"
    path.write_bytes(document)
    await asyncio.to_thread(
        subprocess.run,
        [pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", path, tmp_path / "p"],
        check=True,
    )
    (png,) = tmp_path.glob("p*.png")
    from PIL import Image

    with Image.open(png) as page:
        assert page.size[1] > page.size[0]  # A4, upright
        assert page.convert("L").getextrema()[0] < 100  # there is dark ink on it


async def test_a_hostile_value_breaks_no_spreadsheet_and_is_never_a_formula(app):
    from openpyxl import load_workbook

    from commands.reports.profiles import to_csv

    title = '=HYPERLINK("http://evil.example","click")\x07\x1b[31m bell'
    made = await say(app, JM1, f"!project add tlp=green lead=ITU {title}")
    assert made.outcome == "accepted", text_of(made)
    await say(app, JM1, "!project add tlp=green lead=ITU A plain one after it")
    _, _, book = await report(app, "steering")
    sheet = load_workbook(io.BytesIO(book))["Projects"]  # it opens: nothing broke it
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    hostile = next(c for c in cells if "HYPERLINK" in c)
    assert hostile.startswith("'=") and "\x07" not in hostile and "\x1b" not in hostile
    assert "A plain one after it" in cells  # the next value is written as ever
    outcome = await say(app, CHAIR, "!report steering period=2026-11")
    data = outcome.replies[0].files[-1].data
    data["tables"] = {"Status matrix": [["Country"], [title], ["@SUM(1)"], ["-2+3"]]}
    rows = list(csv.reader(io.StringIO(to_csv(data).decode("utf-8-sig"))))
    assert rows[1][0].startswith("'=HYPERLINK") and "\x07" not in rows[1][0]
    assert rows[2] == ["'@SUM(1)"] and rows[3] == ["'-2+3"]
