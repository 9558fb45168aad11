"""No accidental emergency: a `!broadcast` whose text looks like a test is held, not sent.

A first-time chair who types `!broadcast test` would otherwise send a HIGH alert to every
national contact, with escalation. A text that says test (`test`, `testing`, or its words in
the bot's other languages) or is shorter than SHORTEST characters is kept for HOLD_FOR: the
chair is pointed at `!drill`, and sends it as it is with `!broadcast confirm` or a ✅ on the
bot's answer. Every other broadcast goes at once: real emergencies are not slowed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from commands.context import Context

HOLD_FOR = timedelta(minutes=2)
SHORTEST = 15  # characters: a shorter broadcast is a test or a slip
TESTING = re.compile(r"\b(test|testing|tests|essai|prueba|probando|testen)\b", re.IGNORECASE)
HELD = "held-broadcast:{digest}"  # bot_state: the broadcast a chair was asked to confirm


@dataclass(frozen=True)
class Held:
    """A broadcast as typed, waiting for its sender to confirm it."""

    message: str
    to: list[str] | None
    level: str | None
    severity: str | None
    at: str  # when it was held (ISO)


def looks_like_a_test(message: str) -> bool:
    return len(message.strip()) < SHORTEST or TESTING.search(message) is not None


async def keep(ctx: Context, held: Held) -> None:
    """Hold a broadcast for its sender (one at a time: a newer one replaces it)."""
    await ctx.store.state.set(_key(ctx.sender), json.dumps(asdict(held)), now=ctx.now)


async def take(ctx: Context) -> Held | None:
    """The sender's held broadcast, if it is still within HOLD_FOR; it is held no longer."""
    kept = await ctx.store.state.get(_key(ctx.sender))
    if not kept:
        return None
    await ctx.store.state.set(_key(ctx.sender), "", now=ctx.now)
    held = Held(**json.loads(kept))
    return held if ctx.now - datetime.fromisoformat(held.at) <= HOLD_FOR else None


def _key(sender: str) -> str:
    return HELD.format(digest=hashlib.sha256(sender.encode()).hexdigest()[:40])
