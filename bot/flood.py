"""A token bucket per sender: a flood of commands is answered with one notice, then costs
nothing until it stops.

Roster members get a generous bucket (people catching up after a meeting type fast);
anyone else a small one: they may only use !help and !whoami. The time is the homeserver's
timestamp of each message, not when the bot read it, so commands typed while the bot was
down and read in one burst at its return are judged at the pace they were typed.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    NOTICE = "notice"  # the first message over the limit: the sender is told once
    DROP = "drop"  # the flood goes on: nothing at all


@dataclass(frozen=True)
class Bucket:
    burst: float  # commands at once
    rate: float  # commands a second, after the burst


MEMBERS = Bucket(burst=60, rate=5.0)
STRANGERS = Bucket(burst=5, rate=0.1)
MOST_SENDERS = 5000  # senders remembered at once; the least recent is forgotten


class Floods:
    def __init__(
        self, members: Bucket = MEMBERS, strangers: Bucket = STRANGERS, *, most: int = MOST_SENDERS
    ) -> None:
        self.members, self.strangers, self.most = members, strangers, most
        # sender -> (tokens, when last counted, told of this flood)
        self._held: OrderedDict[str, tuple[float, float, bool]] = OrderedDict()

    def check(self, sender: str, *, member: bool, at: float) -> Verdict:
        """Whether a command of `sender`'s sent at `at` (seconds) is read."""
        bucket = self.members if member else self.strangers
        tokens, last, told = self._held.pop(sender, (bucket.burst, at, False))
        tokens = min(bucket.burst, tokens + max(0.0, at - last) * bucket.rate)
        if tokens >= bucket.burst:
            told = False  # the flood is over: a new one gets a new notice
        if tokens >= 1:
            verdict, tokens = Verdict.ALLOW, tokens - 1
        else:
            verdict, told = (Verdict.DROP if told else Verdict.NOTICE), True
        self._held[sender] = (tokens, max(at, last), told)
        while len(self._held) > self.most:
            self._held.popitem(last=False)
        return verdict
