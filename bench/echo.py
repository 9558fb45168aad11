"""The floors: a bare matrix-nio echo bot, with the same E2EE stack and nothing else.

It joins rooms it is invited to and answers every `!`-message with an encrypted m.notice reply
carrying the same text. No database, no parsing, no outbox: what any nio bot must spend.

With `--stack URL` it is the *stack floor*: what the product's fixed stack forces on any bot
built on it, and nothing more — the storage package's SQLModel tables imported, the database
opened as the bot opens it (`storage.db.Database`: the same engine, `synchronous=FULL` on
SQLite) and, for each command, one SQLModel session that adds one row (the event marked
handled) and commits, before the reply (`write_one`). Against it, what is left is the bot's
own work.

    python -m bench.echo --homeserver URL --user @echo:server --password PW --store DIR
        [--stack sqlite+aiosqlite:///stack.db]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    RoomMessageText,
)


async def open_stack(url: str) -> Any:
    """The bot's storage, opened as the bot opens it; every table imported and created."""
    from storage.db import Database
    from storage.stores import register_all

    register_all()  # every model, as the bot loads them (storage.stores names only the core's)

    db = Database(url)
    await db.upgrade()
    return db


async def write_one(db: Any, event_id: str, room_id: str, sender: str) -> None:
    """One row, written as SQLModel writes one: an object added to a SQLModel session on the
    bot's engine (its durability: BEGIN IMMEDIATE, synchronous=FULL), committed. Like any
    SQLModel program, the first write configures the ORM's mappers."""
    from sqlmodel.ext.asyncio.session import AsyncSession

    from storage.events import ProcessedEvent

    async with AsyncSession(db.engine.execution_options(rcc_write=True)) as session:
        session.add(
            ProcessedEvent(
                event_id=event_id, room_id=room_id, sender=sender, outcome="accepted",
                processed_at=datetime.now(UTC),
            )
        )  # fmt: skip
        await session.commit()


async def main(homeserver: str, user: str, password: str, store: Path, stack: str | None) -> None:
    store.mkdir(parents=True, exist_ok=True)
    db = await open_stack(stack) if stack else None
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
    session = store / "session.json"
    client = AsyncClient(homeserver, user, "ECHOBOT", str(store), config)
    if session.exists():
        saved = json.loads(session.read_text())
        client.restore_login(user, saved["device_id"], saved["access_token"])
    else:
        response = await client.login(password, "echo")
        assert isinstance(response, LoginResponse), response
        session.write_text(
            json.dumps({"device_id": response.device_id, "access_token": response.access_token})
        )
    if client.should_upload_keys:
        await client.keys_upload()

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == client.user_id and event.membership == "invite":
            await client.join(room.room_id)

    async def on_message(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == client.user_id or not event.body.startswith("!"):
            return
        if db is not None:  # the stack floor: one row written and committed per command
            await write_one(db, event.event_id, room.room_id, event.sender)
        await client.room_send(
            room.room_id,
            "m.room.message",
            {
                "msgtype": "m.notice",
                "body": event.body,
                "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
            },
            ignore_unverified_devices=True,
        )

    if client.loaded_sync_token is None:
        await client.sync(timeout=0, full_state=True)  # a first start: history is not echoed
    client.add_event_callback(on_invite, InviteMemberEvent)
    client.add_event_callback(on_message, RoomMessageText)
    # Synapse returns at most 10 timeline events a sync by default and drops the rest of a
    # burst: the same limit as the bot's (100) keeps the comparison fair.
    await client.sync_forever(
        timeout=30000, full_state=True, sync_filter={"room": {"timeline": {"limit": 100}}}
    )


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homeserver", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--store", required=True, type=Path)
    parser.add_argument("--stack", help="a database URL: be the stack floor")
    args = parser.parse_args()
    asyncio.run(main(args.homeserver, args.user, args.password, args.store, args.stack))
