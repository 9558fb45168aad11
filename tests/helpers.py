"""Test helpers: a movable clock, config files, a recording reply channel, a chat driver."""

from __future__ import annotations

import dataclasses
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from commands.values import RoomFacts

CHAIR = "@chair:test.org"
STEERING = "@steer:test.org"
ADMIN = "@admin:test.org"
JM1, JM2 = "@jm1:test.org", "@jm2:test.org"
TT1, TT2 = "@tt1:test.org", "@tt2:test.org"
OUTSIDER = "@stranger:test.org"

DEFAULT_ROSTER = f'''
[[roster]]
user_id = "{CHAIR}"
role = "chair"

[[roster]]
user_id = "{STEERING}"
role = "steering"

[[roster]]
user_id = "{ADMIN}"
role = "admin"

[[roster]]
user_id = "{JM1}"
role = "ncpoc"
country = "JM"

[[roster]]
user_id = "{TT1}"
role = "ncpoc"
country = "Trinidad and Tobago"

[[roster]]
user_id = "{TT2}"
role = "ncpoc"
country = "TT"
'''


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    current: datetime

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class ShiftedClock:
    """Real time moved ahead by the test: the bot's timers still run, on what it reads."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def set(self, when: datetime) -> None:
        """From now on the clock reads `when`, and runs on from there."""
        self.offset = when - datetime.now(UTC)


def config_text(url: str, *, roster: str = DEFAULT_ROSTER, extra: str = "", **matrix) -> str:
    homeserver = matrix.get("homeserver", "https://matrix.test.org")
    store = matrix.get("store_path", "data/store")
    user = matrix.get("user_id", "@rccbot:test.org")
    return f'''
[matrix]
homeserver = "{homeserver}"
user_id = "{user}"
password = "secret-password"
store_path = "{store}"

[storage]
url = "{url}"

[committee]
timezone = "America/Port_of_Spain"
rcc_room = "#rcc:test.org"
steering_room = "#steering:test.org"
{extra}
{roster}
'''


def write_config(tmp_path: Path, url: str, **kwargs) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(config_text(url, **kwargs))
    return path


_event_ids = itertools.count(1)
_typed_at = itertools.count(1_000_000)  # one message a second, as people type

RCC_MEMBERS = frozenset({CHAIR, JM1, TT1, TT2})
STEERING_MEMBERS = frozenset({STEERING, CHAIR})


class Rooms:
    """Who is in which room, as the Matrix side would say: the app's view of rooms in tests.

    `say` fills in a room it has not heard of from the kind of room it is told: the RCC room
    holds the chair and the NCPOCs, the Steering room the steering member and the chair, a
    DM the sender alone, any other room the sender and a stranger.
    """

    def __init__(self) -> None:
        self.known: dict[str, RoomFacts] = {}
        self.invited: set[tuple[str, str]] = set()  # (user, room): invited, not joined

    def joined(self, user_id: str, room_id: str) -> bool | None:
        """A room the test has not set up is one the bot does not know."""
        if (user_id, room_id) in self.invited:
            return False
        return True if room_id in self.known else None

    def facts(self, room_id: str) -> RoomFacts | None:
        return self.known.get(room_id)

    async def exists(self, user_id: str) -> bool | None:
        """The homeserver's answer: "@ghost…" users do not exist, "@unsure…" cannot be told."""
        if user_id.startswith("@ghost"):
            return False
        return None if user_id.startswith("@unsure") else True

    def set(
        self, room_id: str, members, *, encrypted: bool = True, public: bool = False,
        open_door: bool = False, history_shared: bool = False,
    ):  # fmt: skip
        """A room as the homeserver would describe it: `open_door` — people come in by
        knocking or from another room; `history_shared` — newcomers read back."""
        self.known[room_id] = RoomFacts(
            room_id, frozenset(members), encrypted, public, open_door, history_shared
        )

    def meet(self, room_id: str, kind: str, sender: str, encrypted: bool) -> None:
        """The sender is in the room they speak in; the rest as the kind of room says."""
        facts = self.known.get(room_id)
        if facts is None:
            others = {
                "rcc": RCC_MEMBERS,
                "steering": STEERING_MEMBERS,
                "direct": set(),
                "other": {OUTSIDER},
            }[kind]
            self.set(room_id, {sender, *others}, encrypted=encrypted)
        elif sender not in facts.members:
            self.known[room_id] = dataclasses.replace(facts, members=facts.members | {sender})


async def say(
    app,
    sender: str,
    body: str = "",
    *,
    room: str = "!rcc:test.org",
    kind: str = "rcc",
    encrypted: bool = True,
    event_id=None,
    reply_to: str | None = None,
    reaction: str | None = None,
    master_key: str | None = "",
    replaces: str | None = None,
    attachment: str | None = None,
    sent_at: float | None = None,
    poll: str | None = None,
    ciphertext: str | None = None,
):
    """One message (or, with `reaction`, a reaction) through the dispatcher; its Outcome.

    It comes from a device its owner cross-signed with `master_key` (by default one key per
    person; None: a device that is not cross-signed), typed a second after the one before
    (`sent_at`: when it was typed, in seconds, for tests of floods)."""
    from commands.framework import Input
    from commands.values import RoomKind

    app.test_rooms.meet(room, kind, sender, encrypted)
    said = Input(
        event_id=event_id or f"$ev{next(_event_ids)}",
        room_id=room,
        sender=sender,
        body=body,
        is_direct=kind == "direct",
        encrypted=encrypted,
        room_kind=RoomKind(kind),
        reply_to=reply_to,
        reaction=reaction,
        attachment=attachment,
        replaces=replaces,
        poll=poll,
        ciphertext=ciphertext,
        device_id="TESTDEVICE",
        master_key=master_key_of(sender) if master_key == "" else master_key,
        sent_at=float(next(_typed_at)) if sent_at is None else sent_at,
    )
    return await app.dispatcher.handle(said)


def master_key_of(user: str) -> str:
    """A person's (made-up) cross-signing master key in the tests."""
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(user.encode()).digest()).decode().rstrip("=")


def text_of(outcome) -> str:
    """All plain bodies of an outcome's replies, joined."""
    return "\n".join(r.message.body for r in outcome.replies)


class Postman:
    """Plays the sender for tests without a homeserver: every pending message is sent, a
    person's into a DM named `!dm-<user>`."""

    def __init__(self, app) -> None:
        self.app = app
        self.sent = 0

    async def deliver_all(self) -> list:
        """Mark every pending message sent; returns them, as stored now."""
        async with self.app.db.unit() as store:
            pending = await store.outbox.pending(limit=10_000)
            marks = []
            for row in pending:
                if row.room_id is None:
                    await store.outbox.set_room(row.id, f"!dm-{row.to_user}")
                self.sent += 1
                marks.append((row.id, f"$sent{self.sent}", self.app.clock()))
            await store.outbox.mark_all_sent(marks)
        async with self.app.db.unit(write=False) as store:
            return [await store.outbox.get(row.id) for row in pending]


def body_of(row) -> str:
    """The plain body of an outbox message."""
    return json.loads(row.content)["body"]


def ledger_for(db, clock=None):
    """The core's side of the Matrix ports, over `db`, as the runner builds it."""
    from bot.ledger import Ledger
    from bot.outbox import OutboxWriter
    from bot.rendering import Renderer

    clock = clock or (lambda: datetime.now(UTC))
    zone = ZoneInfo("UTC")
    outbox = OutboxWriter(Renderer(zone), clock)
    return Ledger(
        db, clock=clock, outbox=outbox, submit=lambda rows: None, zone=zone, on_notice=lambda: None
    )
