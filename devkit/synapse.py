"""A throwaway Synapse homeserver on loopback, for the test suite, the benchmarks and the demo.

Needs the `matrix-synapse` package (the `test` and `demo` extras). Nothing here is used when
the bot runs against a real homeserver.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

LIMITS = ("rc_message",)
UNLIMITED = {"per_second": 10000, "burst_count": 10000}
# Every limiter but rc_message is lifted: tests register and join many users quickly.
# rc_message keeps Synapse's default (0.2/s, burst 10) so the bot meets real limits; users who
# should not be limited get a per-user override through the admin API (`unlimit`).
LIFTED = {
    "rc_login": {"address": UNLIMITED, "account": UNLIMITED, "failed_attempts": UNLIMITED},
    "rc_joins": {"local": UNLIMITED, "remote": UNLIMITED},
    "rc_joins_per_room": UNLIMITED,
    "rc_invites": {"per_room": UNLIMITED, "per_user": UNLIMITED, "per_issuer": UNLIMITED},
    "rc_room_creation": UNLIMITED,
    "rc_key_requests": UNLIMITED,
    "rc_profile": UNLIMITED,
    "rc_registration": UNLIMITED,
    "rc_3pid_validation": UNLIMITED,
    "rc_admin_redaction": UNLIMITED,
    "rc_media_create": UNLIMITED,
    "rc_presence": {"per_user": UNLIMITED},
    "rc_delayed_event_mgmt": UNLIMITED,
    "rc_reports": UNLIMITED,
    "rc_user_directory": UNLIMITED,
    "rc_third_party_invite": UNLIMITED,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Account:
    user_id: str
    localpart: str
    password: str


class Synapse:
    """One Synapse process with its own directory, port and SQLite database."""

    def __init__(self, directory: Path, *, server_name: str = "rcc.test", port: int = 0) -> None:
        self.dir = Path(directory)
        self.server_name = server_name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        self._admin_token: str | None = None

    def _write_config(self) -> list[Path]:
        self.dir.mkdir(parents=True, exist_ok=True)
        base = {
            "server_name": self.server_name,
            "pid_file": str(self.dir / "homeserver.pid"),
            "database": {"name": "sqlite3", "args": {"database": str(self.dir / "hs.db")}},
            "media_store_path": str(self.dir / "media"),
            "signing_key_path": str(self.dir / "signing.key"),
            "registration_shared_secret": self.secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
        }
        overrides = {
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "trusted_key_servers": [],
            "federation_domain_whitelist": [],
            "presence": {"enabled": False},
            "enable_registration": False,
            "url_preview_enabled": False,
            "bcrypt_rounds": 4,
            "log_config": str(self._log_config()),
            "suppress_key_server_warning": True,
            **LIFTED,
        }
        paths = [self.dir / "base.yaml", self.dir / "overrides.yaml"]
        # JSON is valid YAML: no YAML writer needed.
        paths[0].write_text(json.dumps(base, indent=1))
        paths[1].write_text(json.dumps(overrides, indent=1))
        return paths

    def _log_config(self) -> Path:
        path = self.dir / "log.yaml"
        log = {
            "version": 1,
            "formatters": {"f": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "f",
                    "filename": str(self.dir / "homeserver.log"),
                }
            },
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        path.write_text(json.dumps(log))
        return path

    def start(self, timeout: float = 60) -> None:
        """Start the process and wait until the client API answers."""
        config = (
            self._write_config()
            if not (self.dir / "base.yaml").exists()
            else [
                self.dir / "base.yaml",
                self.dir / "overrides.yaml",
            ]
        )
        args = [sys.executable, "-m", "synapse.app.homeserver"]
        for path in config:
            args += ["-c", str(path)]
        out = (self.dir / "stdout.log").open("ab")
        self.process = subprocess.Popen(
            args, cwd=self.dir, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited; see {self.dir / 'stdout.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("Synapse did not become ready in time")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    # -- admin helpers -----------------------------------------------------------------------

    def _request(self, method: str, path: str, body: dict | None = None, token=None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from None

    def register(self, localpart: str, password: str | None = None, *, admin=False) -> Account:
        """Create an account with the shared-secret registration API."""
        password = password or secrets.token_urlsafe(12)
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        kind = b"admin" if admin else b"notadmin"
        for part in (nonce.encode(), localpart.encode(), password.encode(), kind):
            mac.update(part)
            if part is not kind:
                mac.update(b"\x00")
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }
        result = self._request("POST", "/_synapse/admin/v1/register", body)
        return Account(result["user_id"], localpart, password)

    def _admin(self) -> str:
        if self._admin_token is None:
            account = self.register(f"admin-{secrets.token_hex(4)}", admin=True)
            login = self._request(
                "POST",
                "/_matrix/client/v3/login",
                {
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": account.localpart},
                    "password": account.password,
                },
            )
            self._admin_token = login["access_token"]
        return self._admin_token

    def room_events(self, room_id: str, limit: int = 100) -> list[dict]:
        """A room's latest events, newest first, as the server holds them (admin API)."""
        path = f"/_synapse/admin/v1/rooms/{urllib.parse.quote(room_id)}/messages"
        return self._request("GET", f"{path}?limit={limit}&dir=b", token=self._admin())["chunk"]

    def limit(self, user_id: str) -> None:
        """Give a user Synapse's default message rate limit back (drop the override)."""
        self._request(
            "DELETE",
            f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit",
            token=self._admin(),
        )

    def unlimit(self, user_id: str) -> None:
        """Lift the message rate limit for one user (admin API, 0 means unlimited)."""
        self._request(
            "POST",
            f"/_synapse/admin/v1/users/{urllib.parse.quote(user_id)}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0},
            token=self._admin(),
        )


async def wait_for(predicate, within: float = 60, interval: float = 0.05):
    """Poll an (async or plain) predicate until it returns something truthy.

    The default is generous on purpose: a busy machine is slow, not wrong.
    """
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(interval)


def environment_without_proxies() -> dict[str, str]:
    """Loopback traffic must not go through a proxy configured for the machine."""
    env = dict(os.environ)
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        env.pop(key, None)
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    return env
