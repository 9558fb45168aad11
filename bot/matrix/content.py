"""Event content for the bot's messages: `m.notice`, a reply, explicit mentions, plain + HTML."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.rendering import Message


def notice(
    message: Message, *, in_reply_to: str | None = None, mentions: Iterable[str] = ()
) -> dict[str, Any]:
    """An m.notice (bots never answer notices, so two bots cannot loop)."""
    content: dict[str, Any] = {
        "msgtype": "m.notice",
        "body": message.body,
        "format": "org.matrix.custom.html",
        "formatted_body": message.html,
        "m.mentions": {"user_ids": sorted(set(mentions))},
    }
    if in_reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": in_reply_to}}
    return content


def file_content(spec: dict[str, Any], size: int, upload: dict[str, Any]) -> dict[str, Any]:
    """An m.image or m.file event for an uploaded file (`upload` has `url` or `file`)."""
    image = spec["mimetype"].startswith("image/")
    return {
        "msgtype": "m.image" if image else "m.file",
        "body": spec["body"] or spec["filename"],
        "filename": spec["filename"],
        "info": {"mimetype": spec["mimetype"], "size": size},
        "m.mentions": {},
        **upload,
    }
