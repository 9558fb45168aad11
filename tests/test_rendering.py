"""Templates compiled once and kept between starts (bot.rendering._compiled)."""

from __future__ import annotations

import stat
from zoneinfo import ZoneInfo

import pytest
from jinja2 import Environment

from bot.rendering import Renderer
from commands.framework import View

ZONE = ZoneInfo("America/Port_of_Spain")
BROADCAST = {
    "exercise": False, "round": 0, "country": None, "severity": "critical", "id": "BC-1",
    "tlp": "TLP:AMBER", "sender": "@chair:x", "message": "Patch <b>now</b>",
    "personal": "@ht1:x", "audience": "", "recipients": [], "by_email": 0,
}  # fmt: skip


def test_a_kept_template_renders_as_a_fresh_one_and_is_not_compiled_again(tmp_path, monkeypatch):
    view = View("broadcast/message", BROADCAST)
    fresh = Renderer(ZONE).render(view, "fr")
    first = Renderer(ZONE, compiled=tmp_path / "templates").render(view, "fr")
    assert (first.body, first.html) == (fresh.body, fresh.html)
    kept = [p for p in (tmp_path / "templates").rglob("*") if p.is_file()]
    assert kept, "nothing was kept"
    for path in kept:  # the bot's alone, as its keys are
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    def compile_again(*args, **kwargs):
        raise AssertionError("a kept template was compiled again")

    monkeypatch.setattr(Environment, "compile", compile_again)
    again = Renderer(ZONE, compiled=tmp_path / "templates").render(view, "fr")
    assert (again.body, again.html) == (fresh.body, fresh.html)
    with pytest.raises(AssertionError, match="compiled again"):  # the check can fail
        Renderer(ZONE, compiled=tmp_path / "elsewhere").render(view, "fr")


def test_a_committees_template_changed_between_starts_is_compiled_anew(tmp_path):
    own = tmp_path / "own" / "broadcast"
    own.mkdir(parents=True)
    page = own / "message.txt.j2"
    view = View("broadcast/message", BROADCAST)
    page.write_text("First wording {{ id }}")
    kept = tmp_path / "templates"
    assert Renderer(ZONE, tmp_path / "own", kept).render(view, "en").body == "First wording BC-1"
    page.write_text("Second wording {{ id }}")
    assert Renderer(ZONE, tmp_path / "own", kept).render(view, "en").body == "Second wording BC-1"
