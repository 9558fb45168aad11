"""The bot's languages: gettext catalogues, the language of the message being written, and
dates in that language.

English is the source: every message is written in English in the code and the templates
and looked up, as written, in `commands/locale/<code>/LC_MESSAGES/messages.po`. A message
with no translation is shown in English, never as an identifier. A language is a catalogue
file: adding `commands/locale/pt/LC_MESSAGES/messages.po` adds Portuguese, no code changes.

What the bot writes is in one language at a time: the dispatcher sets it for the command
being answered (the person's in a direct message, the room's in a room) and the renderer for
the message being rendered (`speaking`). `_()` and the date helpers read it from there, so
that a handler needs no language argument.
"""

from __future__ import annotations

import gettext
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from storage.stores import Stores

SOURCE = "en"  # the language the messages are written in
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("rcc_language", default=SOURCE)
# The zone of the one person a message is written to (their profile's `m.tz`), while it is
# rendered: their times are in it. None: the zone each time was given in (the committee's).
_reader_zone: ContextVar[ZoneInfo | None] = ContextVar("rcc_reader_zone", default=None)


@cache
def languages() -> tuple[str, ...]:
    """English, then every language with a catalogue, in code order."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE, *(code for code in found if code != SOURCE))


def known(code: str | None) -> str | None:
    """`code` (any case) when the bot speaks it, else None."""
    if code is None:
        return None
    code = code.strip().lower().replace("-", "_")
    return code if code in languages() else None


def current() -> str:
    return _current.get()


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Write in `language` (English when None or unknown) until the block ends."""
    token = _current.set(known(language) or SOURCE)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


@contextmanager
def reading_in(zone: ZoneInfo | None) -> Iterator[ZoneInfo | None]:
    """Times written until the block ends are in `zone` (None: in the zone each was given
    in), except those that name a zone of their own (`Moment(..., fixed=True)`)."""
    token = _reader_zone.set(zone)
    try:
        yield zone
    finally:
        _reader_zone.reset(token)


def zone_named(name: str | None) -> ZoneInfo | None:
    """The IANA zone `name` (a profile's `m.tz`), or None when it names none."""
    if not name or len(name) > 64:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@cache
def translations(language: str) -> gettext.NullTranslations:
    """A language's catalogue: the compiled `.mo` that the build and `make install` write
    beside the `.po`, or, in a checkout that has not compiled it, the `.po` compiled here."""
    if language == SOURCE or known(language) is None:
        return gettext.NullTranslations()
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as f:
            return gettext.GNUTranslations(f)
    return gettext.GNUTranslations(io.BytesIO(compile_po(po)))


def compile_po(po: Path) -> bytes:
    """A `.po` file as `.mo` bytes; entries marked fuzzy (unreviewed guesses) are left out."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _(message: str) -> str:
    """`message` in the current language (English when it has no translation)."""
    return translations(_current.get()).gettext(message)


def N_(message: str) -> str:
    """Marks a message for the catalogue where it is defined; `_()` translates it where it
    is shown (a command's summary, a role's title)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for `n`, by the current language's plural rule."""
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """A message in a context (the catalogue's items: `catalogue`)."""
    return translations(_current.get()).pgettext(context, message)


@dataclass(frozen=True)
class _Calendar:
    """What the bot's date formats need of a language's CLDR data: month and day names (as
    in a date, "déc.", "mardi"), and the language's name in itself."""

    months_short: tuple[str, ...]
    months: tuple[str, ...]
    days_short: tuple[str, ...]  # Monday first, as datetime.weekday()
    days: tuple[str, ...]
    name: str
    # Duration units ("{0} days", "{0}d"), by width and unit, by plural category; and the
    # language's plural rule (which category a number takes).
    units: dict[tuple[str, str], dict[str, str]]
    plural: Callable[[int], str]


@cache
def _calendar(language: str) -> _Calendar:
    """Read from Babel once; then Babel's copy of the language's CLDR data — some 4 MB of
    Python objects a language, of which the bot uses these few names — is let go."""
    from babel import Locale, localedata

    try:
        locale = Locale.parse(language)
        months, days = locale.months["format"], locale.days["format"]
        return _Calendar(
            months_short=tuple(months["abbreviated"][m] for m in range(1, 13)),
            months=tuple(months["wide"][m] for m in range(1, 13)),
            days_short=tuple(days["abbreviated"][d] for d in range(7)),
            days=tuple(days["wide"][d] for d in range(7)),
            name=locale.get_display_name(language) or language,
            units={
                (width, unit): dict(locale._data["unit_patterns"][f"duration-{unit}"][width])
                for width in ("long", "narrow")
                for unit, _seconds in UNITS
            },
            plural=locale.plural_form,
        )
    finally:
        localedata._cache.clear()  # Babel's cache of loaded locale data (stable since 2.0)


UNITS = (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def span(
    delta: timedelta,
    *,
    width: str = "long",
    smallest: str = "minute",
    parts: int = 2,
    clock: bool = False,
) -> str:
    """A duration in the current language, from CLDR's unit patterns through Babel: the
    largest `parts` units down to `smallest` ("1 day 17 hours", "1 jour 17 heures"); narrow
    for tables ("1h 05m" with `clock`, the second unit in two digits, as on a stopwatch).
    The only way the bot writes a duration."""
    calendar = _calendar(_locale())
    units = UNITS[: [u for u, _s in UNITS].index(smallest) + 1]
    left, shown = int(delta.total_seconds()), list[tuple[str, int]]()
    for unit, size in units:
        count, left = divmod(left, size)
        if count or (shown and clock):
            shown.append((unit, count))
        if len(shown) == parts:
            break
    if not shown:
        shown = [(units[-1][0], 0)]
    words = []
    for k, (unit, count) in enumerate(shown):
        forms = calendar.units[(width, unit)]
        pattern = forms.get(calendar.plural(count), forms["other"])
        words.append(pattern.replace("{0}", f"{count:02d}" if clock and k else str(count)))
    return " ".join(words)


# The strftime directives the bot uses, written in the current language: month and day
# names from CLDR (`%b` is "Dec" in English, "déc." in French), numbers as strftime writes
# them, `%Z` the zone's own abbreviation (AST, EST), the same in every language.
_DIRECTIVES: dict[str, Callable[[datetime, _Calendar], str]] = {
    "%Y": lambda t, _c: str(t.year),
    "%m": lambda t, _c: f"{t.month:02d}",
    "%d": lambda t, _c: f"{t.day:02d}",
    "%-d": lambda t, _c: str(t.day),
    "%b": lambda t, c: c.months_short[t.month - 1],
    "%B": lambda t, c: c.months[t.month - 1],
    "%a": lambda t, c: c.days_short[t.weekday()],
    "%A": lambda t, c: c.days[t.weekday()],
    "%H": lambda t, _c: f"{t.hour:02d}",
    "%-H": lambda t, _c: str(t.hour),
    "%M": lambda t, _c: f"{t.minute:02d}",
    "%S": lambda t, _c: f"{t.second:02d}",
    "%Z": lambda t, _c: t.tzname() or "",
}
_TOKEN = re.compile(r"%-?[A-Za-z]|[^%]+")


@cache
def _pattern(fmt: str) -> tuple[str, ...]:
    """A strftime format in pieces: directives and the literal text between them."""
    pieces = tuple(_TOKEN.findall(fmt))
    for piece in pieces:
        if piece.startswith("%") and piece not in _DIRECTIVES:
            raise ValueError(f"no way to write {piece!r}")
    return pieces


def when(
    moment: datetime, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M", *, fixed: bool = False
) -> str:
    """`moment` in `zone` — or in the reader's own zone, when the message goes to one person
    whose profile gives one and `zone` is not `fixed` — formatted like strftime(`fmt`) in the
    current language."""
    local = moment.astimezone(zone if fixed else in_reader_zone(zone))
    calendar = _calendar(_locale())
    return "".join(
        _DIRECTIVES[piece](local, calendar) if piece in _DIRECTIVES else piece
        for piece in _pattern(fmt)
    )


def in_reader_zone(zone: ZoneInfo) -> ZoneInfo:
    """The reader's own zone while a message to one person is written, else `zone`."""
    return _reader_zone.get() or zone


class Moment:
    """A time shown in the language of the message it ends up in: a job builds the data
    once, and each recipient's copy names the month and day in their language — and, in a
    message to one person with a zone in their profile, the time in that zone (unless
    `fixed`: a time that names its own place, "in Jamaica that is …")."""

    __slots__ = ("at", "fixed", "fmt", "show_zone", "zone")

    def __init__(
        self,
        at: datetime,
        zone: ZoneInfo,
        fmt: str = "%Y-%m-%d %H:%M",
        show_zone: bool = False,
        *,
        fixed: bool = False,
    ) -> None:
        self.at, self.zone, self.fmt, self.show_zone = at, zone, fmt, show_zone
        self.fixed = fixed

    def __str__(self) -> str:
        zone = self.zone if self.fixed else in_reader_zone(self.zone)
        text = when(self.at, zone, self.fmt, fixed=True)
        return f"{text} ({zone.key})" if self.show_zone else text

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Moment({self.at.isoformat()}, {self.zone.key}, {self.fmt!r})"


class Deferred:
    """Words made where they are shown by `make()`, in that message's language."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], str]) -> None:
        self.make = make

    def __str__(self) -> str:
        return self.make()

    def __format__(self, spec: str) -> str:
        return format(self.make(), spec)


def later(message: str) -> Deferred:
    """`message` (marked with `N_`) translated where it is shown: a job builds the data once,
    each recipient's copy reads it in their language."""
    return Deferred(partial(_, message))


def name_of(language: str) -> str:
    """A language's name in itself ("français"), for `!lang`."""
    return _calendar(language).name


def _locale() -> str:
    return _current.get()


CATALOGUE = "catalogue"  # the message context of the Action Plan catalogue's own words
CATALOGUE_FIELDS = ("name", "standard", "need", "solution")


def catalogue_words(data: dict) -> list[str]:
    """The words of a catalogue (its TOML, or a version from the database) to translate:
    area and item names, standards, needs and solutions; partners' names are proper names."""
    words = [a["name"] for a in data.get("area", [])]
    for item in data.get("item", []):
        for field in CATALOGUE_FIELDS:
            value = item.get(field)
            words += value if isinstance(value, list) else [value] if value else []
    return words


def extract_catalogue(
    fileobj: Any, _keywords: Any, _comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, Any, list[str]]]:
    """Babel's extractor for `commands/data/catalogue.toml` (see babel.cfg): each text as
    a message in the `catalogue` context, so that `item` in templates finds it."""
    import tomllib

    text = fileobj.read().decode()
    lines = text.splitlines()
    for words in dict.fromkeys(catalogue_words(tomllib.loads(text))):
        needle = words.replace('"', '\\"')
        lineno = next((n for n, line in enumerate(lines, 1) if needle in line), 0)
        yield lineno, "pgettext", (CATALOGUE, words), []


def extract_commands(
    _fileobj: Any, _keywords: Any, _comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, Any, list[str]]]:
    """Babel's extractor for the commands' own help (see babel.cfg): each command's summary
    and details as declared, which `!help` shows translated."""
    from commands import all_routers

    for router in all_routers():
        for command in router.commands:
            for text in (command.summary, command.details):
                if text:
                    yield 0, "gettext", text, [f"!{command.name}"]


ROOM_KEY = "language:{room}"  # bot state: a room's own language, set by the chair (`!lang`)


async def zone_of(store: Stores, user: str) -> ZoneInfo | None:
    """The zone `user`'s profile gives (kept on the roster), for what is written to them alone."""
    member = await store.roster.member(user)
    return zone_named(member.tz if member else None)


async def language_of(
    store: Stores, default: str, *, user: str | None = None, room: str | None = None
) -> str:
    """The language to write to `user` (in their DM) or in `room`: theirs, else `default`."""
    if user is not None:
        member = await store.roster.member(user)
        return known(member.lang if member else None) or default
    if room is not None:
        return known(await store.state.get(ROOM_KEY.format(room=room))) or default
    return default
