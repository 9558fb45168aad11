"""Status updates and gap analysis end to end, in an encrypted room through Synapse."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.status import StatusUpdate

pytestmark = pytest.mark.synapse


async def test_status_commands_through_synapse(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    steer = await world.person("steer", "steering")
    runtime = await world.start_bot()
    room = await world.rcc_room(chair, [jm, tt, steer])

    standards = await jm.ask(room, "!standards coop")
    assert "coop.cert — Computer Emergency/Incident Response Teams (CERTs)" in standards.body
    assert (await jm.ask(room, "!status set legal.strategy in-progress Draft")).body.startswith(
        "✅ Jamaica (JM): National Cyber Security Strategy (legal.strategy) is now in-progress"
    )
    assert (
        "is now met (was in-progress)"
        in (await jm.ask(room, "!status set legal.strategy met Approved by Cabinet")).body
    )
    refused = await jm.ask(room, "!status set coop.cert met country=TT")
    assert "only the chair may do this for Trinidad and Tobago" in refused.body
    cert = "Computer Emergency/Incident Response Teams (CERTs) at a national level (coop.cert)"
    assert (
        f"Trinidad and Tobago (TT): {cert} is now met"
        in (await chair.ask(room, "!status set coop.cert met country=TT")).body
    )
    assert "Noted for Jamaica" in (await jm.ask(room, "!status note CSIRT staffed")).body
    assert "report for 2026-Q" in (await jm.ask(room, "!status submit")).body
    bad = await tt.ask(room, "!status set coop.crt met")
    assert "did you mean coop.cert" in bad.body and "Usage: !status set" in bad.body

    card = await jm.ask(room, "!status")
    assert "● legal.strategy — met" in card.body and "“Approved by Cabinet”" in card.body
    assert "<table>" in card.source["content"]["formatted_body"]
    gaps = await steer.ask(room, "!gaps")
    assert "JM ········  ·····     ···       ·●·····   ···       1/26" in gaps.body
    assert "TT ········  ·····     ···       ·······   ●··       1/26" in gaps.body
    assert "coop.cert (" not in (await tt.ask(room, "!gaps TT")).body

    async with runtime.app.db.unit(write=False) as store:
        rows = list(await store._session.scalars(select(StatusUpdate).order_by(StatusUpdate.id)))
    assert [(r.country, r.item_id, r.state) for r in rows] == [
        ("JM", "legal.strategy", "in-progress"),
        ("JM", "legal.strategy", "met"),
        ("TT", "coop.cert", "met"),
    ]
