"""An independent check of reply HTML against the Matrix allow-list (stdlib parser, not nh3).

From the client-server spec, m.room.message "HTML formatting": the tags clients should
render and the attributes each may carry; links only to safe schemes.
"""

from __future__ import annotations

from html.parser import HTMLParser

TAGS = {
    "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol",
    "sup", "sub", "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div",
    "table", "thead", "tbody", "tr", "th", "td", "caption", "pre", "span", "img",
    "details", "summary",
}  # fmt: skip
ATTRIBUTES = {
    "font": {"data-mx-bg-color", "data-mx-color", "color"},
    "span": {"data-mx-bg-color", "data-mx-color", "data-mx-spoiler"},
    "a": {"name", "target", "href"},
    "img": {"width", "height", "alt", "title", "src"},
    "ol": {"start"},
    "code": {"class"},
}
SCHEMES = ("https:", "http:", "ftp:", "mailto:", "magnet:", "matrix:", "mxc:")


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag not in TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name not in ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {name} on <{tag}>")
            if name in ("href", "src") and value is not None:
                lowered = value.strip().lower()
                if ":" in lowered.split("/")[0] and not lowered.startswith(SCHEMES):
                    self.problems.append(f"{name}={value!r}")

    handle_startendtag = handle_starttag


def html_problems(html: str) -> list[str]:
    """What in `html` is outside the allow-list (empty when it is clean)."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.problems
