"""Reports for each audience of the Action Plan (section 8), and spreadsheets of the data.

A profile is a template and an audience: `steering` (the digest), `consle` (IMPACS to the
Council of Ministers: regional compliance, trends, decisions; incidents only as counts above
GREEN), `heads` (the Heads of Intelligence and FIUs: the incident picture by sector and country
under the TLP rule), `csm` (the Caribbean Stakeholders Meeting: a year of progress, decisions,
projects, proposed amendments) and `country:XX` (a country's gap analysis). Each report follows
the one need-to-know rule for its audience — in a room, for the stricter of the two — and
carries the label of what it shows. The templates (`reports/<profile>.html.j2`) can be
replaced from `[reports] templates_dir`.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from commands.audience import Audience, Viewer, heard_by, hearers, strictest
from commands.context import Context
from commands.deadlines import when
from commands.digest.compose import DigestConfig, approved_only
from commands.digest.data import DigestPeriod, build, digest_period
from commands.framework import (
    DIGEST_READERS,
    ArgumentError,
    CommandError,
    FileSpec,
    Offline,
    Opt,
    ParseEnv,
    Pos,
    Role,
    Router,
    Text,
)
from commands.gaps import gap_report
from commands.i18n import N_, Deferred, Moment, _
from commands.motions.votes import decision_row, motion_words
from commands.projects.funding import annex_rows, unfunded_needs
from commands.projects.targets import dated
from commands.reference import Country
from commands.sections import Sections
from commands.tlp import label, most_restrictive, said, seen_rows, tlp
from commands.types import typed_id
from commands.values import Clearance, ShortId
from storage.feedback import ReportStore
from storage.inputs import InputStore
from storage.lists import unpack
from storage.stores import Stores

router = Router(
    "reports",
    templates=Path(__file__).parent / "templates",
    topic=N_("reports for the Steering Committee, CONSLE, the Heads and the CSM"),
)
PROFILES = ("steering", "consle", "heads", "csm", "funding")
# The most each profile's readers may see: the Steering Committee and the Heads as the
# Steering room; CONSLE and the stakeholders of the CSM as outsiders (CLEAR and GREEN only).
CLEARANCE = {
    "steering": Clearance.STEERING,
    "heads": Clearance.STEERING,
    "consle": Clearance.OUTSIDER,
    "csm": Clearance.OUTSIDER,
    "country": Clearance.STEERING,
    "funding": Clearance.OUTSIDER,  # the annex for proposals goes to funders
}
TEMPLATES = {"steering": "digest/report", "consle": "reports/consle", "heads": "reports/heads",
             "csm": "reports/csm", "country": "reports/gaps",
             "funding": "reports/funding"}  # fmt: skip
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def profile(text: str, env: ParseEnv) -> tuple[str, Country | None]:
    """`steering`, `consle`, `heads`, `csm` or `country:XX`."""
    key = text.strip().casefold()
    if key in PROFILES:
        return key, None
    kind, _sep, code = key.partition(":")
    found = env.reference.countries.resolve(code) if kind == "country" else None
    if found is None:
        raise ArgumentError(
            _("{text!r} is not a report: {choices} or country:XX").format(
                text=text, choices=", ".join(PROFILES)
            )
        )
    return "country", found


def audience_for(kind: str, room: Audience | None) -> Audience:
    """The profile's readers, or the room's where it is read by fewer."""
    nominal = Audience(CLEARANCE[kind])
    if room is None or room.clearance >= nominal.clearance:
        return nominal
    return room


async def report_data(
    store: Stores,
    env: ParseEnv,
    config: Sections,
    kind: str,
    country: Country | None,
    period: DigestPeriod,
    viewer: Viewer,
    now: datetime,
) -> dict[str, Any]:
    """The data of one report, for its audience, with the tables of its spreadsheet."""
    if kind == "funding":
        return await _funding(store, env, config, period, viewer, now)
    if kind == "country":
        assert country is not None
        data = await gap_report(
            store, env.reference, viewer, country, now=now, zone=env.zone,
            committee=config.committee.name,
        )  # fmt: skip
        data["period"] = {"key": period.key, "label": period.label}
    else:
        data = await build(
            store, period, env=env, config=config, committee=config.committee.name,
            now=now, viewer=viewer,
        )  # fmt: skip
        if kind == "csm":
            data.update(await _amendments(store, env, period, viewer))
            data["inputs"], data["inputs_hidden"] = await csm_inputs(store, period, viewer)
        # Every target date its readers may see, for the timeline picture beside it.
        data["timeline"] = await dated(store, env, viewer, now)
        data["today"] = now.astimezone(env.zone).date().isoformat()
    if kind == "heads":  # by country, over the incidents shown in full only
        named = Counter(c for i in data["incidents"]["full"] for c in i["countries"])
        data["by_country"] = [
            (f"{env.reference.countries.name_of(c)} ({c})", n) for c, n in sorted(named.items())
        ]
    data["profile"] = kind if kind != "country" else f"country:{country.code if country else ''}"
    data["template"] = TEMPLATES[kind]
    data["tables"] = await tables(store, env, data, period, viewer)
    level = most_restrictive([data.get("tlp") or "clear", *viewer.shown])
    data.update(tlp=level, label=label(level))
    return data


async def _funding(
    store: Stores, env: ParseEnv, config: Sections, period: DigestPeriod, viewer: Viewer,
    now: datetime,
) -> dict[str, Any]:  # fmt: skip
    """The unfunded-needs annex (section 9): item × country × the plan's partners × the
    funders whose interests match; one sheet, the same lines."""
    rows = await unfunded_needs(store, env.reference, viewer)
    level = most_restrictive(["clear", *viewer.shown])
    return {
        "committee": config.committee.name, "profile": "funding", "template": "reports/funding",
        "rows": rows, "period": {"key": period.key, "label": period.label},
        "generated": now.astimezone(env.zone).strftime("%-d %b %Y %H:%M %Z"),
        "tables": {"Unfunded needs": annex_rows(rows, env.reference)},
        "tlp": level, "label": label(level),
    }  # fmt: skip


async def _amendments(
    store: Stores, env: ParseEnv, period: DigestPeriod, viewer: Viewer
) -> dict[str, Any]:
    """For the Caribbean Stakeholders Meeting: the amendments proposed and every decision
    of the period, each where its label lets the report's readers see it."""
    amendments, _hidden = seen_rows(
        viewer,
        await store.motions.pending(),
        lambda m: {"id": ShortId.MO.of(m.number), "words": motion_words(m), "state": m.state},
    )
    decided = [
        m
        for m in await store.motions.log(limit=500)
        if m.decided_at and period.start <= m.decided_at < period.end
    ]
    decisions, _hidden = seen_rows(
        viewer, decided, lambda m: decision_row(m) | {"decided": when(m.decided_at, env.zone)}
    )
    return {"amendments": amendments, "all_decisions": decisions}


async def tables(
    store: Stores, env: ParseEnv, data: dict, period: DigestPeriod, viewer: Viewer
) -> dict:
    """The sheets of the spreadsheet: status matrix (or a country's gaps), compliance
    history, and the projects, actions and decisions its readers may see — never an
    incident."""

    def seen(record: Any) -> bool:
        return viewer.in_full(record.tlp, record.origin_room, heard_by(record))

    sheets: dict[str, list[list[Any]]] = {}
    if "matrix" in data:
        matrix = data["matrix"]
        head = ["Met", "Applicable", "With a standard met", "With a standard"]
        sheets["Status matrix"] = [["Country", "Code", *matrix["items"], *head]] + [
            [r["name"], r["code"], *r["cells"], r["met"], r["applicable"], r["standard_met"],
             r["standards"]]
            for r in matrix["rows"]
        ]  # fmt: skip
    else:
        sheets["Gaps"] = [["Item", "Name", "State", "Minimum standard", "Status"]] + [
            [g["id"], g["name"], g["state"], g["standard"], g["status"]]
            for a in data["areas"] for g in a["gaps"]
        ]  # fmt: skip
    history = await store.status.changed_between(period.start, period.end)
    sheets["Compliance history"] = [["When", "Country", "Item", "State", "By", "Source"]] + [
        [when(u.at, env.zone), u.country, u.item_id, u.state, u.author, u.source or ""]
        for u in history
    ]
    sheets["Projects"] = [["Project", "Title", "Lead", "Partners", "Countries", "Items",
                           "Status", "Target", "Funding"]] + [
        [ShortId.PR.of(p.number), p.title, p.lead, ", ".join(unpack(p.partners)),
         ", ".join(unpack(p.countries)), ", ".join(unpack(p.items)), p.status, p.target or "",
         p.funding]
        for p in await store.projects.find()
        if seen(p)
    ]  # fmt: skip
    sheets["Actions"] = [["Action", "Owner", "What", "Due", "State", "Meeting"]] + [
        [ShortId.AC.of(a.number), a.owner, a.text, when(a.due_at, env.zone), a.state,
         ShortId.MT.of(a.meeting) if a.meeting else ""]
        for a in await store.meetings.actions(open_only=False)
        if seen(a)
    ]  # fmt: skip
    sheets["Decisions"] = [["Motion", "What", "Result", "Tally", "Catalogue version"]] + [
        [ShortId.MO.of(m.number), motion_words(m), m.state, m.result, m.version or ""]
        for m in await store.motions.log(limit=1000)
        if seen(m)
    ]
    return sheets


def to_csv(data: dict) -> bytes:
    """The report's main table (the status matrix, or a country's gaps) as CSV."""
    sheet = next(iter(data["tables"].values()))
    out = io.StringIO()
    csv.writer(out).writerows([[_cell(v) for v in row] for row in sheet])
    return out.getvalue().encode("utf-8-sig")  # a spreadsheet opens the accents right


@router.file("report-xlsx")
def to_xlsx(data: dict) -> bytes:
    """Every table as a sheet, with the label and the period above each."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, rows in data["tables"].items():
        sheet = book.create_sheet(title[:31])
        period = data.get("period", {}).get("label", "")
        sheet.append([_cell(f"{data['committee']} — {title} — {period}"), data["label"]])
        sheet.append([])
        for row in rows:
            sheet.append([_cell(v) for v in row])
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Characters no spreadsheet cell may hold (XML 1.0 forbids them; one of them used to break
# every later XLSX), and the first characters that make a spreadsheet read a cell as a formula.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A value for a spreadsheet cell, CSV or XLSX: words made in the reader's language (a
    date, an audience) written out, control characters dropped, and nothing that starts like
    a formula read as one (CSV/XLSX injection)."""
    if isinstance(value, Moment | Deferred):
        value = str(value)
    if not isinstance(value, str):
        return value
    value = CONTROL.sub("", value)
    return "'" + value if value.startswith(FORMULA) else value


@router.command(
    "report",
    summary="a report for one audience (steering, consle, heads, csm, country:XX), with its "
    "spreadsheet",
    roles=DIGEST_READERS | {Role.RIFC},
    params=[
        Pos("profile", profile, "steering|consle|heads|csm|funding|country:XX"),
        Opt("period", digest_period, "<YYYY|YYYY-Qn|YYYY-MM|last-30d>"),
    ],
    example="!report consle period=2026-Q4",
    details="The report shows what its audience may see, and in this room no more than the "
    "room may; it carries the label of what it shows. Files: HTML and XLSX.",
)
async def report(
    ctx: Context, profile: tuple[str, Country | None], period: DigestPeriod | None
) -> None:
    kind, country = profile
    if (
        kind == "steering"
        and ctx.config[DigestConfig].approval == "chair"
        and not ctx.has_role(Role.CHAIR)
    ):
        await ctx.reply(await approved_only(ctx, period))  # the chair's approval holds here too
        return
    period = period or digest_period("last-30d", ctx.env)
    viewer = Viewer(audience_for(kind, ctx.viewer.audience))
    data = await report_data(
        ctx.store, ctx.env, ctx.config, kind, country, period, viewer, ctx.now
    )
    record = await ctx.store.of(ReportStore).record(
        profile=data["profile"], period_key=period.key, period_label=period.label,
        tlp=data["tlp"], room_id=ctx.room_id, author=ctx.sender, now=ctx.now,
    )  # fmt: skip
    rp = ShortId.RP.of(record.number)
    ctx.audit_detail = f"report {rp} {data['profile']} {period.key} {data['label']}"
    files = files_of(data, period)
    kinds = ", ".join(f.filename.rsplit(".", 1)[1].upper() for f in files)
    await ctx.reply(
        _("📄 {rp}: the {profile} report for {label} [{label2}]: {kinds}. Its readers' "
          "feedback: !feedback {rp} <text>").format(
            rp=rp, profile=data["profile"], label=period.label, label2=data["label"],
            kinds=kinds,
        ),
        files=files,
        seal=strictest(ctx.viewer.seal(), viewer.seal()),
    )  # fmt: skip


def files_of(data: dict, period: DigestPeriod) -> list[FileSpec]:
    """A report's files: HTML, PDF where WeasyPrint is installed, XLSX, and its timeline."""
    name = data["profile"].replace(":", "-")
    caption = f"{data['profile']} report, {period.label} ({data['label']})"
    files = [FileSpec(f"rcc-{name}-{period.key}.html", "report-html", "text/html", data, caption)]
    if pdf_available():
        files.append(FileSpec(f"rcc-{name}-{period.key}.pdf", "report-pdf", "application/pdf",
                              data, caption))  # fmt: skip
    files.append(FileSpec(f"rcc-{name}-{period.key}.xlsx", "report-xlsx", XLSX, data,
                          f"{data['profile']} data, {period.label}"))  # fmt: skip
    if data.get("timeline"):
        files.append(FileSpec(f"rcc-{name}-{period.key}-timeline.png", "timeline-png",
                              "image/png", data, f"{data['profile']} target dates"))  # fmt: skip
    return files


@router.command(
    "feedback",
    summary="feedback on a report (RP-n): kept, and shown in the next digest and agenda",
    roles=frozenset({Role.CHAIR, Role.STEERING, Role.RIFC}),
    params=[Pos("id", typed_id(ShortId.RP), "<RP-n>"), Opt("tlp", tlp), Text("text", "text")],
    example="!feedback RP-3 The Heads ask for incident counts by type in the next report",
    details="Section 8.4 of the plan: the feedback of a report's readers feeds the "
    "monitoring. Labelled AMBER unless tlp= says otherwise; shown, under its label, in the "
    "next digest and in the agendas of meetings.",
)
async def feedback(ctx: Context, id: int, tlp: str | None, text: str) -> str:
    reports = ctx.store.of(ReportStore)
    found = await reports.get(id)
    if found is None:
        raise CommandError(_("there is no {id}").format(id=ShortId.RP.of(id)))
    if found.state != "delivered":
        raise CommandError(
            _("{id} has not been delivered (it is {state}): feedback is on what was read").format(
                id=ShortId.RP.of(id), state=found.state
            )
        )
    text = " ".join(text.split())
    if not text or len(text) > 4000:
        raise CommandError(_("say the feedback (up to 4000 characters)"))
    level = said(ctx, tlp)
    await reports.add_feedback(
        found, text=text, tlp=level, origin_room=ctx.room_id,
        said_to=hearers(ctx.viewer.audience), author=ctx.sender, event_id=ctx.event_id,
        now=ctx.now,
    )  # fmt: skip
    ctx.audit_detail = f"feedback on {ShortId.RP.of(id)} {level}"
    return _(
        "✅ Feedback on {id} ({profile}, {period}) kept; the next digest and meeting agendas "
        "show it. [{label}]"
    ).format(
        id=ShortId.RP.of(id),
        profile=found.profile,
        period=found.period_label,
        label=label(level),
    )


@router.command(
    "input csm",
    summary="your input to the Caribbean Stakeholders Meeting: listed in its report, and may "
    "become a motion",
    roles=frozenset({Role.NCPOC, Role.CHAIR, Role.STEERING, Role.RIFC, Role.CONTACT}),
    params=[Opt("tlp", tlp), Text("text", "text")],
    example="!input csm The legal items need a model data protection bill for small states",
    details="Section 8.3 of the plan: the yearly meeting gathers stakeholders' input in a "
    "structured way and updates the plan. National contacts may give it too. GREEN unless "
    "tlp= says otherwise; the CSM report lists it; !motion propose from=IN-n turns it into a "
    "motion.",
)
async def input_csm(ctx: Context, tlp: str | None, text: str) -> str:
    text = " ".join(text.split())
    if not text or len(text) > 4000:
        raise CommandError(_("say the input (up to 4000 characters)"))
    level = tlp or "green"
    row = await ctx.store.of(InputStore).add(
        meeting="csm", text=text, tlp=level, origin_room=ctx.room_id,
        said_to=hearers(ctx.viewer.audience), author=ctx.sender, event_id=ctx.event_id,
        now=ctx.now,
    )  # fmt: skip
    name = ShortId.IN.of(row.number)
    ctx.audit_detail = f"{name} csm {level}"
    return _(
        "✅ {id} kept for the Caribbean Stakeholders Meeting; its report lists it. [{label}]"
    ).format(id=name, label=label(level))


async def csm_inputs(
    store: Stores, period: DigestPeriod, viewer: Viewer
) -> tuple[list[dict[str, Any]], int]:
    """The period's input to the CSM this report's readers may see, and how many others."""
    found = await store.of(InputStore).between("csm", period.start, period.end)
    return seen_rows(
        viewer, found,
        lambda i: {"id": ShortId.IN.of(i.number), "text": i.text, "by": i.author,
                   "motion": ShortId.MO.of(i.motion) if i.motion else ""},
    )  # fmt: skip


def pdf_available() -> bool:
    """Whether reports can be written as PDF here (the `pdf` extra: WeasyPrint, on Pango)."""
    from importlib.util import find_spec

    return find_spec("weasyprint") is not None


FORMATS = {".html": "report-html", ".pdf": "report-pdf", ".csv": None, ".xlsx": "report-xlsx"}


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        required=True,
        metavar="PROFILE",
        help="steering|consle|heads|csm|funding|country:XX",
    )
    parser.add_argument("--period", default="last-30d", help="YYYY, YYYY-Qn, YYYY-MM or last-30d")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="the file")


@router.verb(
    "report",
    help="write a report for one audience (steering, consle, heads, csm, or country:XX, a "
    "country's gap analysis); the format follows --out: .html, .pdf, .csv or .xlsx",
    arguments=_report_arguments,
    document=True,
)
async def report_file(offline: Offline, args: argparse.Namespace) -> int:
    out: Path = args.out
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        return offline.error(f"--out: {out.name} must end in {', '.join(FORMATS)}")
    try:
        kind, country = profile(args.profile, offline.env)
        period = digest_period(args.period, offline.env)
    except ArgumentError as exc:
        return offline.error(exc.message)
    async with offline.unit(write=False) as store:
        data = await report_data(
            store, offline.env, offline.config, kind, country, period,
            Viewer(audience_for(kind, None)), offline.env.now(),
        )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)  # private, by the umask
    name = FORMATS[suffix]
    content = to_csv(data) if name is None else await asyncio.to_thread(offline.render, name, data)
    await asyncio.to_thread(out.write_bytes, content)
    offline.say(f"wrote {out}: the {data['profile']} report for {period.label} ({data['label']})")
    return 0
