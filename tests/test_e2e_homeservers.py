"""A homeserver that gives a bot no password (issue 37): behind Matrix Authentication Service
a bot is given an access token for one device. Through Synapse: a config with only the token
and its device ID logs in on that device and answers; a token of another device is refused at
start with one line."""

from __future__ import annotations

import pytest

from bot.matrix.session import SessionError

pytestmark = pytest.mark.synapse


def token_for(world, device_id: str) -> dict:
    """An access token for one device, as an operator is given one (here by logging in)."""
    return world.hs._request(
        "POST", "/_matrix/client/v3/login",
        {"type": "m.login.password", "password": "bot-password", "device_id": device_id,
         "identifier": {"type": "m.id.user", "user": world.bot_account.localpart}},
    )  # fmt: skip


async def test_a_token_only_config_logs_in_on_its_device_and_answers(world):
    issued = token_for(world, "RCCBOTTOKEN1")
    world.password = None  # no password anywhere in the config
    world.access_token, world.device_id = issued["access_token"], "RCCBOTTOKEN1"
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    runtime = await world.start_bot()
    assert runtime.client.device_id == "RCCBOTTOKEN1"
    rcc = await world.rcc_room(chair, [jm])
    answer = await jm.ask(rcc, "!whoami")
    assert "NCPOC" in answer.body
    await world.stop_bot()
    await world.start_bot()  # the kept session: the same device again
    assert world.runtime is not None and world.runtime.client.device_id == "RCCBOTTOKEN1"


async def test_a_token_of_another_device_is_refused_in_one_line(world):
    issued = token_for(world, "SOMEOTHERDEVICE")
    world.password = None
    world.access_token, world.device_id = issued["access_token"], "RCCBOTTOKEN2"
    with pytest.raises(SessionError) as refused:
        await world.start_bot()
    assert "belongs to" in str(refused.value) and "SOMEOTHERDEVICE" in str(refused.value)
