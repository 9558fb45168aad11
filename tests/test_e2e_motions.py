"""The committee's first task end to end, through Synapse in encrypted rooms: a standard
proposed, voted by three countries, adopted; the catalogue, the digest and the evidence follow."""

from __future__ import annotations

import json

import pytest

from devkit.synapse import wait_for
from storage.catalogue import CatalogueVersion
from storage.status import StatusUpdate

pytestmark = pytest.mark.synapse


async def test_propose_vote_adopt_and_see_it_in_the_standards_and_the_digest(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    bb = await world.person("bb", "ncpoc", "BB")
    gd = await world.person("gd", "ncpoc", "GD")
    steer = await world.person("steer", "steering")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt, bb, gd])
    steering = await world.room(chair, [steer], alias=world.steering_alias)

    opened = await chair.ask(
        rcc, "!motion propose legal.policy tlp=green Law enacted/Approval Obtained"
    )
    assert "MO-1 is open: adopt legal.policy — Law enacted/Approval Obtained" in opened.body
    assert "decided" not in (await jm.ask(rcc, "!vote MO-1 yes")).body
    assert "decided" not in (await tt.ask(rcc, "!vote MO-1 yes")).body
    decided = await bb.ask(rcc, "!vote MO-1 yes adopted by Cabinet")  # 3 of 4: quorum, majority
    assert "✅ Barbados votes yes on MO-1.\n🗳️ MO-1 adopted: adopt legal.policy" in decided.body
    announced = await wait_for(
        lambda: [e for r, e in gd.messages if r == rcc and "catalogue is now version 2" in e.body]
    )
    assert "MO-1 adopted: adopt legal.policy" in announced[0].body
    versions = await world.rows(CatalogueVersion)
    assert [v.version for v in versions] == [1, 2]
    policy = next(i for i in json.loads(versions[1].data)["item"] if i["id"] == "legal.policy")
    assert policy["status"] == "adopted"

    standards = await gd.ask(rcc, "!standards legal")
    assert (
        "The Action Plan catalogue, version 2: 1 adopted, 25 illustrative; 9 with a minimum "
        "standard." in standards.body
    )
    assert "legal.policy — National Cyber Security Policy: Law enacted/Approval Obtained " in (
        standards.body
    )
    assert "[adopted]" in standards.body
    card = await jm.ask(rcc, "!status set legal.policy met evidence=https://gazette.gov.jm/p1")
    assert "(catalogue version 2)" in card.body

    # A file sent in reply to that confirmation is kept, with its key, as the evidence.
    document = b"%PDF-1.4 the policy as gazetted"
    sent = await jm.send_file(rcc, "policy.pdf", document, reply_to=card.event_id,
                              mimetype="application/pdf")  # fmt: skip
    kept = await jm.reply_to(sent)
    assert "Kept “policy.pdf” as evidence of JM legal.policy met" in kept.body
    (update,) = await world.rows(StatusUpdate, StatusUpdate.item_id == "legal.policy")
    assert (update.version, update.evidence) == (2, "https://gazette.gov.jm/p1")
    assert await chair.fetch(json.loads(update.attachment)) == document

    chair.accept_invites()
    told = await chair.ask(rcc, "!digest to=steering")
    assert "DG-1 is in your direct chat" in told.body
    (dm,) = {r for r, e in await wait_for(
        lambda: [(r, e) for r, e in chair.messages if "draft DG-1" in e.body])}  # fmt: skip
    await chair.ask(dm, "!digest approve DG-1")
    digest = await wait_for(
        lambda: [e for r, e in steer.messages if r == steering and "digest for" in e.body]
    )
    assert "MO-1 adopted" in digest[0].body and "catalogue now version 2" in digest[0].body
