"""The bot's device is cross-signed by its owner, as Element's strict mode requires."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.matrix.crosssign import verify

pytestmark = pytest.mark.synapse


async def keys_of(person, user_id: str) -> dict:
    response = await person.client.send(
        "POST",
        "/_matrix/client/v3/keys/query",
        json.dumps({"device_keys": {user_id: []}}),
        {"Authorization": f"Bearer {person.client.access_token}"},
    )
    return await response.json()


def chain_ok(keys: dict, user_id: str, device_id: str) -> str:
    """Master signs self-signing, self-signing signs the device; returns the master key."""
    (master,) = keys["master_keys"][user_id]["keys"].values()
    ssk_obj = keys["self_signing_keys"][user_id]
    (ssk,) = ssk_obj["keys"].values()
    assert verify(ssk_obj, master, ssk_obj["signatures"][user_id][f"ed25519:{master}"])
    device = keys["device_keys"][user_id][device_id]
    assert verify(device, ssk, device["signatures"][user_id][f"ed25519:{ssk}"])
    return master


async def test_device_is_cross_signed_and_resigned_after_a_new_login(world):
    chair = await world.person("chair", "chair")
    runtime = await world.start_bot()
    first_device = runtime.client.device_id
    master = chain_ok(await keys_of(chair, world.bot_id), world.bot_id, first_device)
    mode = (world.tmp / "store" / "cross_signing.json").stat().st_mode & 0o777
    assert mode == 0o600
    room = await world.rcc_room(chair, [])
    shown = await chair.ask(room, "!whoami bot")
    assert master[:4] in shown.body and first_device in shown.body
    # A new login (the session file lost, the keys kept): a new device, signed again.
    await world.stop_bot()
    await asyncio.to_thread((world.tmp / "store" / "session.json").unlink)
    runtime = await world.start_bot()
    assert runtime.client.device_id != first_device
    again = chain_ok(await keys_of(chair, world.bot_id), world.bot_id, runtime.client.device_id)
    assert again == master  # the same identity: nobody has to verify the bot again
