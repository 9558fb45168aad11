"""Jinja2 templates to a plain body plus an HTML body sanitised to the Matrix allow-list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import nh3
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from commands.framework import View
from commands.tlp import COLOURS as TLP_COLOURS

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
        return "never"
    delta = now - then
    if delta < timedelta(minutes=1):
        return "just now"
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if delta.total_seconds() >= size:
            return f"{int(delta.total_seconds() // size)}{unit} ago"
    return "just now"


class Renderer:
    """Renders `View`s with the templates in `bot/templates`, one environment per format."""

    def __init__(self, zone: ZoneInfo, templates_dir: Path | None = None) -> None:
        shipped = PackageLoader("bot", "templates")
        # The committee's own templates (`[reports] templates_dir`) come first: a copy of
        # `reports/consle.html.j2` there replaces the shipped one.
        loader = (
            ChoiceLoader([FileSystemLoader(str(templates_dir)), shipped])
            if templates_dir
            else shipped
        )
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            # Templates ship with the package and do not change under a running bot: no
            # stat() of the template file on every message.
            "auto_reload": False,
        }
        self._text = Environment(autoescape=False, **common)
        self._html = Environment(autoescape=select_autoescape(default=True), **common)
        for env in (self._text, self._html):
            env.filters["local"] = lambda dt, fmt="%Y-%m-%d %H:%M": dt.astimezone(zone).strftime(
                fmt
            )
            env.globals["ago"] = ago
            env.globals["tlp_colours"] = TLP_COLOURS
        self._text.filters["u"] = unbidi
        self._html.filters["u"] = isolated

    def document(self, template: str, data: dict[str, Any]) -> str:
        """A standalone HTML document (a file, not a message): escaped, not Matrix-sanitised."""
        return self._html.get_template(f"{template}.html.j2").render(data)

    def text(self, template: str, data: dict[str, Any]) -> str:
        """Plain text only (an email's body)."""
        return unbidi(self._text.get_template(f"{template}.txt.j2").render(data).strip())

    def render(self, content: str | View) -> Message:
        if isinstance(content, str):
            return plain(content)
        body = self._text.get_template(f"{content.template}.txt.j2").render(content.data)
        html = self._html.get_template(f"{content.template}.html.j2").render(content.data)
        return Message(unbidi(body.strip()), sanitize(_overrides_out(html.strip())))
