"""The listings and searches people type most never read a history table row by row
(issue 39): every query they run is checked with the database's own EXPLAIN, on SQLite and
on PostgreSQL (there with sequential scans priced out, so that any usable index is shown)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from tests.helpers import JM1, say

LISTINGS = (
    "!status", "!status TT", "!gaps", "!incident list", "!incident list all severity=high",
    "!lesson search takedown contacts", "!lesson list tag=phishing", "!resource list kind=lab",
)  # fmt: skip
# Tables that grow with the years: never read whole by a listing.
HISTORY = ("status_update", "status_note", "report", "incident", "incident_update", "lesson",
           "resource", "audit_log", "outbox", "broadcast", "broadcast_recipient")  # fmt: skip


async def plans(app, text: str) -> list[tuple[str, str]]:
    """(statement, its plan) for every query `text` runs, as the NCPOC of Jamaica."""
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    engine = app.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", grab)
    try:
        outcome = await say(app, JM1, text)
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    assert outcome.outcome == "accepted", text
    postgres = app.db.engine.dialect.name == "postgresql"
    found = []
    async with app.db.engine.connect() as conn:
        if postgres:
            await conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in seen:
            explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            rows = (await conn.exec_driver_sql(explain + statement, parameters)).all()
            found.append((statement, "\n".join(str(r[-1]) for r in rows)))
    return found


def full_scans(plan: str) -> list[str]:
    sqlite = re.findall(r"^SCAN (\w+)$", plan, re.MULTILINE)  # without USING (INDEX ...)
    postgres = re.findall(r"Seq Scan on (\w+)", plan)
    return [table for table in sqlite + postgres if table in HISTORY]


@pytest.mark.parametrize("text", LISTINGS)
async def test_a_listing_reads_no_history_table_whole(app, text):
    for i in range(3):
        await say(app, JM1, f"!incident new severity=high tlp=red Phishing wave {i}")
        await say(app, JM1, f"!lesson add tags=phishing Takedown contacts sped up response {i}")
        await say(app, JM1, "!status set legal.strategy met")
        await say(app, JM1, "!resource add kind=lab Forensics lab")
    checked = await plans(app, text)
    assert checked, "no query seen"
    for statement, plan in checked:
        assert not full_scans(plan), f"{text}: {plan}\n{statement}"


def test_the_labels_storage_counts_are_the_commands_layers():
    from commands.tlp import LEVELS
    from storage import visibility

    assert visibility.LEVELS == LEVELS
