"""A baseline of status from a spreadsheet (`rcc-bot import-status`): section 6's desk review
of the four studies, loaded with the same checks as `!status set`.

Every bad row is reported with its line; if any row is bad, nothing is stored."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from commands.framework import ArgumentError, ParseEnv
from commands.i18n import _
from commands.status import MAX_NOTE, SOURCES, evidence_url, item, state
from commands.types import country
from storage.stores import Stores

COLUMNS = ("country", "item", "state", "note", "evidence", "source")
REQUIRED = ("country", "item", "state")


@dataclass(frozen=True)
class Row:
    line: int
    country: str
    item: str
    state: str
    note: str
    evidence: str | None
    source: str


def read(text: str, env: ParseEnv) -> tuple[list[Row], list[str]]:
    """The rows, and a line per problem (empty when the file may be stored)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().casefold() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    problems: list[str] = []
    if missing:
        problems.append(f"line 1: the header lacks {', '.join(missing)}")
    if unknown:
        problems.append(f"line 1: unknown column(s) {', '.join(unknown)}; the columns are "
                        f"{', '.join(COLUMNS)}")  # fmt: skip
    if problems:
        return [], problems
    rows: list[Row] = []
    seen: dict[tuple[str, str], int] = {}
    for raw in reader:
        line = reader.line_num
        cells = {k.strip().casefold(): (v or "").strip() for k, v in raw.items() if k}
        try:
            row = _row(line, cells, env)
        except ArgumentError as exc:
            problems.append(f"line {line}: {exc.message}")
            continue
        key = (row.country, row.item)
        if key in seen:
            problems.append(f"line {line}: {row.country} {row.item} is on line {seen[key]} too")
            continue
        seen[key] = line
        rows.append(row)
    if not rows and not problems:
        problems.append("the file has no rows")
    return rows, problems


def _row(line: int, cells: dict[str, str], env: ParseEnv) -> Row:
    for column in REQUIRED:
        if not cells.get(column):
            raise ArgumentError(_("{column} is empty").format(column=column))
    found = item(cells["item"], env)
    if found.status == "retired":
        raise ArgumentError(_("{id} was retired by the committee").format(id=found.id))
    if found.scope == "regional":
        raise ArgumentError(
            _("{id} is a regional deliverable, not scored per country").format(id=found.id)
        )
    note = cells.get("note", "")
    if len(note) > MAX_NOTE:
        raise ArgumentError(
            _("the note is too long ({size} characters; at most {MAX_NOTE})").format(
                size=len(note), MAX_NOTE=MAX_NOTE
            )
        )
    source = cells.get("source") or "desk-review"
    if source not in SOURCES:
        raise ArgumentError(
            _("source {source!r} is not one of {choices}").format(
                source=source, choices=", ".join(SOURCES)
            )
        )
    link = cells.get("evidence")
    return Row(
        line,
        country(cells["country"], env).code,
        found.id,
        state(cells["state"], env),
        note,
        evidence_url(link, env) if link else None,
        source,
    )


async def store_rows(store: Stores, rows: list[Row], *, author: str, now: datetime,
                     version: int) -> None:  # fmt: skip
    for row in rows:
        await store.status.record(
            country=row.country, item_id=row.item, state=row.state, note=row.note,
            author=author, event_id=None, now=now, version=version, evidence=row.evidence,
            source=row.source,
        )  # fmt: skip
    await store.audit.record(
        actor=author, action="import-status", outcome="accepted", now=now,
        detail=f"{len(rows)} status updates",
    )  # fmt: skip
