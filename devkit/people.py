"""Real Matrix users for the demo and the end-to-end tests: nio clients with their own E2EE
stores, as a person in Element would be (encrypted messages, replies, reactions, files).

Like an Element user, a person cross-signs: their first device creates a master, a
self-signing and a user-signing key and signs itself; a further device (`another_device`) is
signed with the same keys, or left unsigned as someone with only the password would leave it;
`reset_identity` makes new keys, as "reset cryptographic identity" does."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import uuid
from collections.abc import Sequence
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    DownloadResponse,
    Event,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomEncryptedMedia,
    RoomGetEventResponse,
    RoomMessageFile,
    RoomMessageImage,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
    UploadResponse,
)
from nio.api import Api
from nio.crypto.attachments import decrypt_attachment

from bot.matrix.crosssign import KEYS_FILE, CrossSigner
from devkit.synapse import Account, Synapse, wait_for

log = logging.getLogger(__name__)

ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}
# As a committee keeps its rooms (the README): someone invited later reads nothing before.
SINCE_INVITED = {
    "type": "m.room.history_visibility",
    "state_key": "",
    "content": {"history_visibility": "invited"},
}


class Person:
    """A user with a real, encrypting client that records every message it can read."""

    def __init__(
        self,
        hs: Synapse,
        account: Account,
        store: Path,
        *,
        device_id: str = "PERSON",
        cross_sign: bool = True,
    ) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.hs, self.account, self.store = hs, account, store
        self.user_id = account.user_id
        self.cross_sign = cross_sign
        self.master_key: str | None = None  # fingerprint, once cross-signed
        config = AsyncClientConfig(
            encryption_enabled=True, store_sync_tokens=False, max_timeout_retry_wait_time=2
        )
        self.client = AsyncClient(hs.url, account.user_id, device_id, str(store), config)
        self.messages: list = []  # (room_id, event): notices and texts, decrypted
        self.undecryptable: list = []
        self.files: list = []  # (room_id, event): attachments
        self.seen: set[str] = set()  # the ID of every timeline event this client received
        self._readable: dict[tuple[str, str], bool] = {}  # (room, event): theirs to read
        self._helpers: list[asyncio.Task] = []
        self._arrived = asyncio.Event()  # set whenever a message comes in (no polling delay)
        self._task: asyncio.Task | None = None
        self.sync_errors: list[str] = []  # what stopped a sync (it then starts again)

    async def start(self) -> None:
        response = await self.client.login(self.account.password, "test device")
        assert isinstance(response, LoginResponse), response
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.cross_sign:
            await self._sign()
        self.client.add_event_callback(self._on_message, (RoomMessageText, RoomMessageNotice))
        self.client.add_event_callback(self._on_megolm, MegolmEvent)
        self.client.add_event_callback(self._on_any, Event)
        self.client.add_event_callback(
            self._on_file,
            (RoomEncryptedFile, RoomEncryptedImage, RoomMessageFile, RoomMessageImage),
        )
        await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self._sync())

    async def _sync(self) -> None:
        """Sync for good, as Element does: an error (a refused key query on a busy
        homeserver, say) ends nio's sync_forever, and would leave this person deaf."""
        while True:
            try:
                await self.client.sync_forever(timeout=1000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.sync_errors.append(repr(exc))
                log.warning(
                    "%s %s: sync failed (%r); syncing again",
                    self.user_id,
                    self.client.device_id,
                    exc,
                )
                await asyncio.sleep(0.5)

    async def _sign(self) -> None:
        signer = CrossSigner(self.client, self.store, self.account.password)
        self.master_key = await signer.ensure()

    async def another_device(self, name: str, *, cross_signed: bool) -> Person:
        """The same account logged in on a new device: signed with this person's keys (as
        after "verify this session" in Element), or not (someone with only the password)."""
        store = self.store.parent / f"{self.store.name}-{name}"
        store.mkdir(parents=True, exist_ok=True)
        if cross_signed:
            (store / KEYS_FILE).write_bytes((self.store / KEYS_FILE).read_bytes())
        other = Person(self.hs, self.account, store, device_id=name, cross_sign=cross_signed)
        await other.start()
        return other

    async def reset_identity(self) -> str:
        """New cross-signing keys for the account, this device signed with them (as Element's
        "reset cryptographic identity"); returns the new master key's fingerprint."""
        (self.store / KEYS_FILE).unlink(missing_ok=True)
        await self._sign()
        assert self.master_key is not None
        return self.master_key

    async def set_zone(self, zone: str) -> None:
        """This person's time zone in their profile, as Element writes it (`m.tz`)."""
        response = await self.client.send(
            "PUT",
            f"/_matrix/client/v3/profile/{self.user_id}/m.tz",
            json.dumps({"m.tz": zone}),
            headers={"Authorization": f"Bearer {self.client.access_token}"},
        )
        assert response.status == 200, await response.text()

    async def push_rules(self) -> dict:
        """This person's push rules as their homeserver holds them (the defaults, here)."""
        response = await self.client.send(
            "GET",
            "/_matrix/client/v3/pushrules/",
            headers={"Authorization": f"Bearer {self.client.access_token}"},
        )
        return await response.json()

    async def would_notify(self, room_id: str, event) -> bool:
        """Whether this person's client would notify them of a (decrypted) event."""
        from devkit.push import notifies

        return notifies(await self._actions(room_id, event))

    async def would_ring(self, room_id: str, event) -> bool:
        """Whether their client would notify them with a sound: wake them."""
        from devkit.push import rings

        return rings(await self._actions(room_id, event))

    async def _actions(self, room_id: str, event) -> list:
        """The push actions this person's own rules give a (decrypted) event."""
        from devkit.push import actions_for

        room = self.client.rooms[room_id]
        as_seen = {
            "type": "m.room.message",
            "content": event.source["content"],
            "sender": event.sender,
            "room_id": room_id,
        }
        actions = actions_for(
            await self.push_rules(),
            as_seen,
            user_id=self.user_id,
            display_name=room.user_name(self.user_id),
            member_count=room.joined_count,
        )
        return actions

    async def _on_message(self, room, event) -> None:
        self.messages.append((room.room_id, event))
        self._arrived.set()

    async def _on_any(self, room, event) -> None:
        self.seen.add(event.event_id)

    async def _on_file(self, room, event) -> None:
        self.files.append((room.room_id, event))

    async def download(self, event) -> bytes:
        """An attachment's bytes, decrypted when it came encrypted."""
        response = await self.client.download(mxc=event.url)
        assert isinstance(response, DownloadResponse), response
        if isinstance(event, RoomEncryptedMedia):
            return decrypt_attachment(
                response.body, event.key["k"], event.hashes["sha256"], event.iv
            )
        return response.body

    async def fetch(self, stored: dict) -> bytes:
        """A file from the content of its event as the bot kept it (`url` or an encrypted
        `file` with its key), decrypted."""
        encrypted = stored.get("file")
        response = await self.client.download(mxc=encrypted["url"] if encrypted else stored["url"])
        assert isinstance(response, DownloadResponse), response
        if encrypted:
            return decrypt_attachment(
                response.body, encrypted["key"]["k"], encrypted["hashes"]["sha256"],
                encrypted["iv"],
            )  # fmt: skip
        return response.body

    async def send_file(
        self, room_id: str, name: str, data: bytes, *, reply_to: str, mimetype: str
    ) -> str:
        """An encrypted attachment, in reply to an event, as Element sends one."""
        response, keys = await self.client.upload(
            io.BytesIO(data), content_type=mimetype, filename=name, encrypt=True,
            filesize=len(data),
        )  # fmt: skip
        assert isinstance(response, UploadResponse), response
        assert keys is not None
        content = {
            "msgtype": "m.file",
            "body": name,
            "file": {**keys, "url": response.content_uri},
            "info": {"mimetype": mimetype, "size": len(data)},
            "m.relates_to": {"m.in_reply_to": {"event_id": reply_to}},
        }
        return await self.say(room_id, name, content=content)

    async def _on_megolm(self, room, event) -> None:
        self.undecryptable.append((room.room_id, event))

    async def stop(self) -> None:
        for helper in self._helpers:
            helper.cancel()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.close()

    async def create_room(
        self,
        *,
        invite: Sequence[str] = (),
        encrypted: bool = True,
        alias: str | None = None,
        direct: bool = False,
        history: str = "invited",
        moderators: Sequence[str] = (),
    ) -> str:
        """A room this person creates; `moderators` get power level 50 (a bot that pins)."""
        alias = alias or f"room-{uuid.uuid4().hex[:8]}"
        kept = {**SINCE_INVITED, "content": {"history_visibility": history}}
        # The creator is not listed: rooms of version 12 (Synapse's default) give creators
        # their power by creation, and refuse them in `users`.
        levels = {"users": dict.fromkeys(moderators, 50)}
        response = await self.client.room_create(
            alias=alias,
            name=alias,
            invite=list(invite),
            is_direct=direct,
            initial_state=[ENCRYPTION, kept] if encrypted else [kept],
            power_level_override=levels if moderators else None,
        )
        assert isinstance(response, RoomCreateResponse), response
        await wait_for(lambda: response.room_id in self.client.rooms)
        return response.room_id

    async def may_read(self, room_id: str, event_id: str) -> bool:
        """Whether the homeserver lets this person read an event: one sent before they were
        invited to a room whose history is kept from newcomers is not theirs to read."""
        key = (room_id, event_id)
        if key not in self._readable:
            response = await self.client.room_get_event(room_id, event_id)
            if isinstance(response, RoomGetEventResponse):
                self._readable[key] = True
            elif response.status_code in ("M_NOT_FOUND", "M_FORBIDDEN"):
                self._readable[key] = False  # hidden from them for good
            else:
                return True  # not known yet (a rate limit, say): expect it
        return self._readable[key]

    async def join(self, room_id: str) -> None:
        await self.client.join(room_id)
        await wait_for(lambda: room_id in self.client.rooms)

    def accept_invites(self) -> None:
        """From now on, join every room this person is invited to (a DM the bot opens)."""

        async def loop() -> None:
            while True:
                for room_id in list(self.client.invited_rooms):
                    await self.client.join(room_id)
                await asyncio.sleep(0.2)

        self._helpers.append(asyncio.create_task(loop()))

    async def accept_invite(self, within: float = 60) -> str:
        """Join the first room we are invited to (a DM the bot opens); returns its ID."""
        room_id = await wait_for(lambda: next(iter(self.client.invited_rooms), None), within)
        await self.join(room_id)
        return room_id

    def texts_in(self, room_id: str) -> list[str]:
        return [e.body for r, e in self.messages if r == room_id]

    async def invite(self, room_id: str, user_id: str) -> None:
        await self.client.room_invite(room_id, user_id)

    async def wait_member(self, room_id: str, user_id: str, within: float = 60) -> None:
        """Until `user_id` has joined `room_id`, as this client sees it."""

        def joined():
            room = self.client.rooms.get(room_id)
            return room is not None and user_id in room.users and user_id not in room.invited_users

        await wait_for(joined, within)

    async def say(self, room_id: str, body: str, *, content: dict | None = None) -> str:
        """Send a text message; returns its event ID."""
        content = content or {"msgtype": "m.text", "body": body}
        txn = str(uuid.uuid4())  # the same request if it must be made again
        async with asyncio.timeout(60):
            try:
                response = await self.client.room_send(
                    room_id, "m.room.message", content, tx_id=txn, ignore_unverified_devices=True
                )
            except KeyError:
                # nio's own race: a member change (an invitation just sent) drops the room's
                # outbound session while it is being shared, before anything was sent; a
                # client such as Element sends again with a new session.
                response = await self.client.room_send(
                    room_id, "m.room.message", content, tx_id=txn, ignore_unverified_devices=True
                )
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    async def sealed(self, room_id: str, body: str) -> dict:
        """A text message encrypted for the room and not sent: what a homeserver carries."""
        if self.client.olm.should_share_group_session(room_id):
            await self.client.share_group_session(room_id, ignore_unverified_devices=True)
        _, payload = self.client.encrypt(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body}
        )
        return payload

    async def send_sealed(self, room_id: str, payload: dict) -> str:
        """Send an encrypted payload as it is (again, for a replay); returns the new event ID."""
        method, path, data = Api.room_send(
            self.client.access_token, room_id, "m.room.encrypted", payload, uuid.uuid4()
        )
        response = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    async def react(self, room_id: str, event_id: str, key: str = "✅") -> str:
        """An encrypted reaction, as Element sends it (nio alone would send it in clear)."""
        relation = {"rel_type": "m.annotation", "event_id": event_id, "key": key}
        if not self.client.rooms[room_id].members_synced:
            await self.client.joined_members(room_id)
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.olm.should_share_group_session(room_id):
            await self.client.share_group_session(room_id, ignore_unverified_devices=True)
        kind, payload = self.client.encrypt(room_id, "m.reaction", {"m.relates_to": relation})
        payload["m.relates_to"] = relation
        method, path, data = Api.room_send(
            self.client.access_token, room_id, kind, payload, uuid.uuid4()
        )
        response = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
        assert isinstance(response, RoomSendResponse), response
        return response.event_id

    async def reply(self, room_id: str, event_id: str, body: str) -> str:
        relation = {"m.in_reply_to": {"event_id": event_id}}
        return await self.say(
            room_id, body, content={"msgtype": "m.text", "body": body, "m.relates_to": relation}
        )

    def replies_to(self, event_id: str) -> list:
        return [
            e
            for _, e in self.messages
            if e.source.get("content", {})
            .get("m.relates_to", {})
            .get("m.in_reply_to", {})
            .get("event_id")
            == event_id
        ]

    async def reply_to(self, event_id: str, within: float = 60):
        """The bot's (first) reply to one of our events, decrypted; wakes as it arrives."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            self._arrived.clear()  # before looking, so a message arriving now is not missed
            found = self.replies_to(event_id)
            if found:
                return found[0]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no reply to {event_id} within {within}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    async def ask(self, room_id: str, body: str, within: float = 60):
        """Send a command and return the bot's reply event."""
        return await self.reply_to(await self.say(room_id, body), within)
