"""Dates and times as people type them: `tomorrow 17:00`, `next Friday`, `1:43pm`,
`15 December 5pm`, `2026-12-15T17:00`, read in the committee's time zone by dateparser.

Only words that belong to a date are read as one (a title after the date stays a title), and a
bare number only beside a month or a unit ("15 December", "in 3 days"): dateparser alone would
turn "next Friday 3" into the 3rd. Whatever is read is echoed back in full by the command.
"""

from __future__ import annotations

import re
from datetime import datetime

from commands.framework import ArgumentError, ParseEnv
from commands.i18n import _
from commands.types import plain

MONTHS = {
    "jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june",
    "jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october", "nov",
    "november", "dec", "december",
}  # fmt: skip
UNITS = {"day", "days", "week", "weeks", "month", "months", "hour", "hours"}
WORDS = MONTHS | UNITS | {
    "today", "tomorrow", "tonight", "next", "this", "coming", "on", "at", "in", "by", "noon",
    "midnight", "am", "pm", "a.m.", "p.m.", "mon", "monday", "tue", "tues", "tuesday", "wed",
    "wednesday", "thu", "thur", "thurs", "thursday", "fri", "friday", "sat", "saturday", "sun",
    "sunday",
}  # fmt: skip
TIME = re.compile(r"^\d{1,2}(:\d{2})?\s*(am|pm|a\.m\.|p\.m\.)$|^\d{1,2}:\d{2}$", re.IGNORECASE)
DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}(t\d{1,2}:\d{2}(:\d{2})?)?$|^\d{1,2}/\d{1,2}(/\d{2,4})?$|^\d{1,2}(st|nd|rd|th)$",
    re.IGNORECASE,
)
NUMBER = re.compile(r"^\d{1,4}$")
HAS_TIME = re.compile(r"\d:\d{2}|\d\s*(am|pm|a\.m\.|p\.m\.)\b|\bnoon\b|\bmidnight\b", re.I)


def looks_like_a_date(text: str) -> bool:
    words = [w.strip(",").casefold() for w in text.split()]
    beside = any(w in MONTHS or w in UNITS for w in words)
    return bool(words) and all(
        w in WORDS or TIME.match(w) or DATE.match(w) or (NUMBER.match(w) and beside) for w in words
    )


def natural(text: str, env: ParseEnv) -> tuple[datetime, bool]:
    """The local wall time `text` names (naive, in the committee's zone) and whether it gave
    a time of day; an ArgumentError when it names none."""
    text = plain(text)
    if not looks_like_a_date(text):
        raise ArgumentError(
            _("{text!r} is not a date like 2026-12-15, tomorrow 17:00 or next Friday").format(
                text=text
            )
        )
    import dateparser  # imported when first needed: it takes a moment to load

    now = env.now().astimezone(env.zone).replace(tzinfo=None)
    found = dateparser.parse(
        text,
        languages=["en"],
        settings={
            "RELATIVE_BASE": now,
            "PREFER_DATES_FROM": "future",
            "DATE_ORDER": "DMY",
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )
    if found is None:
        raise ArgumentError(
            _("{text!r} is not a date like 2026-12-15, tomorrow 17:00 or next Friday").format(
                text=text
            )
        )
    has_time = bool(HAS_TIME.search(text))
    return (found if has_time else found.replace(hour=0, minute=0, second=0)), has_time
