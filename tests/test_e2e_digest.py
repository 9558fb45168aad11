"""The digest reaches the Steering Committee room with encrypted attachments, through Synapse,
once the chair has approved the draft."""

from __future__ import annotations

import pytest

from devkit.synapse import wait_for

pytestmark = pytest.mark.synapse


async def test_steering_member_receives_and_decrypts_the_digest(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    steer = await world.person("steer", "steering")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    steering = await world.room(chair, [steer], alias=world.steering_alias)
    await jm.ask(rcc, "!status set legal.strategy met Approved")
    await jm.ask(rcc, "!incident new severity=high tlp=green sectors=finance Card skimming ring")
    await jm.ask(rcc, "!incident new severity=critical tlp=red Minister phone implant")

    chair.accept_invites()  # the draft comes to the chair by DM
    told = await chair.ask(rcc, "!digest to=steering")
    assert "DG-1 is in your direct chat with the bot" in told.body
    draft = await wait_for(lambda: [(r, e) for r, e in chair.messages if "draft DG-1" in e.body])
    (dm, shown) = draft[0]
    assert dm != rcc and "Card skimming ring" in shown.body and "phone implant" not in shown.body
    await wait_for(lambda: len([r for r, _ in chair.files if r == dm]) >= 2)
    await world.quiet(steer)  # the draft is delivered everywhere: the Steering room has nothing
    assert not [e for r, e in steer.messages if r == steering and "digest for" in e.body]
    approved = await chair.ask(dm, "!digest approve DG-1")
    assert "DG-1 is on its way to the Steering Committee room" in approved.body
    message = await wait_for(
        lambda: [e for r, e in steer.messages if r == steering and "digest for" in e.body]
    )
    assert "Card skimming ring" in message[0].body and "phone implant" not in message[0].body
    files = await wait_for(
        lambda: len([r for r, _ in steer.files if r == steering]) >= 2 and steer.files, 120
    )
    by_type = {type(e).__name__: e for _, e in files}
    assert set(by_type) == {"RoomEncryptedFile", "RoomEncryptedImage"}, "encrypted attachments"
    report = (await steer.download(by_type["RoomEncryptedFile"])).decode()
    assert report.startswith("<!DOCTYPE html>")
    assert "Card skimming ring" in report and "legal.strategy" in report
    assert "phone implant" not in report and "details withheld" in report  # RED: ID, severity
    picture = await steer.download(by_type["RoomEncryptedImage"])
    assert picture.startswith(b"\x89PNG")
    assert by_type["RoomEncryptedFile"].source["content"]["info"]["mimetype"] == "text/html"


async def test_a_steering_members_digest_after_a_held_draft_posts_no_digest(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    steer = await world.person("steer", "steering")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    steering = await world.room(chair, [steer], alias=world.steering_alias)
    await jm.ask(rcc, "!incident new severity=high tlp=green sectors=finance Card skimming ring")
    chair.accept_invites()
    await chair.ask(rcc, "!digest to=steering")
    (dm, _shown) = (
        await wait_for(lambda: [(r, e) for r, e in chair.messages if "draft DG-1" in e.body])
    )[0]
    await chair.say(dm, "!digest omit DG-1 INC-1")  # the revised draft comes back
    await wait_for(lambda: [e for r, e in chair.messages if r == dm and "version 2" in e.body])
    held = await chair.ask(dm, "!digest hold DG-1 the minister asked us to wait")
    assert "DG-1 is held" in held.body
    asked = await steer.ask(steering, "!digest")
    assert "No digest has been approved yet" in asked.body and "chair has been asked" in asked.body
    report = await steer.ask(steering, "!report steering")
    assert "No digest has been approved yet" in report.body
    await world.quiet(steer, chair)
    in_room = [e.body for r, e in steer.messages if r == steering]
    assert not [b for b in in_room if "Card skimming" in b or "digest for" in b], in_room
    assert not [r for r, _ in steer.files if r == steering], "no report, no heatmap"


async def test_an_approval_after_a_label_was_raised_publishes_nothing_and_resends(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    steer = await world.person("steer", "steering")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    steering = await world.room(chair, [steer], alias=world.steering_alias)
    await jm.ask(rcc, "!incident new severity=high tlp=amber sectors=energy Substation probe")
    chair.accept_invites()
    await chair.ask(rcc, "!digest to=steering")
    drafts = await wait_for(lambda: [(r, e) for r, e in chair.messages if "draft DG-1" in e.body])
    (dm, first) = drafts[0]
    assert "Substation probe" in first.body  # AMBER: its title, for the Steering Committee
    raised = await jm.ask(rcc, "!incident edit INC-1 tlp=red")
    assert "INC-1 corrected" in raised.body
    refused = await chair.ask(dm, "!digest approve DG-1")
    assert "changed since your copy was built" in refused.body and "incidents" in refused.body
    again = await wait_for(
        lambda: [e for r, e in chair.messages if r == dm and "version 2" in e.body]
    )
    assert "Substation probe" not in again[0].body
    await world.quiet(steer, chair)
    assert not [e for r, e in steer.messages if r == steering and "Substation" in e.body]
    assert not [r for r, _ in steer.files if r == steering]
