"""The roll-call of a broadcast, by country first (the dark ones on top), then by person;
and a drill's report against the drill before. Plain data for the templates, the chair's
summaries, the drill chart and the digest; an email-only contact's address never in it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from commands import i18n
from commands.audience import Viewer
from commands.directory import shown
from commands.i18n import N_, Deferred, _
from commands.reference import Reference
from commands.tlp import label
from commands.values import ShortId
from storage.broadcasts import Broadcast, BroadcastRecipient
from storage.stores import Stores


def audience_words(audience: str) -> Deferred:
    """`all` -> "every national contact"; `cirt,le-24x7` -> "national CIRTs, ...", in the
    language of the message it is shown in."""
    names = audience.split(",")

    def words() -> str:
        if "all" in names:
            return _("every national contact")
        return ", ".join(_(AUDIENCE_TITLES[n]) if n in AUDIENCE_TITLES else n for n in names)

    return Deferred(words)


AUDIENCE_TITLES = {
    "ncpocs": N_("every NCPOC"),
    "contacts": N_("every national contact beside the NCPOCs"),
    "primary": N_("primary NCPOCs"),
    "alternate": N_("alternate NCPOCs"),
    "cirt": N_("national CIRTs"),
    "le-24x7": N_("24/7 law-enforcement contacts"),
    "oas-cicte": N_("OAS/CICTE points of contact"),
    "other": N_("other national contacts"),
}


def roll_call(
    reference: Reference,
    target: Broadcast,
    recipients: list[BroadcastRecipient],
    viewer: Viewer | None = None,
) -> dict:
    """By country first (dark countries on top, then by time to answer), then by person. A
    relay note is shown only to a `viewer` its label lets read it (none without one)."""
    countries: dict[str, dict] = {}
    for r in recipients:
        entry = countries.setdefault(r.country or "", _country(reference, r.country))
        _count_in(entry, r, target, viewer)
    for entry in countries.values():
        entry["acked"] = entry["acked_at"] is not None
        entry["took"] = elapsed(entry["acked_at"] - target.created_at) if entry["acked"] else None
        entry["seconds"] = (
            (entry["acked_at"] - target.created_at).total_seconds() if entry["acked"] else None
        )
        del entry["acked_at"]  # the data goes into files' JSON: plain values only
    ordered = sorted(
        countries.values(),
        key=lambda c: (c["acked"], c["seconds"] or 0.0, c["name"]),
    )
    done = sum(1 for r in recipients if r.acked_at is not None)
    return {
        "id": ShortId.BC.of(target.number),
        "exercise": target.exercise,
        "severity": target.severity,
        "tlp": label(target.tlp),
        "audience": audience_words(target.audience),
        "done": done,
        "total": len(recipients),
        "answered": sum(1 for c in ordered if c["acked"]),
        "relayed": sum(1 for c in ordered if c["relayed"]),
        "country_total": len(ordered),
        "countries": ordered,
        "dark": [c for c in ordered if not c["acked"]],
        "silent": [shown(r.user_id) for r in recipients if r.acked_at is None],
    }


def _country(reference: Reference, code: str | None) -> dict[str, Any]:
    return {
        "code": code, "name": reference.countries.name_of(code), "people": [],
        "acked_at": None, "by": None, "via": None, "relayed": False, "relay_note": None,
    }  # fmt: skip


def _count_in(
    entry: dict[str, Any], r: BroadcastRecipient, target: Broadcast, viewer: Viewer | None
) -> None:
    """One recipient into their country's line: their answer, the country's first, and its
    relay (the note only where its label lets the viewer read it)."""
    entry["people"].append(
        {
            "user": shown(r.user_id),
            "tier": r.tier,
            "acked": r.acked_at is not None,
            "via": r.ack_via,
            "recorded_by": r.ack_recorded_by,
            "took": elapsed(r.acked_at - target.created_at) if r.acked_at else None,
            "emailed": r.email_outbox_id is not None,
        }
    )
    if r.acked_at is not None and (entry["acked_at"] is None or r.acked_at < entry["acked_at"]):
        entry["acked_at"], entry["by"], entry["via"] = r.acked_at, shown(r.user_id), r.ack_via
    if r.relayed_at is not None:
        note = r.relay_note
        if note and (viewer is None or not viewer.in_full(r.relay_tlp)):
            note = None  # what a country wrote is for whom its label allows
        entry["relayed"], entry["relay_note"] = True, note


async def drill_report(
    store: Stores, reference: Reference, target: Broadcast, now: dict[str, Any]
) -> list[dict]:
    """Per country: reached, time to the first acknowledgement, relayed, and the change
    since the previous drill."""
    before = await store.broadcasts.previous_drill(target.number)
    then = {}
    if before is not None:
        then = {
            c["code"]: c
            for c in roll_call(reference, before, await store.broadcasts.recipients(before.key))[
                "countries"
            ]
        }
    rows = []
    for c in now["countries"]:
        old = then.get(c["code"])
        change = None
        if old is not None and old["seconds"] is not None and c["seconds"] is not None:
            change = c["seconds"] - old["seconds"]
        rows.append(
            {
                "name": c["name"],
                "code": c["code"],
                "took": c["took"],
                "seconds": c["seconds"],
                "relayed": c["relayed"],
                "previous": old["took"] if old else None,
                "previous_seconds": old["seconds"] if old else None,
                "was_dark": old is not None and not old["acked"],
                "change": _signed(change) if change is not None else None,
            }
        )
    return rows


def _signed(seconds: float) -> str:
    text = elapsed(timedelta(seconds=abs(seconds)))
    return ("−" if seconds < 0 else "+") + text


def elapsed(delta: timedelta) -> str:
    """How long an answer took, as a stopwatch shows it: "42s", "1m 35s", "1h 05m"."""
    return i18n.span(delta, width="narrow", smallest="second", clock=True)
