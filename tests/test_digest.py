"""The digest: builder on seeded data, TLP filtering, templates, command, schedule, CLI."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from bot.files import render_file
from commands.audience import FILE_AUDIENCES, Viewer
from commands.digest.data import build, digest_period
from commands.values import RoomKind
from storage.outbox import OutboxMessage
from tests.helpers import CHAIR, JM1, STEERING, STEERING_MEMBERS, TT1, TT2, body_of, say, text_of

RED_TITLE = "Kestrel cabinet mailbox compromise"
STEERING_FILE = FILE_AUDIENCES["steering"]
VOID = {"meta", "br", "hr", "img", "input", "link"}


class Strict(HTMLParser):
    """Fails on a closing tag that does not match the open one (well-formed HTML)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def well_formed(html: str) -> None:
    parser = Strict()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], parser.stack


async def seed(app, clock) -> None:
    """A quarter of activity: statuses, notes, reports, incidents of every label, lessons."""
    await say(app, CHAIR, "!deadline add 2026-11-20 November return")
    for command in (
        (JM1, "!status set legal.strategy in-progress Draft"),
        (TT1, "!status set coop.cert met"),
        (JM1, "!status note Awareness week held in schools"),
        (JM1, "!status submit"),
        (JM1, "!incident new severity=high tlp=green sectors=finance Phishing wave"),
        (TT1, "!incident new severity=medium tlp=amber sectors=energy Grid probing"),
        (TT1, "!incident new severity=low tlp=amber+strict Strict matter"),
        (JM1, f"!incident new severity=critical tlp=red {RED_TITLE}"),
        (TT1, "!lesson add tags=ddos Ask upstream for scrubbing early"),
        (TT1, "!lesson add tlp=amber Restricted lesson text"),
        (JM1, "!resource add kind=lab Mobile forensics lab"),
    ):
        assert (await say(app, *command)).outcome == "accepted"
    clock.advance(timedelta(days=20))  # 22 Nov: after the deadline
    await say(app, TT2, "!status submit")  # 1d 17h after 20 Nov 17:00 local


async def digest_of(app, clock, period="2026-11", audience=STEERING_FILE, room_id=None):
    """The digest as the Steering Committee (by default) may read it."""
    async with app.db.unit(write=False) as store:
        return await build(
            store, digest_period(period, app.env), env=app.env, config=app.sections,
            committee="RCC", now=clock(), viewer=Viewer(audience), room_id=room_id,
        )  # fmt: skip


def all_outputs(app, data) -> str:
    from commands.framework import View

    message = app.renderer.render(View("digest/message", data))
    html_file = render_file(app.renderer, "digest-html", data).decode()
    return "\n".join((message.body, message.html, html_file, json.dumps(data)))


async def test_builder_compliance_changes_and_tlp(app, clock):
    await seed(app, clock)
    data = await digest_of(app, clock)
    (deadline,) = data["compliance"]["deadlines"]
    assert [c["code"] for c in deadline["on_time"]] == ["JM"]
    assert [(c["code"], c["late"]) for c in deadline["late"]] == [("TT", "1 day 17 hours")]
    assert deadline["missing"] == []
    assert {(c["country"], c["item"], c["from"], c["to"]) for c in data["changes"]} == {
        ("JM", "legal.strategy", "unreported", "in-progress"),
        ("TT", "coop.cert", "unreported", "met"),
    }
    incidents = data["incidents"]
    assert incidents["total"] == 1 and incidents["withheld"] == 1  # AMBER+STRICT: a count
    assert [i["title"] for i in incidents["full"]] == ["Phishing wave"]
    assert [i["title"] for i in incidents["titled"]] == ["Grid probing"]
    assert [(i["id"], i["severity"]) for i in incidents["labelled"]] == [("INC-4", "critical")]
    assert incidents["by_sector"] == [{"name": "finance", "count": 1}]  # only what is shown
    assert data["label"] == "TLP:AMBER"  # the most restrictive content it carries
    assert data["lessons"]["total"] == 1 and data["lessons"]["withheld"] == 1
    outputs = all_outputs(app, data)
    assert RED_TITLE not in outputs and "Strict matter" not in outputs
    assert "Restricted lesson text" not in outputs
    assert "Phishing wave" in outputs and "Grid probing" in outputs
    assert "Awareness week held in schools" in outputs


async def test_changes_are_counted_from_the_previous_digest_in_the_same_room(app, clock):
    await seed(app, clock)
    async with app.db.unit() as store:
        await store.digests.record(period="x", room_id="!st", requested_by=CHAIR, now=clock())
    clock.advance(timedelta(hours=1))
    await say(app, JM1, "!status set legal.strategy met")
    await say(app, JM1, "!status set coop.cert met")
    await say(app, JM1, "!status set coop.cert met")  # no change of state: not a change
    clock.advance(timedelta(minutes=1))
    async with app.db.unit() as store:  # a preview in the RCC room does not move the baseline
        await store.digests.record(period="x", room_id="!rcc", requested_by=CHAIR, now=clock())
    clock.advance(timedelta(minutes=5))
    data = await digest_of(app, clock, room_id="!st")
    assert [(c["item"], c["from"], c["to"]) for c in data["changes"]] == [
        ("coop.cert", "unreported", "met"),
        ("legal.strategy", "in-progress", "met"),
    ]
    assert (await digest_of(app, clock, room_id="!rcc"))["changes"] == []  # nothing since


async def test_empty_period_says_nothing_was_reported(app, clock):
    data = await digest_of(app, clock, "2026-10")
    assert data["empty"] and data["label"] == "TLP:GREEN"
    assert "Nothing was reported in this period" in all_outputs(app, data)


async def test_templates_render_well_formed_html(app, clock):
    from commands.framework import View

    await seed(app, clock)
    data = await digest_of(app, clock)
    document = render_file(app.renderer, "digest-html", data).decode()
    well_formed(document)
    well_formed(app.renderer.render(View("digest/message", data)).html)
    assert document.startswith("<!DOCTYPE html>")
    assert "<header>" in document and "<footer>" in document
    assert document.count("TLP:AMBER</span>") >= 2  # the label in header and footer
    assert "<span>RCC · November 2026 · generated" in document  # the footer names both
    png = render_file(app.renderer, "digest-png", data)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("2026-13", "there is no month 13"),
        ("2027-Q3", "has not started"),
        ("yesterday", "use YYYY-MM, YYYY-Qn, YYYY or last-30d"),
        ("last-0d", "between 1 and 366"),
        ("2027", "has not started"),
    ],
)
async def test_bad_periods(app, text, error):
    outcome = await say(app, CHAIR, f"!digest period={text}")
    assert outcome.outcome == "invalid" and error in text_of(outcome)


async def test_digest_command_posts_message_and_files(make_app, clock):
    app = await make_app('[digest]\napproval = "none"\n')  # today's behaviour, kept
    await seed(app, clock)
    app.rooms[RoomKind.STEERING] = "!steering:test.org"
    app.test_rooms.set("!steering:test.org", STEERING_MEMBERS)
    here = await say(app, STEERING, "!digest period=2026-Q4", room="!st", kind="steering")
    assert "📊 Regional Cyber Committee — digest for 2026-Q4" in text_of(here)
    assert [f.renderer for f in here.replies[0].files] == ["digest-html", "digest-png"]
    away = await say(app, CHAIR, "!digest period=2026-11 to=steering")
    assert "on its way to the Steering Committee room" in text_of(away)
    assert away.replies[0].room_id == "!steering:test.org"
    assert (await say(app, JM1, "!digest")).outcome == "refused"
    other = await say(app, CHAIR, "!digest", room="!x", kind="other")
    assert "a digest goes to the RCC room" in text_of(other)


async def scheduled_posts(app) -> list:
    async with app.db.unit(write=False) as store:
        return await store.outbox.pending()


async def test_scheduled_digest_once_per_slot_and_late_after_downtime(make_app, clock):
    app = await make_app('[digest]\nschedule = "0 9 1 * *"\napproval = "none"\n')
    app.rooms[RoomKind.STEERING] = "!steering:test.org"
    first = await app.jobs.run("digest", 0)  # first run: nothing from before it
    assert await scheduled_posts(app) == [] and first == datetime(2026, 12, 1, 13, tzinfo=UTC)
    clock.current = datetime(2026, 12, 1, 13, 0, 5, tzinfo=UTC)
    await app.jobs.run("digest", 0)
    (message, html, png) = await scheduled_posts(app)
    assert message.room_id == "!steering:test.org" and message.ref == "digest:0"
    assert "digest for November 2026" in body_of(message) and "late" not in body_of(message)
    assert [json.loads(f.content)["renderer"] for f in (html, png)] == [
        "digest-html",
        "digest-png",
    ]
    await app.jobs.run("digest", 0)  # the same slot again: nothing
    assert len(await scheduled_posts(app)) == 3
    clock.current = datetime(2027, 2, 3, tzinfo=UTC)  # the bot was down on 1 Jan and 1 Feb
    await app.jobs.run("digest", 0)
    later = (await scheduled_posts(app))[3]
    assert "Posted late" in body_of(later) and "digest for January 2027" in body_of(later)


def test_digest_cli_writes_html_and_png(tmp_path, monkeypatch):
    from bot.cli import main
    from tests.helpers import write_config

    monkeypatch.setattr("bot.cli.configure_logging", lambda level: None)
    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
    out = tmp_path / "digest.html"
    assert main(["db", "upgrade", "--config", str(path)]) == 0
    assert main(["digest", "--config", str(path), "--period", "2026-Q4", "--out", str(out)]) == 0
    assert "Digest for the Steering Committee" in out.read_text()
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert main(["digest", "--config", str(path), "--period", "nope", "--out", str(out)]) == 1


async def test_outbox_keeps_files_to_render_at_send_time(app, clock):
    await say(app, CHAIR, "!digest period=2026-Q4")
    async with app.db.unit(write=False) as store:
        rows = list(await store._session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [r.kind for r in rows] == ["message", "file", "file"]
    spec = json.loads(rows[1].content)
    assert spec["renderer"] == "digest-html" and spec["mimetype"] == "text/html"
    assert spec["filename"] == "rcc-digest-2026-Q4.html"


def test_audit_verify_cli_names_the_first_entry_changed(tmp_path, monkeypatch, capsys):
    import sqlite3

    from bot.cli import main
    from tests.helpers import write_config

    monkeypatch.setattr("bot.cli.configure_logging", lambda level: None)
    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
    from bot.app import prepare, system_clock
    from bot.config import load_config
    from storage.db import Database

    async def seeded() -> None:  # as the bot's first start: the roster seeded and audited
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
        await prepare(db, load_config(path), system_clock)
        await db.close()

    asyncio.run(seeded())
    assert main(["audit", "verify", "--config", str(path)]) == 0
    assert "audit log intact: 6 entries, head #6" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "rcc.db") as db:
        db.execute("DROP TRIGGER audit_log_no_update")
        db.execute("UPDATE audit_log SET actor = 'someone else' WHERE id = 2")
    assert main(["audit", "verify", "--config", str(path)]) == 1
    assert "BROKEN at entry #2" in capsys.readouterr().err


def test_files_are_for_the_bots_user_alone(tmp_path, monkeypatch):
    from bot.cli import main
    from tests.helpers import write_config

    monkeypatch.setattr("bot.cli.configure_logging", lambda level: None)
    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
    (tmp_path / "rcc.db").touch(mode=0o644)  # made earlier, world-readable
    out = tmp_path / "d.html"
    assert main(["db", "upgrade", "--config", str(path)]) == 0
    assert main(["digest", "--config", str(path), "--out", str(out)]) == 0
    for made in (tmp_path / "rcc.db", out, out.with_suffix(".png")):
        assert made.stat().st_mode & 0o777 == 0o600, made


async def test_each_digest_carries_the_audit_chain_head(app):
    """An outside copy of a digest anchors the audit log: rewriting history changes the head."""
    await say(app, JM1, "!status set 1.1 met")
    outcome = await say(app, CHAIR, "!digest")
    async with app.db.unit(write=False) as store:
        head_id, _ = await store.audit.head()
    # The digest's own audit entry is written with it: the head it shows is the one before.
    assert f"Audit log at #{head_id - 1} " in text_of(outcome)
    async with app.db.unit(write=False) as store:
        entries = {e.id: e for e in await store.audit.recent(limit=10)}
    assert entries[head_id - 1].hash[:16] in text_of(outcome)


async def test_the_matrix_names_countries_items_and_who_has_no_ncpoc(app, clock):
    await seed(app, clock)
    matrix = (await digest_of(app, clock))["matrix"]
    by_code = {r["code"]: r for r in matrix["rows"]}
    assert by_code["JM"]["name"] == "Jamaica" and by_code["JM"]["ncpoc"]
    assert not by_code["BB"]["ncpoc"] and not by_code["BB"]["reported"]  # nobody could
    assert "Barbados" in matrix["unstaffed"] and "Jamaica" not in matrix["unstaffed"]
    assert len(matrix["names"]) == len(matrix["items"])
    assert "Government Ministers" in matrix["names"]
    assert "coop.capacity-centre" not in matrix["items"]  # regional: not per country
    html = render_file(app.renderer, "digest-html", await digest_of(app, clock)).decode()
    assert "Jamaica (JM)" in html and "Legend:" in html
    # An area's name too long for its columns is numbered in the table and named in the key,
    # so no header is printed over its neighbour (seen in the PDF drawn by pdftoppm).
    assert '<th class="area" colspan="8" title="Public awareness">Public awareness</th>' in html
    assert ">Area 5 (below)</th>" in html and "<b>Area 5: Regional and International" in html
    assert "26. <code>coop.law-enforcement</code>" in html
    assert "No NCPOC on the roster and nothing reported: " in html and "Barbados" in html
    assert "<td>Barbados" not in html and "Barbados (BB)" not in html
    assert "1 day 17 hours" in html and "AST" in html  # plain durations, times with a zone
    picture = render_file(app.renderer, "digest-png", await digest_of(app, clock))
    assert picture.startswith(b"\x89PNG")


async def test_the_summary_leads_with_compliance_its_trend_and_what_matters(app, clock):
    await seed(app, clock)
    data = await digest_of(app, clock)
    summary = data["summary"]
    assert summary["countries"] == 2  # JM and TT have NCPOCs
    # coop.cert has no minimum standard: TT meeting it is progress, never "at minimum standard"
    assert (summary["met"], summary["applicable"], summary["trend"]) == (0, 18, 0)
    assert (summary["items_met"], summary["items_applicable"]) == (1, 52)
    first = summary["highlights"][0]
    assert (first["country"], first["item"], first["to"]) == ("TT", "coop.cert", "met")
    assert all(i["title"] != RED_TITLE for i in summary["urgent"])
    assert summary["critical_veiled"] == 1  # INC-4, RED: counted, its status unsaid
    text = all_outputs(app, data)
    assert (
        "In summary" in text
        and (
            "Compliance: 0 of 18 applicable items with a minimum standard met (0%) across 2 "
            "countries with NCPOCs (1 of 52 items met in all)"
        )
        in text
    )
    assert "no change since the period began" in text


async def test_decisions_and_projects_of_the_period_are_in_every_rendering(app, clock):
    await say(app, CHAIR, "!motion propose legal.authority tlp=green Established by law")
    for ncpoc in (JM1, TT1):
        await say(app, ncpoc, "!vote MO-1 yes")
    await say(
        app,
        JM1,
        '!project add CSIRT set-up lead=ITU funding="World Bank" items=coop.cert tlp=green',
    )
    await say(app, JM1, "!project add Quiet audit lead=MoF")  # AMBER: not for the Steering file
    clock.advance(timedelta(days=1))
    await say(app, JM1, "!project update PR-1 status=under-way two analysts hired")
    data = await digest_of(app, clock)
    (decision,) = data["decisions"]
    assert (decision["id"], decision["state"], decision["version"]) == ("MO-1", "adopted", 2)
    assert data["catalogue"] == "version 2: 1 adopted, 25 illustrative; 9 with a minimum standard"
    assert [p["id"] for p in data["projects"]["new"]] == ["PR-1"]
    assert data["projects"]["progress"][0]["to"] == "under-way"
    assert data["projects"]["funding"] == [("World Bank", 1)]
    text = all_outputs(app, data)
    for shown in ("MO-1 adopted", "adopt legal.authority — Established by law", "PR-1",
                  "CSIRT set-up", "two analysts hired", "World Bank"):  # fmt: skip
        assert text.count(shown) >= 3, shown  # the message, its HTML and the file
    assert "Quiet audit" not in text and "PR-2" not in text
    # The period before has none of it.
    later = await digest_of(app, clock, period="2026-10")
    assert later["decisions"] == [] and later["projects"]["new"] == []


def test_drawing_a_picture_leaves_matplotlib_out_of_the_bot(tmp_path):
    """A heatmap is drawn in a child process: the bot's own process never imports matplotlib,
    so its memory after a digest is what it was before."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from bot.pictures import draw\n"
        "data = {'committee': 'RCC', 'label': 'TLP:GREEN', 'period': {'label': 'Q4'},\n"
        "        'matrix': {'rows': [{'name': 'Jamaica', 'code': 'JM', 'met': 1,\n"
        "                             'applicable': 2, 'cells': ['met', 'unreported']}],\n"
        "                   'items': ['legal.strategy', 'legal.privacy'],\n"
        "                   'areas': [{'name': 'Legal', 'size': 2}]}}\n"
        "png = draw('digest-png', data, 'fr')\n"
        "assert png.startswith(b'\\x89PNG'), png[:20]\n"
        "assert 'matplotlib' not in sys.modules\n"
        "print(len(png))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) > 1000


def test_the_heatmaps_area_names_are_never_cut_short():
    """Over the grid an area's whole name, or its number with the name in the key below;
    the key names every area in full (a long name wrapped, never ended with an ellipsis)."""
    from bot.pictures import _areas, _key
    from commands.reference import load_catalogue

    catalogue = load_catalogue()
    areas = [{"name": a.name, "size": len(catalogue.scored_in(a.id))} for a in catalogue.areas]
    names = [i.name for i in catalogue.scored]

    class Axes:
        def __init__(self) -> None:
            self.said: list[str] = []

        def text(self, x, y, text, **kw):
            self.said.append(text)

        def axvline(self, *a, **kw):
            pass

    axes = Axes()
    _areas(axes, areas, len(names))
    for k, (area, said) in enumerate(zip(areas, axes.said, strict=True), start=1):
        assert " ".join(said.split()) in (f"{k}. {area['name']}", f"{k}. (below)")
    key = _key(names, areas, 13.0)
    headings = " ".join(text for text, bold in key if bold)
    for k, area in enumerate(areas, start=1):
        assert f"{k}. {area['name']}" in " ".join(headings.split())
    assert not any("…" in text for text, _ in key)
    assert [text.split(maxsplit=1)[0] for text, bold in key if not bold] == [
        str(n) for n in range(1, len(names) + 1)
    ]


async def test_the_incident_counts_agree_with_the_rows_listed(app, clock):
    await seed(app, clock)
    incidents = (await digest_of(app, clock))["incidents"]
    rows = incidents["full"] + incidents["titled"] + incidents["labelled"]
    assert incidents["listed"] == len(rows) > incidents["total"]  # some by title or label
    assert all(row["status"] for row in rows), "every listed row has its status"
    assert incidents["open"] == sum(1 for row in rows if row["status"] != "closed")
    html = render_file(app.renderer, "digest-html", await digest_of(app, clock)).decode()
    assert f"{incidents['listed']} listed ({incidents['total']} shown in full)" in html


async def test_a_country_with_fewer_ncpocs_than_agreed_is_named(app, clock):
    data = await digest_of(app, clock)
    assert data["short_of_ncpocs"] == [
        {"name": "Jamaica", "code": "JM", "has": 1, "should": 2}
    ]  # TT has its two; the countries with none are named as unstaffed
    text = all_outputs(app, data)
    assert "Fewer NCPOCs than agreed: Jamaica (JM) has 1 of 2." in text


async def test_the_digest_shows_each_countrys_bills_stage_by_stage(app, clock):
    await say(app, JM1, "!bill legal.cybercrime cabinet champion=Hon. A. Minister")
    await say(app, TT1, "!bill legal.privacy in-force")
    data = await digest_of(app, clock)
    assert data["bills"]["items"] == ["legal.cybercrime", "legal.privacy"]
    assert [(r["code"], r["cells"]) for r in data["bills"]["rows"]] == [
        ("JM", ["cabinet", ""]), ("TT", ["", "in-force"])
    ]  # fmt: skip
    html = render_file(app.renderer, "digest-html", data).decode()
    assert "Legislation, stage by stage" in html and "<td>cabinet</td><td>—</td>" in html


async def test_the_heatmap_marks_each_bill_by_its_rung_on_the_ladder(app, clock, tmp_path):
    """Table 4 row 2: legislation moves through stages; the matrix shows where each bill
    stands (a figure in the legal item's cell, the ladder in the key)."""
    from bot.pictures import _bills, _ladder

    tabled = await say(app, JM1, "!bill legal.cybercrime tabled champion=Hon. A. Minister")
    assert tabled.outcome == "accepted", text_of(tabled)
    assert (await say(app, TT1, "!bill legal.privacy budapest")).outcome == "accepted"
    data = await digest_of(app, clock, period="last-30d")
    columns = data["matrix"]["items"]
    rungs = _bills(data["bills"], columns)
    assert rungs == {
        ("JM", columns.index("legal.cybercrime")): 3,  # drafted, cabinet, tabled
        ("TT", columns.index("legal.privacy")): 6,  # Budapest Convention accession
    }
    assert _ladder(data["bills"]) == (
        "1 drafted · 2 cabinet · 3 tabled · 4 passed · 5 in force · 6 Budapest Convention"
    )
    with_bills = render_file(app.renderer, "digest-png", data)
    without = render_file(app.renderer, "digest-png", data | {"bills": {}})
    assert with_bills.startswith(b"\x89PNG") and with_bills != without
    (tmp_path / "heatmap.png").write_bytes(with_bills)
