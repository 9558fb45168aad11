"""Through a real Synapse, in real encrypted rooms, with real clients."""

from __future__ import annotations

import pytest

from bot.logs import OWN as OWN_LOGGERS
from devkit.synapse import wait_for

pytestmark = pytest.mark.synapse


async def test_ncpoc_runs_whoami_in_an_encrypted_room(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    runtime = await world.start_bot()
    room = await world.rcc_room(chair, [jm])
    event_id = await jm.say(room, "!whoami")
    reply = await jm.reply_to(event_id)
    assert "NCPOC for Jamaica (JM)" in reply.body
    assert reply.decrypted, "the reply must arrive encrypted"
    assert reply.source["content"]["msgtype"] == "m.notice"
    assert jm.user_id in reply.source["content"]["m.mentions"]["user_ids"]
    assert "<b>NCPOC</b>" in reply.source["content"]["formatted_body"]
    # The command is remembered as the encrypted message it was (bot.matrix.replay).
    session = jm.client.olm.outbound_group_sessions[room].id
    async with runtime.app.db.unit(write=False) as store:
        handled = await store.events.get(event_id)
    assert handled is not None and handled.ciphertext is not None
    assert handled.ciphertext.startswith(f"{session}:"), handled.ciphertext


async def test_a_command_replayed_under_a_new_event_id_runs_once_across_a_restart(world):
    """The same ciphertext sent again (as a homeserver could) after the bot restarted, when nio's
    in-memory replay index is empty: the processed-events table refuses it (bot.matrix.replay)."""
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    runtime = await world.start_bot()
    room = await world.rcc_room(chair, [jm])
    await jm.ask(room, "!whoami")  # keys exchanged
    sealed = await jm.sealed(room, "!status set legal.strategy met Cabinet approved")
    first = await jm.send_sealed(room, sealed)
    assert "is now met" in (await jm.reply_to(first)).body
    await world.stop_bot()
    runtime = await world.start_bot()
    replayed = await jm.send_sealed(room, sealed)
    assert replayed != first
    later = await jm.ask(room, "!whoami")  # answered after the replay was read
    assert "NCPOC" in later.body
    assert jm.replies_to(replayed) == []
    async with runtime.app.db.unit(write=False) as store:
        assert len(await store.status.history("JM", "legal.strategy")) == 1
        assert await store.events.get(replayed) is None


async def test_outsider_is_refused_and_audited(world):
    chair = await world.person("chair", "chair")
    outsider = await world.person("outsider")
    runtime = await world.start_bot()
    room = await world.rcc_room(chair, [outsider])
    event_id = await outsider.say(room, "!roster")
    reply = await outsider.reply_to(event_id)
    assert "not on the roster" in reply.body
    async with runtime.app.db.unit(write=False) as store:
        entries = await store.audit.recent(actor=outsider.user_id)
    assert [(e.action, e.outcome, e.event_id) for e in entries] == [
        ("roster", "refused", event_id)
    ]


async def test_invite_from_non_roster_user_is_declined(world):
    chair = await world.person("chair", "chair")
    stranger = await world.person("stranger")
    runtime = await world.start_bot()
    room = await stranger.create_room(invite=[world.bot_id])

    async def declined():
        async with runtime.app.db.unit(write=False) as store:
            return [e for e in await store.audit.recent() if e.action == "invite"]

    (entry,) = await wait_for(declined)
    assert (entry.actor, entry.outcome, entry.room_id) == (stranger.user_id, "declined", room)
    assert room not in runtime.client.rooms
    # A roster member's invite to an unconfigured room is accepted.
    other = await chair.create_room(invite=[world.bot_id])
    await chair.wait_member(other, world.bot_id)
    assert chair.user_id  # the chair is seen joined with the bot


async def test_history_is_not_replayed_on_first_start(world):
    chair = await world.person("chair", "chair")
    room = await world.room(chair, [], alias=world.rcc_alias, bot=False)
    old = await chair.say(room, "!whoami")
    await chair.invite(room, world.bot_id)
    runtime = await world.start_bot()
    await chair.wait_member(room, world.bot_id)
    new = await chair.say(room, "!whoami")
    await chair.reply_to(new)
    await world.quiet(chair)
    assert chair.replies_to(old) == []
    assert runtime.bot.inbox.handled == 1


async def test_logs_carry_no_bodies_tokens_or_passwords(world):
    chair = await world.person("chair", "chair")
    world.spawn_bot()  # as `rcc-bot run`, with log_level = "DEBUG"
    room = await world.rcc_room(chair, [])
    secret = "TLP-RED-kestrel-7741"
    reply = await chair.ask(room, f"!help {secret}")
    assert secret in reply.body  # the answer names it, inside the encrypted room
    await chair.ask(room, f"!roster add @x:rcc.test role=steering {secret}")
    await chair.ask(room, "!whoami")
    world.kill_bot()
    log = (world.tmp / "bot.log").read_text()
    session = (world.tmp / "store" / "session.json").read_text()
    token = __import__("json").loads(session)["access_token"]
    assert "INFO bot." in log and "accepted" in log  # the log is there, at the set level
    chatty = [
        line
        for line in log.splitlines()
        if (" DEBUG " in line or " INFO " in line)
        and not any(f" {own}." in line for own in OWN_LOGGERS)
    ]
    assert chatty == [], "libraries log below WARNING (nio logs tokens, its store keys)"
    for forbidden in (secret, token, "bot-password", "!help", "!roster add"):
        assert forbidden not in log, forbidden
    store = world.tmp / "store"  # the session, keys and compiled templates: the bot's alone
    modes = {str(p.relative_to(store)): p.stat().st_mode & 0o777 for p in store.rglob("*")}
    files = {name: mode for name, mode in modes.items() if (store / name).is_file()}
    folders = {name: mode for name, mode in modes.items() if name not in files}
    assert files and set(files.values()) == {0o600}, files
    assert folders and set(folders.values()) == {0o700}, folders  # templates/ and its own
    assert (world.tmp / "store").stat().st_mode & 0o777 == 0o700
    databases = {p.name: p.stat().st_mode & 0o777 for p in world.tmp.glob("rcc.db*")}
    assert "rcc.db" in databases and set(databases.values()) == {0o600}, databases


async def test_wrong_password_stops_with_one_clear_line(world):
    world.password = "wrong"
    world.spawn_bot()
    assert await world.wait_exit() == 1
    errors = [
        line for line in (world.tmp / "bot.log").read_text().splitlines() if " ERROR " in line
    ]
    assert len(errors) == 1 and "login as" in errors[0] and "failed" in errors[0], errors
    assert "Traceback" not in (world.tmp / "bot.log").read_text()


async def test_waits_for_a_homeserver_that_is_not_up_yet(world):
    from devkit.synapse import free_port

    world.homeserver = f"http://127.0.0.1:{free_port()}"
    world.spawn_bot()
    said = f"homeserver {world.homeserver} unreachable (the connection was refused"
    await wait_for(lambda: said in (world.tmp / "bot.log").read_text())
    assert world.process.poll() is None, "the bot keeps waiting instead of exiting"


async def test_the_roster_asks_the_homeserver_who_exists(world):
    chair = await world.person("chair", "chair")
    steering = await world.person("steering")  # registered, not yet on the roster
    await world.start_bot()
    room = await world.rcc_room(chair, [])
    ghost = await chair.ask(room, f"!roster add @ghost-{world.tag}:rcc.test role=steering")
    assert "does not exist on its homeserver" in ghost.body and "force=yes" in ghost.body
    real = await chair.ask(room, f"!roster add {steering.user_id} role=steering")
    assert "Added" in real.body, real.body
