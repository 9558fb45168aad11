"""Jinja2 templates to a plain body plus an HTML body sanitised to the Matrix allow-list."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import nh3
from jinja2 import (
    BaseLoader,
    BytecodeCache,
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from commands import i18n
from commands.framework import ForPerson, View
from commands.tlp import COLOURS as TLP_COLOURS

# A message template's first line says what it shows (bot.outbox refuses a template without).
DECLARED = re.compile(r"\{#-? shows: (records|chrome) -?#\}")

# The HTML tags and attributes the Matrix client-server spec lets clients render
# (m.room.message, "HTML formatting"); anything else is dropped, its text kept.
MATRIX_TAGS = {
    "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol",
    "sup", "sub", "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div",
    "table", "thead", "tbody", "tr", "th", "td", "caption", "pre", "span", "img",
    "details", "summary",
}  # fmt: skip
MATRIX_ATTRIBUTES = {
    "font": {"data-mx-bg-color", "data-mx-color", "color"},
    "span": {"data-mx-bg-color", "data-mx-color", "data-mx-spoiler"},
    "a": {"name", "target", "href"},
    "img": {"width", "height", "alt", "title", "src"},
    "ol": {"start"},
    "code": {"class"},
}
URL_SCHEMES = {"https", "http", "ftp", "mailto", "magnet", "matrix", "mxc"}


def sanitize(html: str) -> str:
    """Only what the Matrix spec allows survives; scripts and their text are removed."""
    return nh3.clean(
        html,
        tags=MATRIX_TAGS,
        attributes=MATRIX_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


# Bidirectional controls: embeddings, overrides, isolates and marks. In user text they can
# reverse what follows (a date read backwards); they are dropped wherever the bot writes.
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
FSI, PDI = "\u2068", "\u2069"  # first-strong isolate and its end
OVERRIDES = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066\u2067]")


def unbidi(text: str) -> str:
    return BIDI.sub("", text)


def _overrides_out(html: str) -> str:
    """Every bidi control but the isolates the `u` filter put around user text."""
    return OVERRIDES.sub("", html)


def isolated(value: object) -> Markup:
    """User text in HTML: its bidi controls dropped, then isolated (FSI…PDI), so that a
    right-to-left title cannot reorder the words and dates around it."""
    return Markup(f"{FSI}{escape(unbidi(str(value)))}{PDI}")


# A person's Matrix ID that every filter leaves as it is: no character HTML escapes, no bidi
# control; what user IDs are made of (spec: localpart [a-z0-9._=/+-], a server name).
PLAIN_ID = re.compile(r"@[a-z0-9._=/+\-]+:[A-Za-z0-9.\-]+(?::[0-9]{1,5})?")
# Matches PLAIN_ID; no one's ID, and none anyone can type into a message (drawn at start).
STAND_IN = f"@rcc-stand-in-{secrets.token_hex(8)}:stand-in.invalid"
MOST_PERSONAL = 64  # views kept rendered with the stand-in


@dataclass(frozen=True)
class Message:
    """A rendered message: `body` for every client, `html` (already sanitised) for rich ones."""

    body: str
    html: str


def plain(text: str) -> Message:
    """A message from plain text; the HTML is the escaped text with line breaks kept."""
    text = unbidi(text)
    return Message(text, escape(text).replace("\n", "<br>"))


def ago(then: datetime | None, now: datetime) -> str:
    """`3d ago`, `5h ago`, `just now`: compact, for scorecards and lists."""
    if then is None:
        return i18n._("never")
    delta = now - then
    if delta < timedelta(minutes=1):
        return i18n._("just now")
    return i18n._("{span} ago").format(span=i18n.span(delta, width="narrow", parts=1))


def bold(value: object) -> Markup:
    """A value in bold, for a sentence whose words are translated as one message: the
    plain and the HTML template share the message, the HTML one passes `x | b`."""
    return Markup("<b>{}</b>").format(value)


def code(value: object) -> Markup:
    return Markup("<code>{}</code>").format(value)


def italic(value: object) -> Markup:
    return Markup("<i>{}</i>").format(value)


# Bump when an Environment option below changes what a template compiles to: jinja checks a
# kept template against its source and Python's version only.
COMPILED_FORMAT = 1


def _compiled(folder: Path | None, kind: str) -> BytecodeCache | None:
    """Templates compiled once and kept between starts (jinja's bytecode cache), so that the
    first reply after a start compiles none (30 ms of a 72 ms first `!whoami`). One folder
    per environment (the key is the template's name, and text and HTML compile differently)
    and per jinja version. It lives beside the bot's keys: whoever may write there is
    already the bot."""
    if folder is None:
        return None
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    kept = folder / f"{kind}-{jinja2.__version__}-{COMPILED_FORMAT}"
    kept.mkdir(mode=0o700, exist_ok=True)
    return FileSystemBytecodeCache(str(kept))


class Renderer:
    """Renders `View`s with the templates in `bot/templates`, one environment per format,
    in a language: `{% trans %}` blocks and `_()` look up the current one (commands.i18n)."""

    def __init__(
        self, zone: ZoneInfo, templates_dir: Path | None = None, compiled: Path | None = None
    ) -> None:
        # The core's templates, then each family's own folder (found on its router); the
        # committee's own templates (`[reports] templates_dir`) come first: a copy of
        # `reports/consle.html.j2` there replaces the shipped one.
        shipped: list[BaseLoader] = [PackageLoader("bot", "templates"), *_families()]
        if templates_dir:
            shipped.insert(0, FileSystemLoader(str(templates_dir)))
        loader = ChoiceLoader(shipped)
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            # Templates ship with the package and do not change under a running bot: no
            # stat() of the template file on every message.
            "auto_reload": False,
            "extensions": ["jinja2.ext.i18n"],
        }
        self._text = Environment(
            autoescape=False, bytecode_cache=_compiled(compiled, "text"), **common
        )
        self._html = Environment(
            autoescape=select_autoescape(default=True),
            bytecode_cache=_compiled(compiled, "html"),
            **common,
        )
        for env in (self._text, self._html):
            env.install_gettext_callables(  # type: ignore[attr-defined]
                i18n._, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
            )
            # A message's whitespace and line breaks are the template's layout, not its
            # words: `{% trans %}` blocks are looked up with them collapsed.
            env.policies["ext.i18n.trimmed"] = True
            env.filters["local"] = lambda dt, fmt="%Y-%m-%d %H:%M": i18n.when(dt, zone, fmt)
            env.filters["item"] = lambda text: i18n.pgettext("catalogue", text)
            env.globals["ago"] = ago
            env.globals["language"] = i18n.current  # `<html lang="{{ language() }}">`
            env.globals["tlp_colours"] = TLP_COLOURS
        self._shows: dict[str, str | None] = {}
        # ForPerson: (view, its render with STAND_IN or None: not to be trusted), by
        # (id(view), field, language, zone)
        self._personal: dict[tuple, tuple[View, Message | None]] = {}
        self._text.filters["u"] = unbidi
        self._html.filters["u"] = isolated
        for name, markup in (("b", bold), ("code", code), ("i", italic)):
            self._html.filters[name] = markup
            self._text.filters[name] = str

    def shows(self, template: str) -> str | None:
        """What a message's template declares it shows, on its first line: `records` (the
        content of labelled records: its data carries their label, from a viewer) or
        `chrome` (the bot's own words and what the asker typed). None: no declaration."""
        if template not in self._shows:
            source, _name, _uptodate = self._text.loader.get_source(  # type: ignore[union-attr]
                self._text, f"{template}.txt.j2"
            )
            found = DECLARED.match(source)
            self._shows[template] = found.group(1) if found else None
        return self._shows[template]

    def document(self, template: str, data: dict[str, Any], lang: str | None = None) -> str:
        """A standalone HTML document (a file, not a message): escaped, not Matrix-sanitised."""
        with i18n.speaking(lang or i18n.current()):
            return self._html.get_template(f"{template}.html.j2").render(data)

    def text(
        self,
        template: str,
        data: dict[str, Any],
        lang: str | None = None,
        zone: ZoneInfo | None = None,
    ) -> str:
        """Plain text only (an email's body), its times in `zone` when given."""
        with i18n.speaking(lang or i18n.current()), i18n.reading_in(zone):
            body = self._text.get_template(f"{template}.txt.j2").render(data)
        return unbidi(body.strip())

    def render(
        self,
        content: str | View | ForPerson | i18n.Deferred,
        lang: str | None = None,
        zone: ZoneInfo | None = None,
    ) -> Message:
        """A message in `lang` (by default the language being written now), its times in
        `zone` when given (the one reader's own). Plain words a job writes to several people
        come as `Deferred`: made in each one's language."""
        if isinstance(content, ForPerson):
            return self._for_person(content, lang or i18n.current(), zone)
        if isinstance(content, str):
            return plain(content)
        if isinstance(content, i18n.Deferred):
            with i18n.speaking(lang or i18n.current()), i18n.reading_in(zone):
                return plain(str(content))
        with i18n.speaking(lang or i18n.current()), i18n.reading_in(zone):
            body = self._text.get_template(f"{content.template}.txt.j2").render(content.data)
            html = self._html.get_template(f"{content.template}.html.j2").render(content.data)
        return Message(unbidi(body.strip()), sanitize(_overrides_out(html.strip())))

    def _for_person(self, content: ForPerson, lang: str, zone: ZoneInfo | None) -> Message:
        """The view rendered once (per language and zone) with a stand-in ID, the person's
        put in its place. Only for IDs that escaping, bidi filtering and sanitising leave as
        they are (every ID the spec's grammar allows today); and only once the first
        person's full render has been found equal to it (a template that changed the ID, with
        a filter say, is rendered in full for everyone)."""
        view, person = content.view, content.person
        if not PLAIN_ID.fullmatch(person):
            return self._in_full(content, lang, zone)
        key = (id(view), content.field, lang, zone)
        kept = self._personal.get(key)
        if kept is None or kept[0] is not view:  # (the view is held: its id is not reused)
            if len(self._personal) >= MOST_PERSONAL:
                self._personal.clear()
            stand_in = View(view.template, {**view.data, content.field: STAND_IN})
            once = self.render(stand_in, lang, zone)
            full = self._in_full(content, lang, zone)
            self._personal[key] = (view, once if _put(once, person) == full else None)
            return full
        trusted = kept[1]
        return _put(trusted, person) if trusted else self._in_full(content, lang, zone)

    def _in_full(self, content: ForPerson, lang: str, zone: ZoneInfo | None) -> Message:
        view = content.view
        return self.render(
            View(view.template, {**view.data, content.field: content.person}), lang, zone
        )


def _put(message: Message, person: str) -> Message:
    return Message(message.body.replace(STAND_IN, person), message.html.replace(STAND_IN, person))


def _families() -> list[BaseLoader]:
    """The template folders the families keep beside their code."""
    from commands import all_routers

    return [FileSystemLoader(str(r.templates)) for r in all_routers() if r.templates]
