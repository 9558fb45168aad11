"""Argument parsers: each turns one word into a typed value or raises `ArgumentError`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

from commands.framework import ArgumentError, Labelled, ParseEnv, Parser, Role, one_of
from commands.i18n import _
from commands.reference import Country
from commands.values import ShortId

T = TypeVar("T")

# The user ID grammar of the Matrix spec (historical localparts included): printable ASCII
# only, so no look-alike letters from other scripts and no invisible characters.
USER_ID = re.compile(r"^@[\x21-\x39\x3b-\x7e]+:[A-Za-z0-9.\-\[\]:]+$")
DURATION_PART = re.compile(r"(\d+)\s*(s|m|h|d|w)", re.IGNORECASE)
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# What phone keyboards put in place of the plain characters a command is written with.
TYPOGRAPHIC = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
})  # fmt: skip


def plain(text: str) -> str:
    """`in–progress` and `2026—12—15` as typed on a phone: dashes and quotes made plain,
    for words the bot reads (never for what people write, which is kept as written)."""
    return text.translate(TYPOGRAPHIC)


def parse_duration(text: str) -> timedelta:
    """`30m`, `12h`, `7d`, `2w`, `45s` or a combination such as `1d12h`; positive only."""
    compact = text.strip().replace(" ", "")
    parts = DURATION_PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts).lower() != compact.lower():
        raise ValueError(_("{text!r} is not a duration like 30m, 12h, 7d or 2w").format(text=text))
    seconds = sum(int(n) * UNIT_SECONDS[u.lower()] for n, u in parts)
    if seconds <= 0:
        raise ValueError(_("{text!r} must be longer than zero").format(text=text))
    return timedelta(seconds=seconds)


def duration(text: str, _env: ParseEnv) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None


def word(text: str, _env: ParseEnv) -> str:
    if not text.strip():
        raise ArgumentError(_("an empty value was given"))
    return text.strip()


def choice(*values: str, hints: dict[str, str] | None = None) -> Labelled:
    """One of fixed words, case-insensitive, or a prefix only one of them starts with
    (`expert` for `expertise`); returns the canonical spelling. `hints` answer words people
    type for something else (`closed` -> "close it with !incident close")."""
    canonical = {v.casefold(): v for v in values}

    def parse(text: str, _env: ParseEnv) -> str:
        key = plain(text).strip().casefold()
        found = canonical.get(key)
        if found is None and key:
            starting = [v for k, v in canonical.items() if k.startswith(key)]
            found = starting[0] if len(starting) == 1 else None
        if found is None:
            hint = (hints or {}).get(key)
            tail = f" ({hint})" if hint else ""
            raise ArgumentError(
                _("{text!r} is not one of: {choices}{tail}").format(
                    text=text, choices=", ".join(values), tail=tail
                )
            )
        return found

    return Labelled(parse, one_of(values))


def enum_choice(enum: type[StrEnum]) -> Labelled:
    parse_word = choice(*(m.value for m in enum))

    def parse(text: str, env: ParseEnv) -> Any:
        return enum(parse_word(text, env))

    return Labelled(parse, parse_word.label)


role = enum_choice(Role)


def yes_no(text: str, _env: ParseEnv) -> bool:
    value = text.strip().casefold()
    if value in ("yes", "y", "true", "1", "on"):
        return True
    if value in ("no", "n", "false", "0", "off"):
        return False
    raise ArgumentError(_("{text!r} is not yes or no").format(text=text))


def country(text: str, env: ParseEnv) -> Country:
    """An ISO alpha-2 code or the country's name, case-insensitive."""
    found = env.reference.countries.resolve(text)
    if found is not None:
        return found
    hint = env.reference.countries.suggest(text)
    tail = f"; did you mean {', '.join(hint)}?" if hint else "; use an ISO code such as JM or TT"
    raise ArgumentError(_("unknown country {text!r}{tail}").format(text=text, tail=tail))


def user_id(text: str, _env: ParseEnv) -> str:
    value = text.strip()
    if not USER_ID.match(value):
        if not value.isascii() or not value.isprintable():
            raise ArgumentError(
                _(
                    "{value!a} is not a Matrix user ID: it holds characters "
                    "outside printable ASCII (a look-alike letter or an "
                    "invisible character)"
                ).format(value=value)
            )
        raise ArgumentError(
            _("{text!r} is not a Matrix user ID like @name:example.org").format(text=text)
        )
    return value


def typed_id(kind: ShortId) -> Parser:
    """`INC-12` style IDs (prefix case-insensitive, or a bare 12); returns the number."""
    pattern = re.compile(rf"^(?:{kind.value}-?)?(\d{{1,9}})$", re.IGNORECASE)

    def parse(text: str, _env: ParseEnv) -> int:
        match = pattern.match(plain(text).strip())
        if not match:
            raise ArgumentError(
                _("{text!r} is not an ID like {id}").format(text=text, id=kind.of(12))
            )
        return int(match.group(1))

    return parse


def csv(parse_one: Callable[[str, ParseEnv], T]) -> Callable[[str, ParseEnv], list[T]]:
    """A comma-separated list `a,b,c` of values of one kind; duplicates dropped, order kept."""

    def parse(text: str, env: ParseEnv) -> list[T]:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise ArgumentError(_("an empty list was given"))
        return list(dict.fromkeys(parse_one(p, env) for p in parts))

    return parse


def join_words(values: Iterable[str]) -> str:
    return ", ".join(values)
