"""Cross-signing for the bot's own device, which nio cannot do.

Element's "exclude insecure devices" mode only talks to devices their owner has cross-signed.
On the first start the bot creates a master, a self-signing and a user-signing key (Ed25519),
uploads them (`/keys/device_signing/upload`, with the password when the homeserver asks for
it) and signs its device with the self-signing key (`/keys/signatures/upload`). The private
keys stay in `store_path` (mode 0600). Every later start checks that the current device
carries the signature and signs it again when it does not (a new device after a re-login).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa
from nio import AsyncClient

from commands.values import fingerprint

log = logging.getLogger(__name__)

KEYS_FILE = "cross_signing.json"
USAGES = ("master", "self_signing", "user_signing")


class CrossSigningError(Exception):
    """The keys could not be set up; the bot still runs, its device just is not cross-signed."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def canonical(obj: Any) -> bytes:
    """Matrix canonical JSON: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class SigningKey:
    seed: bytes

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(ECC.generate(curve="Ed25519").seed)

    @property
    def public(self) -> str:
        key = ECC.construct(curve="Ed25519", seed=self.seed)
        return b64(key.public_key().export_key(format="raw"))

    def sign(self, obj: dict[str, Any]) -> str:
        body = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
        key = ECC.construct(curve="Ed25519", seed=self.seed)
        return b64(eddsa.new(key, "rfc8032").sign(canonical(body)))


def verify(obj: dict[str, Any], public: str, signature: str) -> bool:
    """Check an Ed25519 signature over an object's canonical JSON."""
    body = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    try:
        key = eddsa.import_public_key(unb64(public))
        eddsa.new(key, "rfc8032").verify(canonical(body), unb64(signature))
    except ValueError:
        return False
    return True


def load_keys(store: Path) -> dict[str, SigningKey] | None:
    path = store / KEYS_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return {usage: SigningKey(unb64(data[usage])) for usage in USAGES}


def save_keys(store: Path, keys: dict[str, SigningKey]) -> None:
    path = store / KEYS_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({usage: b64(key.seed) for usage, key in keys.items()}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class CrossSigner:
    def __init__(
        self, client: AsyncClient, store: Path, password: str | None, *, replace: bool = True
    ) -> None:
        self.client, self.store, self.password = client, store, password
        self.user_id = client.user_id
        # False on a node of two sites: published keys it does not hold are the other
        # node's, never to be replaced (that would reset the bot's identity for everyone).
        self.replace = replace

    async def _call(self, method: str, path: str, body: Any = None) -> tuple[int, dict]:
        headers = {
            "Authorization": f"Bearer {self.client.access_token}",
            "Content-Type": "application/json",
        }
        data = json.dumps(body) if body is not None else None
        response = await self.client.send(method, f"/_matrix/client/v3{path}", data, headers)
        return response.status, await response.json(content_type=None)

    async def ensure(self) -> str:
        """The keys uploaded and this device signed; returns the master key's fingerprint."""
        keys = await self._keys()
        status, mine = await self._call(
            "POST", "/keys/query", {"device_keys": {self.user_id: [self.client.device_id]}}
        )
        if status != 200:
            raise CrossSigningError(f"key query failed ({status})")
        device = mine.get("device_keys", {}).get(self.user_id, {}).get(self.client.device_id)
        if device is None:
            raise CrossSigningError("the device's own keys are not on the homeserver yet")
        self_signing = keys["self_signing"]
        signed = device.get("signatures", {}).get(self.user_id, {})
        if f"ed25519:{self_signing.public}" not in signed:
            await self._sign_device(device, self_signing)
        return fingerprint(keys["master"].public)

    async def _keys(self) -> dict[str, SigningKey]:
        keys = await _in_thread(load_keys, self.store)
        status, server = await self._call(
            "POST", "/keys/query", {"device_keys": {self.user_id: []}}
        )
        if status != 200:
            raise CrossSigningError(f"key query failed ({status})")
        published = server.get("master_keys", {}).get(self.user_id, {}).get("keys", {})
        if keys is not None and f"ed25519:{keys['master'].public}" in published:
            return keys
        if published and not self.replace:
            raise CrossSigningError(
                f"the bot's cross-signing keys are published but {self.store / KEYS_FILE} "
                "does not hold them: copy that file from the other node's store_path"
            )
        if keys is None:
            keys = {usage: SigningKey.generate() for usage in USAGES}
        await self._upload(keys, replacing=bool(published))
        await _in_thread(save_keys, self.store, keys)
        log.info("cross-signing keys published; master key %s", keys["master"].public)
        return keys

    def _key_object(self, usage: str, key: SigningKey, master: SigningKey) -> dict[str, Any]:
        obj = {
            "user_id": self.user_id,
            "usage": [usage],
            "keys": {f"ed25519:{key.public}": key.public},
        }
        if usage != "master":
            obj["signatures"] = {self.user_id: {f"ed25519:{master.public}": master.sign(obj)}}
        return obj

    async def _upload(self, keys: dict[str, SigningKey], *, replacing: bool) -> None:
        master = keys["master"]
        body = {
            f"{usage}_key": self._key_object(usage, key, master) for usage, key in keys.items()
        }
        status, answer = await self._call("POST", "/keys/device_signing/upload", body)
        if status == 401 and "flows" in answer:
            if self.password is None:
                raise CrossSigningError(
                    "the homeserver asks for the password to "
                    + ("replace" if replacing else "publish")
                    + " cross-signing keys"
                )
            body["auth"] = {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": self.user_id},
                "password": self.password,
                "session": answer.get("session"),
            }
            status, answer = await self._call("POST", "/keys/device_signing/upload", body)
        if status != 200:
            raise CrossSigningError(f"uploading cross-signing keys failed ({status})")

    async def _sign_device(self, device: dict[str, Any], key: SigningKey) -> None:
        signed = dict(device)
        signed.pop("unsigned", None)
        signed["signatures"] = {self.user_id: {f"ed25519:{key.public}": key.sign(device)}}
        status, answer = await self._call(
            "POST", "/keys/signatures/upload", {self.user_id: {self.client.device_id: signed}}
        )
        if status != 200 or answer.get("failures"):
            raise CrossSigningError(f"signing the device failed ({status})")
        log.info("device %s cross-signed", self.client.device_id)


async def _in_thread(function: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)
