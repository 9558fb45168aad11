"""Files the bot attaches, rendered from data at send time, in the language of the message
they go with: the digest report and heatmap, a drill's chart, reports, minutes.

The pictures are drawn in a child process (`bot.pictures`): matplotlib would otherwise stay
resident in the bot after the first digest."""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable
from functools import cache
from typing import Any

from bot.pictures import draw
from bot.rendering import Renderer
from commands import i18n


def render_file(
    renderer: Renderer, name: str, data: dict[str, Any], lang: str | None = None
) -> bytes:
    """The file `name` from `data`, its words in `lang` (by default the language being
    written now)."""
    with i18n.speaking(lang or i18n.current()):
        made = _render(renderer, name, data)
    _give_back()
    return made


@cache
def _declared() -> dict[str, Callable[[dict[str, Any]], bytes]]:
    """The kinds of file the families declare on their routers."""
    from commands import all_routers

    return {name: make for router in all_routers() for name, make in router.files.items()}


def _give_back() -> None:
    """Hand the memory a large rendering freed back to the system (glibc keeps it for the
    process otherwise): a digest's build and report took some 15 MB that stayed resident."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _render(renderer: Renderer, name: str, data: dict[str, Any]) -> bytes:
    if name == "digest-html":
        return renderer.document("digest/report", data).encode("utf-8")
    if name in ("digest-png", "drill-png", "timeline-png"):
        return draw(name, data)
    if name == "gaps-html":
        return renderer.document("reports/gaps", data).encode("utf-8")
    if name == "minutes-html":
        return renderer.document("reports/minutes", data).encode("utf-8")
    if name == "report-html":
        return renderer.document(data["template"], data).encode("utf-8")
    if name in _declared():
        return _declared()[name](data)
    if name == "report-pdf":
        return pdf(renderer.document(data["template"], data))
    raise ValueError(f"no file renderer named {name!r}")


def pdf(html: str) -> bytes:
    """A report's HTML laid out as a PDF: A4, the committee, the label, the period and the page
    number in the margins of every page (the `@page` rules of its template)."""
    try:
        from weasyprint import HTML
    except ImportError as exc:  # the extra, or Pango under it, is missing
        raise RuntimeError(
            "PDF needs the pdf extra (pip install 'rcc-bot[pdf]') and Pango from the system"
        ) from exc
    return HTML(string=html).write_pdf()
