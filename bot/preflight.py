"""What `rcc-bot check-config` checks beyond the file itself: what `run` would fail on.

Each check gives one line: the database answers and can be written, the store directory can
be written, and (unless offline) the homeserver answers and the committee rooms' aliases
resolve. A failure names the setting and the reason, never a traceback.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp
from sqlalchemy.engine import make_url

from bot.config import Config

WITHIN = 10.0  # seconds for each network check


@dataclass(frozen=True)
class Check:
    ok: bool
    line: str


async def checks(config: Config, *, offline: bool) -> list[Check]:
    found = [await database(config.storage.url), store(config.matrix.store_path)]
    if not offline:
        found += await homeserver(config)
    return found


def safe_url(url: str) -> str:
    """A database URL without its password, to print."""
    return make_url(url).render_as_string(hide_password=True)


def reason(exc: BaseException) -> str:
    """The first line of what went wrong, without SQLAlchemy's background links."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else type(inner).__name__
    return text[:200]


async def database(url: str) -> Check:
    from storage.db import Database, UnsupportedDatabase

    where = f"[storage] url {safe_url(url)}"
    try:
        db = Database(url)
    except (UnsupportedDatabase, OSError) as exc:
        return Check(False, f"error: {where}: {reason(exc)}")
    try:
        async with asyncio.timeout(WITHIN), db.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
            if not db.is_sqlite:
                replica = (await conn.exec_driver_sql("SELECT pg_is_in_recovery()")).scalar()
                if replica:
                    return Check(False, f"error: {where}: a read-only replica")
    except Exception as exc:  # any driver's failure to connect becomes one line
        return Check(False, f"error: {where}: cannot be opened ({reason(exc)})")
    finally:
        await db.close()
    unwritable = _unwritable(Path(make_url(url).database or "")) if db.is_sqlite else None
    if unwritable is not None:
        return Check(False, f"error: {where}: {unwritable} is not writable by this user")
    return Check(True, f"ok: the database answers ({safe_url(url)})")


def _unwritable(path: Path) -> Path | None:
    target = path if path.exists() else path.parent
    return None if os.access(target, os.W_OK) else target


def store(path: Path) -> Check:
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        return Check(False, f"error: [matrix] store_path {path}: {existing} is not writable")
    return Check(True, f"ok: the store directory can be written ({path})")


async def homeserver(config: Config) -> list[Check]:
    base = config.matrix.homeserver.rstrip("/")
    timeout = aiohttp.ClientTimeout(total=WITHIN)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.get(f"{base}/_matrix/client/versions") as response:
                if response.status != 200:
                    return [Check(False, f"error: [matrix] homeserver {base}: {response.status}")]
            found = [Check(True, f"ok: the homeserver answers ({base})")]
            rooms = {
                "rcc_room": config.committee.rcc_room,
                "steering_room": config.committee.steering_room,
            }
            for key, room in rooms.items():
                if room and room.startswith("#"):
                    found.append(await _alias(http, base, key, room))
            return found
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return [
            Check(
                False,
                f"error: [matrix] homeserver {base} does not answer ({reason(exc)}); "
                "--offline skips this check",
            )
        ]


async def _alias(http: aiohttp.ClientSession, base: str, key: str, alias: str) -> Check:
    url = f"{base}/_matrix/client/v3/directory/room/{quote(alias, safe='')}"
    async with http.get(url) as response:
        if response.status == 200:
            room_id = (await response.json()).get("room_id", "?")
            return Check(True, f"ok: [committee] {key} {alias} is {room_id}")
        if response.status == 404:
            return Check(False, f"error: [committee] {key} {alias}: no room has this alias")
        return Check(False, f"error: [committee] {key} {alias}: {response.status}")
