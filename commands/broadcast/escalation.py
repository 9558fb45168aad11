"""Who a broadcast reaches, and the escalation chain for a country nobody has answered from.

A recipient's tier is an NCPOC's rank (`primary`, `alternate`) or a contact's kind (`cirt`,
`le-24x7`, `oas-cicte`, `other`). An audience (`to=`) and a step of the chain name tiers, or
groups of them: `ncpocs`, `contacts`, `all` (everyone). A step may also name `chair`: the chair
is then sent the dark countries with the phone numbers of their contacts, for call-outs.

Steps are timed from the broadcast; each runs once, for the countries still dark then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from commands.directory import KINDS, RANKS

GROUPS = {
    "all": frozenset((*RANKS, *KINDS)),
    "ncpocs": frozenset(RANKS),
    "contacts": frozenset(KINDS),
}
AUDIENCES = (*GROUPS, *RANKS, *KINDS)
CHAIR = "chair"
TARGETS = (*AUDIENCES, CHAIR)


def tiers(names: Iterable[str]) -> frozenset[str]:
    """The tiers a list of audience words covers."""
    found: set[str] = set()
    for name in names:
        found |= GROUPS.get(name, {name})
    return frozenset(found)


def check_targets(names: Iterable[str], allowed: tuple[str, ...] = TARGETS) -> tuple[str, ...]:
    """Raises ValueError for a word that is not a tier, a group (or `chair` in a step)."""
    words = tuple(dict.fromkeys(n.strip().casefold() for n in names if n.strip()))
    if not words:
        raise ValueError("name at least one of " + ", ".join(allowed))
    unknown = [w for w in words if w not in allowed]
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not one of {', '.join(allowed)}")
    return words


@dataclass(frozen=True)
class Step:
    """One step of the chain: `after` the broadcast, alert these tiers of dark countries."""

    after: timedelta
    notify: tuple[str, ...]

    @property
    def tiers(self) -> frozenset[str]:
        return tiers(n for n in self.notify if n != CHAIR)

    @property
    def tells_chair(self) -> bool:
        return CHAIR in self.notify


# The chain when the config names none: every `renotify_after`, the next tier, and the
# chair told each time (as before tiers existed).
DEFAULT_TIERS = (("primary",), ("alternate",), ("contacts",))


def default_chain(every: timedelta, steps: int) -> tuple[Step, ...]:
    return tuple(
        Step(
            every * (k + 1), (DEFAULT_TIERS[k] if k < len(DEFAULT_TIERS) else ("all",)) + (CHAIR,)
        )
        for k in range(steps)
    )


def steps_due(chain: tuple[Step, ...], created: datetime, now: datetime) -> list[int]:
    """The 1-based steps that have fallen due by `now`."""
    return [k for k, step in enumerate(chain, start=1) if created + step.after <= now]


def next_step(chain: tuple[Step, ...], created: datetime, now: datetime) -> datetime | None:
    return min((created + s.after for s in chain if created + s.after > now), default=None)
