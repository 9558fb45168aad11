"""Log in once, keep the session in `store_path` (mode 0600), restore it on every start.

The bot refuses to start when the end-to-end crypto store is not loaded: without it nio
would send plaintext into encrypted rooms.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from bot.config import MatrixConfig
from bot.matrix.backoff import Backoff

log = logging.getLogger(__name__)

SESSION_FILE = "session.json"


class SessionError(Exception):
    """The bot cannot get a usable, encrypted session; the message says what to do."""


@dataclass
class Session:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str = ""


def client_config() -> AsyncClientConfig:
    # nio's own retries are off: our loops retry with backoff and honour Retry-After,
    # and nio's token storing would record a sync before its commands are handled.
    return AsyncClientConfig(
        encryption_enabled=True,
        store_sync_tokens=False,
        max_limit_exceeded=0,
        max_timeouts=0,
        request_timeout=60,
    )


def _write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 from the first byte."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def load_session(store: Path) -> Session | None:
    path = store / SESSION_FILE
    if not path.exists():
        return None
    try:
        return Session(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        raise SessionError(f"{path} is damaged; move it away to log in again") from None


def save_session(store: Path, session: Session) -> None:
    _write_private(store / SESSION_FILE, json.dumps(asdict(session)))


def secure_store(store: Path) -> None:
    """The directory 0700, every file in it 0600 (nio creates its crypto store 0644)."""
    os.chmod(store, 0o700)
    for path in store.iterdir():
        if path.is_file():
            os.chmod(path, 0o600)


def _prepare_store(config: MatrixConfig) -> tuple[Path, Session | None]:
    store = Path(config.store_path)
    store.mkdir(parents=True, exist_ok=True, mode=0o700)
    return store, load_session(store)


async def open_client(config: MatrixConfig) -> AsyncClient:
    """A logged-in client with its crypto store loaded and its keys uploaded."""
    store, session = _prepare_store(config)
    if session is not None and (session.user_id, session.homeserver) != (
        config.user_id,
        config.homeserver,
    ):
        raise SessionError(
            f"{store} holds the session of {session.user_id} on {session.homeserver}, not "
            f"{config.user_id} on {config.homeserver}; use another store_path"
        )
    session = _given_token(config, store, session)
    if session is None:
        # The device ID is chosen and saved before logging in, so a crash during the first
        # login does not leave a second device behind at the next attempt.
        session = Session(config.homeserver, config.user_id, f"RCCBOT{secrets.token_hex(4)}")
        save_session(store, session)
    client = AsyncClient(
        config.homeserver, config.user_id, session.device_id, str(store), client_config()
    )
    try:
        await _signed_in(client, config, store, session)
    except BaseException:  # Ctrl-C or a stop while waiting: close, then stop
        with contextlib.suppress(Exception):
            await client.close()
        raise
    if client.olm is None:
        await client.close()
        raise SessionError(
            f"the end-to-end crypto store in {store} did not load; refusing to run without it"
        )
    secure_store(store)
    write_new_encrypted_rooms_only(client.store)
    if client.should_upload_keys:
        await _patiently(client.keys_upload, config.homeserver)
    return client


def write_new_encrypted_rooms_only(store: Any) -> None:
    """After every sync with an encrypted event nio writes the rooms it came from to its
    crypto store: a query and a transaction in the event loop's own thread, about 1.5 ms a
    sync on the command path (py-spy on bench/roundtrip.py). Only new rooms need writing."""
    saved = set(store.load_encrypted_rooms())
    write = store.save_encrypted_rooms

    def save(rooms: Iterable[str]) -> None:
        new = set(rooms) - saved
        if new:
            write(new)
            saved.update(new)

    store.save_encrypted_rooms = save


async def _patiently(
    call: Callable[[], Awaitable[Any]], homeserver: str, give_up_after: float | None = None
) -> Any:
    """The homeserver may not be up yet (both started together): wait for it, with backoff;
    at the first start only `give_up_after` seconds (a wrong URL is not waited for forever)."""
    backoff = Backoff()
    began = time.monotonic()
    while True:
        try:
            return await call()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            why = _why(exc)
            if give_up_after is not None and time.monotonic() - began >= give_up_after:
                raise SessionError(
                    f"[matrix] homeserver {homeserver}: unreachable for "
                    f"{int(give_up_after)}s at the first start ({why}); check the URL and the "
                    "network, then start again"
                ) from None
            delay = backoff.next_delay()
            log.warning(
                "homeserver %s unreachable (%s); retrying in %.1fs", homeserver, why, delay
            )
            await asyncio.sleep(delay)


def _why(exc: BaseException) -> str:
    """What went wrong, in words an operator acts on."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "its name does not resolve (DNS)"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate is not valid"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "the connection was refused or timed out"
    return type(exc).__name__


def _given_token(config: MatrixConfig, store: Path, session: Session | None) -> Session | None:
    """A session from the configured access token (a homeserver behind Matrix Authentication
    Service issues no password to a bot, but a compatibility token for a device): used as
    given, for its own device only; a new token for the same device replaces the saved one."""
    if config.access_token is None:
        return session
    token = config.access_token.get_secret_value()
    if session is not None and session.device_id != config.device_id:
        raise SessionError(
            f"{store} holds device {session.device_id}, but [matrix] device_id is "
            f"{config.device_id}: the crypto store belongs to one device; use another store_path"
        )
    if session is None or session.access_token != token:
        session = Session(config.homeserver, config.user_id, str(config.device_id), token)
        save_session(store, session)
    return session


async def _signed_in(
    client: AsyncClient, config: MatrixConfig, store: Path, session: Session
) -> None:
    if session.access_token:
        client.restore_login(session.user_id, session.device_id, session.access_token)
        if not await _token_works(client, config.homeserver):
            log.warning("the saved access token was rejected; logging in again, same device")
            await _login(client, config, store, session)
    else:
        await _login(client, config, store, session)


async def _token_works(client: AsyncClient, homeserver: str) -> bool:
    expected = (client.user_id, client.device_id)  # nio takes whoami's answer as its own
    response = await _patiently(client.whoami, homeserver)
    if isinstance(response, WhoamiResponse):
        owner = (response.user_id, response.device_id or expected[1])
        if owner != expected:
            raise SessionError(
                f"the access token belongs to {owner[0]}, device {owner[1]}, not "
                f"{expected[0]}, device {expected[1]}"
            )
        return True
    if getattr(response, "status_code", "") == "M_UNKNOWN_TOKEN":
        return False
    raise SessionError(f"the homeserver did not confirm the session: {response.status_code}")


async def _login(client: AsyncClient, config: MatrixConfig, store: Path, session: Session) -> Any:
    if config.password is None:
        await client.close()
        if config.access_token is not None:
            raise SessionError(
                f"the homeserver rejected the access token of device {session.device_id}: "
                "issue a new one (Matrix Authentication Service: mas-cli manage "
                "issue-compatibility-token) and set [matrix] access_token"
            )
        raise SessionError(
            f"no usable session in {store} and no password: set [matrix] password "
            "or RCC_MATRIX_PASSWORD (or an access_token and its device_id) for the first start"
        )
    password = config.password.get_secret_value()
    first = config.first_contact_within.total_seconds()  # no session yet: the first start
    response = await _patiently(
        lambda: client.login(password, config.device_name), config.homeserver, first
    )
    if not isinstance(response, LoginResponse):
        await client.close()
        raise SessionError(f"login as {config.user_id} failed: {response.message}")
    session.access_token = response.access_token
    session.device_id = response.device_id
    save_session(store, session)
    log.info("logged in as %s, device %s", response.user_id, response.device_id)
