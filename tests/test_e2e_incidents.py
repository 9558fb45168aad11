"""Incidents, TLP, lessons and resources end to end through Synapse."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.synapse


async def test_incidents_tlp_and_lessons_through_synapse(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    bb = await world.person("bb", "ncpoc", "BB")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt, bb])

    # Create, update, close, read back.
    created = await jm.ask(rcc, "!incident new severity=high tlp=green countries=TT DDoS on ISP")
    assert "INC-1 [TLP:GREEN] high: DDoS on ISP" in created.body
    # An alert: TT's NCPOC and the chair; not JM, who reported it (an alert rings whom it names)
    assert set(created.source["content"]["m.mentions"]["user_ids"]) == {tt.user_id, chair.user_id}
    assert (
        f'href="https://matrix.to/#/{tt.user_id}"' in created.source["content"]["formatted_body"]
    )
    update = "!incident update INC-1 status=contained Upstream filtering on"
    assert "only its NCPOCs or the chair" in (await tt.ask(rcc, update)).body  # not TT's
    assert "INC-1 updated (status contained)" in (await jm.ask(rcc, update)).body
    assert "INC-1 closed" in (await jm.ask(rcc, "!incident close INC-1 Traffic normal")).body
    again = await jm.ask(rcc, "!incident close INC-1 Traffic normal")
    assert "INC-1 is already closed" in again.body and "Usage: !incident close" in again.body
    shown = await bb.ask(rcc, "!incident show INC-1")
    assert "update → contained: Upstream filtering on" in shown.body
    assert "closed → closed: Traffic normal" in shown.body

    # Bad inputs: a clear error each, and nothing new.
    for command, error in (
        ("!incident new severity=high Fire", "missing tlp="),
        ("!incident new severity=urgent tlp=green Fire", "'urgent' is not one of"),
        ("!incident show INC-42", "there is no INC-42"),
    ):
        assert error in (await bb.ask(rcc, command)).body
    assert "INC-2" not in (await bb.ask(rcc, "!incident list all")).body

    # RED in room A is withheld in the RCC room and in a DM.
    room_a = await world.room(jm, [tt])
    red = await jm.ask(room_a, "!incident new severity=critical tlp=red Cabinet mail breach")
    assert "INC-2 [TLP:RED] critical: Cabinet mail breach" in red.body
    assert "Cabinet mail breach" in (await tt.ask(room_a, "!incident list")).body
    listed = await chair.ask(rcc, "!incident list all")
    assert "INC-2 [TLP:RED] critical · TLP:RED — details withheld" in listed.body
    assert (
        "Cabinet" not in listed.body
        and "Cabinet" not in listed.source["content"]["formatted_body"]
    )
    dm = await world.room(chair, [])
    in_dm = await chair.ask(dm, "!incident show INC-2")
    assert "details withheld" in in_dm.body and "Cabinet" not in in_dm.body

    # Lessons: found by a word in their text.
    assert (
        "LL-1 shared"
        in (
            await tt.ask(
                rcc, "!lesson add tags=ddos Ask the upstream provider for scrubbing early"
            )
        ).body
    )
    found = await chair.ask(rcc, "!lesson search scrubbing")
    assert "LL-1" in found.body and "Ask the upstream provider" in found.body
    assert (
        "RS-1 recorded for Barbados"
        in (await bb.ask(rcc, "!resource add kind=expertise Two certified incident handlers")).body
    )
