"""Incidents as files a CSIRT or the RIFC loads into its own tools: a STIX 2.1 bundle and
MISP events, each object carrying its TLP 2.0 label.

What goes in is what the reader may read in full under the audience rule, and less: TLP:RED
never leaves the committee's rooms; AMBER+STRICT only in a country's export of its own
incidents; a child exploitation case's indicators only to its own country's people. The
labels are the official TLP 2.0 marking definitions of the STIX common objects (`stix2` has
no constants for them): their IDs below are OASIS's, and are checked by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from commands import taxonomy
from commands.audience import FILE_AUDIENCES, Audience, Viewer, heard_by
from commands.common import own_country
from commands.context import Context
from commands.digest.data import DigestPeriod, digest_period
from commands.framework import (
    ArgumentError,
    CommandError,
    FileSpec,
    Offline,
    Opt,
    Pos,
    Role,
    Router,
)
from commands.i18n import N_, _
from commands.types import choice
from commands.values import Clearance
from storage.incidents import Incident, Observable
from storage.stores import Stores

router = Router("export", topic=N_("intelligence exports for CSIRTs and the RIFC"))
EXPORTERS = frozenset({Role.NCPOC, Role.CHAIR, Role.RIFC})
AUDIENCES = {**FILE_AUDIENCES, "rifc": Audience(Clearance.STEERING)}

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKINGS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_CREATED = "2022-10-01T00:00:00.000Z"  # part of the published objects, like their IDs
FORMATS = ("stix", "misp")

# An indicator's STIX pattern object path and MISP attribute (type, category), by kind.
STIX_PATHS = {
    "ip4": "ipv4-addr:value", "ip6": "ipv6-addr:value", "domain": "domain-name:value",
    "url": "url:value", "email": "email-addr:value", "md5": "file:hashes.MD5",
    "sha1": "file:hashes.'SHA-1'", "sha256": "file:hashes.'SHA-256'",
    "sha512": "file:hashes.'SHA-512'",
}  # fmt: skip
MISP_TYPES = {
    "ip4": ("ip-dst", "Network activity"), "ip6": ("ip-dst", "Network activity"),
    "domain": ("domain", "Network activity"), "url": ("url", "Network activity"),
    "email": ("email-src", "Payload delivery"), "md5": ("md5", "Payload delivery"),
    "sha1": ("sha1", "Payload delivery"), "sha256": ("sha256", "Payload delivery"),
    "sha512": ("sha512", "Payload delivery"),
}  # fmt: skip
MISP_THREAT = {"critical": 1, "high": 1, "medium": 2, "low": 3}  # 1 high … 4 undefined


@dataclass
class Picked:
    """What one export holds: incidents, each with the indicators it may carry."""

    committee: str
    incidents: list[Incident] = field(default_factory=list)
    indicators: dict[int, list[Observable]] = field(default_factory=dict)
    left_out: int = 0  # incidents the reader sees but the export may not carry


def exportable(incident: Incident, own_country: str | None) -> bool:
    """RED never; AMBER+STRICT only to its own country."""
    if incident.tlp == "red":
        return False
    return incident.tlp != "amber+strict" or incident.reporter_country == own_country


def _kind(observable: Observable) -> str:
    if observable.kind == "ip":
        return "ip6" if ":" in observable.value else "ip4"
    return observable.kind


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def _literal(value: str) -> str:
    """A STIX pattern string literal (quotes and backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def marking(level: str) -> dict[str, Any]:
    """The official TLP 2.0 marking definition object for one label."""
    return {
        "type": "marking-definition", "spec_version": "2.1", "id": TLP_MARKINGS[level],
        "created": TLP_CREATED, "name": f"TLP:{level.upper()}",
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension",
                                       "tlp_2_0": level}},
    }  # fmt: skip


def rsit_tag(rsit: str) -> str:
    category, _sep, name = rsit.partition(":")
    return f'rsit:{category}="{name}"'


def stix_bundle(picked: Picked, now: datetime) -> str:
    """A STIX 2.1 bundle: the committee's identity, each incident, each indicator that
    `indicates` it, every object marked with its label, and the marking definitions used."""
    import stix2

    author = stix2.Identity(
        name=picked.committee, identity_class="organization", created=now, modified=now,
        object_marking_refs=[TLP_MARKINGS["clear"]],
    )  # fmt: skip
    objects: list[Any] = [author]
    used = {"clear"}
    for incident in picked.incidents:
        used.add(incident.tlp)
        mark = [TLP_MARKINGS[incident.tlp]]
        labels = [rsit_tag(incident.rsit)] if incident.rsit else []
        labels += [f"crime:{incident.crime}"] if incident.crime else []
        reference = f"INC-{incident.number}"
        event = stix2.Incident(
            name=f"INC-{incident.number}: {incident.title}",
            description=incident.modus or None,
            created=incident.created_at, modified=incident.updated_at,
            created_by_ref=author.id, object_marking_refs=mark, labels=labels or None,
            external_references=[{"source_name": "rcc-bot", "external_id": reference}],
        )  # fmt: skip
        objects.append(event)
        for observable in picked.indicators.get(incident.number, []):
            used.add(observable.tlp)
            seen = [TLP_MARKINGS[observable.tlp]]
            indicator = stix2.Indicator(
                pattern=f"[{STIX_PATHS[_kind(observable)]} = {_literal(observable.value)}]",
                pattern_type="stix", valid_from=observable.created_at,
                created=observable.created_at, modified=observable.created_at,
                created_by_ref=author.id, object_marking_refs=seen,
                indicator_types=["malicious-activity"],
            )  # fmt: skip
            link = stix2.Relationship(
                indicator, "indicates", event, created_by_ref=author.id,
                object_marking_refs=seen, created=observable.created_at,
                modified=observable.created_at,
            )  # fmt: skip
            objects += [indicator, link]
    definitions = [marking(level) for level in TLP_MARKINGS if level in used]
    bundle = stix2.Bundle(objects=[*definitions, *objects], allow_custom=True)
    return str(bundle.serialize(pretty=True))


def misp_events(picked: Picked, now: datetime) -> str:
    """MISP events (the `response` list MISP's API returns), one per incident, tagged with
    its `tlp:` label and `rsit:` type; each attribute with its own label."""
    events = []
    for incident in picked.incidents:
        tags = [{"name": f"tlp:{incident.tlp}"}]
        tags += [{"name": rsit_tag(incident.rsit)}] if incident.rsit else []
        attributes = []
        for observable in picked.indicators.get(incident.number, []):
            kind, category = MISP_TYPES[_kind(observable)]
            attributes.append({
                "type": kind, "category": category, "value": observable.value, "to_ids": True,
                "timestamp": str(int(observable.created_at.timestamp())),
                "Tag": [{"name": f"tlp:{observable.tlp}"}],
            })  # fmt: skip
        events.append({"Event": {
            "info": f"INC-{incident.number}: {incident.title}",
            "date": incident.created_at.astimezone(UTC).date().isoformat(),
            "threat_level_id": str(MISP_THREAT.get(incident.severity, 4)),
            "analysis": "2" if incident.status == "closed" else "1",
            "distribution": "0",  # this organisation only: the label says who else
            "timestamp": str(int(incident.updated_at.timestamp())),
            "Orgc": {"name": picked.committee},
            "Tag": tags,
            "Attribute": attributes,
        }})  # fmt: skip
    return json.dumps({"response": events}, indent=2, ensure_ascii=False)


WRITERS = {"stix": stix_bundle, "misp": misp_events}


async def pick(
    store: Stores, viewer: Viewer, period: DigestPeriod, *, committee: str,
    own: str | None, only_own_people: bool,
) -> Picked:  # fmt: skip
    """The incidents of a period this reader sees in full that an export may carry, and
    their indicators the reader sees in full (a child exploitation case's only when the
    reader is that country's own)."""
    picked = Picked(committee)
    seen = await store.incidents.reported_between(
        period.start, period.end, in_full=viewer.audience.in_full()
    )
    for incident in seen:
        if not exportable(incident, own) or not viewer.in_full(
            incident.tlp, incident.origin_room, heard_by(incident)
        ):
            picked.left_out += 1
            continue
        picked.incidents.append(incident)
        if incident.crime == taxonomy.CHILD_EXPLOITATION and not (
            only_own_people and incident.reporter_country == own
        ):
            continue
        picked.indicators[incident.number] = [
            o for o in await store.incidents.observables(incident)
            if exportable_label(o.tlp, incident, own)
            and viewer.in_full(o.tlp, o.origin_room, heard_by(o))
        ]  # fmt: skip
    return picked


def exportable_label(level: str, incident: Incident, own: str | None) -> bool:
    return level != "red" and (level != "amber+strict" or incident.reporter_country == own)


@router.command(
    "export",
    summary="the incidents of a period as a STIX 2.1 bundle or MISP events, in a DM",
    roles=EXPORTERS,
    params=[
        Pos("format", choice(*FORMATS), "stix|misp"),
        Opt("period", digest_period, "<YYYY|YYYY-Qn|YYYY-MM|last-30d>"),
    ],
    example="!export stix period=2026-11",
    details="Only in a direct message with the bot: the file holds what you may read in full, "
    "each object marked with its TLP 2.0 label (the official STIX marking definitions; MISP "
    "tlp: and rsit: tags). TLP:RED is never exported; AMBER+STRICT only in an NCPOC's export "
    "of their own country's incidents. Default period: the last 30 days.",
)
async def export(ctx: Context, format: str, period: DigestPeriod | None) -> None:
    if not ctx.is_direct:
        raise CommandError(_("an export is sent only in a direct message with the bot"))
    period = period or digest_period("last-30d", ctx.env)
    mine = own_country(ctx)
    own = mine.code if mine and ctx.has_role(Role.NCPOC) else None
    picked = await pick(
        ctx.store, ctx.viewer, period, committee=ctx.config.committee.name, own=own,
        only_own_people=own is not None,
    )  # fmt: skip
    text = WRITERS[format](picked, ctx.now)
    ctx.audit_detail = f"export {format} {period.key} {len(picked.incidents)} incidents"
    name = f"rcc-incidents-{period.key}.{'stix.json' if format == 'stix' else 'misp.json'}"
    spec = FileSpec(name, "export-json", "application/json", {"text": text}, name)
    await ctx.reply(
        _("📦 {count} incidents of {period} as {format}; {left} not exportable here (TLP:RED, "
          "or another country's AMBER+STRICT).").format(
            count=len(picked.incidents), period=period.label, format=format.upper(),
            left=picked.left_out,
        ),
        files=[spec], seal=ctx.viewer.seal(),
    )  # fmt: skip


@router.file("export-json")
def export_json(data: dict) -> bytes:
    return str(data["text"]).encode("utf-8")


def _export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", required=True, choices=FORMATS, help="stix or misp")
    parser.add_argument("--period", default="last-30d", help="YYYY, YYYY-Qn, YYYY-MM or last-30d")
    parser.add_argument(
        "--audience", choices=tuple(AUDIENCES), default="rifc",
        help="who the file is for: what they may read in full goes in (default: the RIFC)",
    )  # fmt: skip
    parser.add_argument("--out", required=True, metavar="FILE", help="the JSON file")


@router.verb(
    "export",
    help="write the incidents of a period as a STIX 2.1 bundle or MISP events (JSON), as "
    "much as --audience may read; never TLP:RED",
    arguments=_export_arguments,
)
async def export_file(offline: Offline, args: argparse.Namespace) -> int:
    from pathlib import Path

    try:
        period = digest_period(args.period, offline.env)
    except ArgumentError as exc:
        return offline.error(exc.message)
    async with offline.unit(write=False) as store:
        picked = await pick(
            store, Viewer(AUDIENCES[args.audience]), period,
            committee=offline.config.committee.name, own=None, only_own_people=False,
        )  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = WRITERS[args.format](picked, offline.env.now())
    await asyncio.to_thread(out.write_text, text, encoding="utf-8")
    offline.say(f"{out}: {len(picked.incidents)} incidents ({period.label}), {args.format}")
    return 0
