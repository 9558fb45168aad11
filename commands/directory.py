"""The contact directory's vocabulary and checks: kinds, ranks, languages, phone numbers
and email addresses. Pure: the config and the commands both use it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from commands.framework import ArgumentError, ParseEnv, Parser, Role
from commands.i18n import N_, Deferred, _, later
from commands.sections import Duration, Section
from commands.types import choice, user_id
from commands.values import Joined, unknown_membership

KINDS = ("cirt", "le-24x7", "oas-cicte", "other")
KIND_TITLES = {
    "primary": N_("primary"),
    "alternate": N_("alternate"),
    "cirt": N_("national CIRT"),
    "le-24x7": N_("24/7 law-enforcement contact"),
    "oas-cicte": N_("OAS/CICTE national point of contact"),
    "other": N_("other national contact"),
}


def kind_title(kind: str) -> Deferred:
    """What a contact's kind is called, in the language of the message it is shown in."""
    return later(KIND_TITLES.get(kind, kind))


RANKS = ("primary", "alternate")
TIER_ORDER = (*RANKS, *KINDS)  # who comes first in a fan-out and in the chain
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")
MAX_TEXT = 200


def valid_phone(text: str) -> str:
    """A phone number in E.164 (`+1 868 555 0100` becomes `+18685550100`)."""
    number = PHONE_PUNCTUATION.sub("", text.strip())
    if not E164.match(number):
        raise ValueError(
            _("{text!r} is not a phone number in E.164, like +18685550100").format(text=text)
        )
    return number


def valid_email(text: str) -> str:
    address = text.strip()
    if len(address) > 254 or not EMAIL.match(address):
        raise ValueError(
            _("{text!r} is not an email address like cert@example.gov").format(text=text)
        )
    return address


def valid_text(text: str) -> str:
    value = " ".join(text.split())
    if not value or len(value) > MAX_TEXT or not value.isprintable():
        raise ValueError(
            _("expected printable text of 1 to {MAX_TEXT} characters").format(MAX_TEXT=MAX_TEXT)
        )
    return value


def _parser(check: Callable[[str], str]) -> Parser:
    def parse(text: str, _env: ParseEnv) -> str:
        try:
            return check(text)
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None

    return parse


phone = _parser(valid_phone)
email = _parser(valid_email)
text = _parser(valid_text)
kind = choice(*KINDS, *RANKS)


def check_kind(role: str, value: str | None) -> str | None:
    """A contact's kind, an NCPOC's rank; other roles have neither. Raises ValueError."""
    if role == Role.CONTACT:
        if value is None:
            raise ValueError(
                _("a contact needs a kind: kind={choices}").format(choices="|".join(KINDS))
            )
        if value not in KINDS:
            raise ValueError(
                _("a contact's kind is one of {choices}").format(choices=", ".join(KINDS))
            )
    elif role == Role.NCPOC:
        if value is not None and value not in RANKS:
            raise ValueError(_("an NCPOC is kind=primary or kind=alternate"))
    elif value is not None:
        raise ValueError(
            _("kind= applies to NCPOCs and contacts, not to the role {role}").format(role=role)
        )
    return value


def ranked(entries: list[Any]) -> dict[Any, str]:
    """Each national entry's tier (its place in a broadcast's escalation chain), by its ID:
    a contact's kind; an NCPOC's rank, or without one its country's primary when the country
    has none yet (in the order given), else an alternate."""
    primaries = {e.country for e in entries if e.role == Role.NCPOC and e.rank == "primary"}
    found = {}
    for e in entries:
        if e.role == Role.NCPOC and e.rank is None:
            found[e.id] = "alternate" if e.country in primaries else "primary"
            primaries.add(e.country)
        else:
            found[e.id] = e.rank if e.role == Role.NCPOC else (e.kind or "other")
    return found


def stand_in(entry: Any, now: Any, national: Iterable[Any]) -> str:
    """Who gets this entry's reminders and broadcasts now: its colleague while it is away —
    decided now, so only while that colleague is still a national contact or NCPOC of the
    same country (`national`: the roster's entries now); otherwise the entry itself."""
    if entry.away_until is not None and entry.away_until > now and entry.away_to:
        colleague = str(entry.away_to)
        if any(e.user_id == colleague and e.country == entry.country for e in national):
            return colleague
    return str(entry.user_id)


# A national contact without a Matrix account is reached by email only; the roster keys it
# by its address. Such a key is never shown where the address itself may not be.
EMAIL_ONLY = "mailto:"


def email_only(user_id: str) -> bool:
    return user_id.startswith(EMAIL_ONLY)


def shown(user_id: str, private: bool = False) -> str:
    """How a roster key is printed: an email-only contact's address only where phones and
    addresses may be shown (`private`)."""
    if email_only(user_id) and not private:
        return _("an email-only contact")
    return user_id


def contact_id(text: str, env: ParseEnv) -> str:
    """A Matrix user ID, or an email address for a contact without a Matrix account."""
    value = text.strip().removeprefix(EMAIL_ONLY)
    if "@" in value and not value.startswith("@"):
        address = email(value, env)
        if len(EMAIL_ONLY + address) > 255:
            raise ArgumentError(_("that email address is too long"))
        return EMAIL_ONLY + address
    return user_id(text, env)


def unconfirmed(entry: Any, every: timedelta, now: datetime) -> bool:
    """Not confirmed within the re-confirmation cycle (or never)."""
    return entry.confirmed_at is None or entry.confirmed_at + every < now


def unreachable(
    entry: Any, direct: dict[str, str], joined: Joined = unknown_membership
) -> str | None:
    """Why the bot cannot reach this contact (None: it can): no email, and no direct chat
    or one they never joined. A chat the bot cannot see (`joined` says None) counts."""
    if entry.email:
        return None
    room = direct.get(entry.user_id)
    if room is None:
        return _("no direct chat")
    return "has not joined the direct chat" if joined(entry.user_id, room) is False else None


class ContactsConfig(Section):
    confirm_every: Duration = Field(
        timedelta(days=122), description='a duration such as "17w" or "122d" (four months)'
    )
    confirm_grace: Duration = Field(timedelta(days=14), description='a duration such as "14d"')
