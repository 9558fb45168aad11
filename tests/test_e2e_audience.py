"""Need-to-know through Synapse: an invited outsider, a squatted alias, an upgraded room."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from nio import RoomDeleteAliasResponse

from devkit.synapse import wait_for

pytestmark = pytest.mark.synapse


async def api(person, method: str, path: str, body: dict | None = None) -> dict:
    """A client-server API call as the person (what Element does for room upgrades)."""
    response = await person.client.send(
        method,
        f"/_matrix/client/v3{path}",
        json.dumps(body or {}),
        {"Authorization": f"Bearer {person.client.access_token}"},
    )
    return await response.json()


async def test_an_invited_outsider_sees_no_amber_and_red_leaves_its_room(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    tt = await world.person("tt", "ncpoc", "TT")
    outsider = await world.person("outsider")  # not on the roster
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm, tt])
    amber = await jm.ask(rcc, "!incident new severity=high tlp=amber Grid probing")
    assert "INC-1" in amber.body

    def invited(room: str):
        held = runtime.client.rooms.get(room)
        return held is not None and outsider.user_id in held.invited_users

    # A room of JM and the bot alone is a DM; with an outsider invited it is not any more.
    dm = await world.room(jm, [])
    assert "Grid probing" in (await jm.ask(dm, "!incident show INC-1")).body
    await jm.invite(dm, outsider.user_id)
    await wait_for(lambda: invited(dm))
    shown = await jm.ask(dm, "!incident show INC-1")
    missing = await jm.ask(dm, "!incident show INC-9")
    # Hidden from a reader who may not see it, in the words of an ID that does not exist.
    assert "Grid probing" not in shown.body and "there is no INC-1" in shown.body
    assert shown.body.replace("there is no INC-1", "there is no INC-9") == missing.body
    # RED in full in its own room, until an outsider is invited there.
    red_room = await world.room(jm, [tt])
    red = await jm.ask(red_room, "!incident new severity=critical tlp=red Cabinet breach")
    assert "Cabinet breach" in red.body
    assert "Cabinet breach" in (await tt.ask(red_room, "!incident show INC-2")).body
    await jm.invite(red_room, outsider.user_id)
    await wait_for(lambda: invited(red_room))
    later = await tt.ask(red_room, "!incident show INC-2")
    assert "Cabinet" not in later.body and "there is no INC-2" in later.body
    assert "RED" not in later.body
    # Posting AMBER where an outsider can read is refused, with the reason.
    refused = await jm.ask(red_room, "!incident new severity=low tlp=amber Another")
    assert "cannot be posted here" in refused.body and "not on the roster" in refused.body
    for room in (dm, red_room):
        await outsider.join(room)
    await world.quiet(outsider)
    read = "\n".join(e.body for _, e in outsider.messages)
    assert "Grid probing" not in read and "Cabinet" not in read


async def test_a_squatted_alias_is_never_followed_and_the_chair_is_told(world):
    chair = await world.person("chair", "chair")
    steer = await world.person("steer", "steering")
    squatter = await world.person("squatter")  # not on the roster
    await world.start_bot()
    await world.rcc_room(chair, [])
    steering = await world.room(chair, [steer], alias=world.steering_alias)
    alias = f"#{world.steering_alias}:{world.hs.server_name}"
    # The alias is given up and taken by someone else, who invites the bot.
    deleted = await chair.client.room_delete_alias(alias)
    assert isinstance(deleted, RoomDeleteAliasResponse), deleted
    await squatter.create_room(invite=[world.bot_id], alias=world.steering_alias)
    await world.stop_bot()
    runtime = await world.start_bot()  # checks its aliases at start
    chair_dm = await chair.accept_invite()
    told = await wait_for(
        lambda: [e for r, e in chair.messages if r == chair_dm and "now names another" in e.body]
    )
    assert steering in told[0].body and alias in told[0].body
    assert runtime.app.rooms["steering"] == steering  # pinned: not followed
    # The digest still goes to the real room; the squatter's room gets nothing.
    rcc = runtime.app.rooms["rcc"]
    await chair.ask(rcc, "!digest to=steering")
    (dm,) = {r for r, e in await wait_for(
        lambda: [(r, e) for r, e in chair.messages if "draft DG-1" in e.body])}  # fmt: skip
    await chair.ask(dm, "!digest approve DG-1")
    await wait_for(lambda: [e for r, e in steer.messages if r == steering and "digest" in e.body])
    assert not squatter.client.rooms.get(steering)
    assert all("digest" not in e.body for _, e in squatter.messages)


async def test_an_upgraded_room_is_followed_once_the_bot_is_invited(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    runtime = await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    await chair.ask(rcc, "!whoami")
    upgraded = await api(chair, "POST", f"/rooms/{quote(rcc)}/upgrade", {"new_version": "12"})
    new = upgraded["replacement_room"]
    chair_dm = await chair.accept_invite()
    told = await wait_for(
        lambda: [e for r, e in chair.messages if r == chair_dm and "was upgraded" in e.body]
    )
    assert new in told[0].body and runtime.app.rooms["rcc"] == rcc  # not before the invite
    await chair.invite(new, world.bot_id)
    await wait_for(lambda: runtime.app.rooms["rcc"] == new)
    await wait_for(
        lambda: [e for r, e in chair.messages if r == chair_dm and "now uses" in e.body]
    )
    dm = await world.room(chair, [])
    await chair.ask(dm, "!broadcast Tabletop at noon")
    await chair.client.join(new)
    await wait_for(lambda: [e for r, e in chair.messages if r == new and "Tabletop" in e.body])
