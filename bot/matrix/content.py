"""Event content for the bot's messages: `m.notice` (or `m.text` for an alert), a reply,
explicit mentions, plain + HTML.

Matrix's default push rule `.m.rule.suppress_notices` silences every m.notice, mentions and
all: an emergency broadcast sent as a notice arrives without a sound. Alerts (broadcasts,
reminders, escalations) are therefore m.text with `m.mentions`, which `.m.rule.is_user_mention`
makes notify and highlight; replies to commands stay notices, which bots never answer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.rendering import Message


def notice(
    message: Message,
    *,
    in_reply_to: str | None = None,
    mentions: Iterable[str] = (),
    alert: bool = False,
    thread: str | None = None,
) -> dict[str, Any]:
    """An m.notice (bots never answer notices, so two bots cannot loop); an alert is m.text."""
    content: dict[str, Any] = {
        "msgtype": "m.text" if alert else "m.notice",
        "body": message.body,
        "format": "org.matrix.custom.html",
        "formatted_body": message.html,
        "m.mentions": {"user_ids": sorted(set(mentions))},
    }
    if thread:  # in a thread, as a reply there (not a fallback)
        content["m.relates_to"] = {
            "rel_type": "m.thread", "event_id": thread, "is_falling_back": not in_reply_to,
            "m.in_reply_to": {"event_id": in_reply_to or thread},
        }  # fmt: skip
    elif in_reply_to:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": in_reply_to}}
    return content


def replacement(new: dict[str, Any], original: str) -> dict[str, Any]:
    """An edit of one of the bot's events (m.replace): clients show `new` in its place; the
    fallback, for clients without edits, is the new text marked with an asterisk. It
    mentions nobody again."""
    inner = {k: new[k] for k in ("msgtype", "body", "format", "formatted_body") if k in new}
    return {
        "msgtype": new.get("msgtype", "m.notice"),
        "body": f"* {new.get('body', '')}",
        "format": "org.matrix.custom.html",
        "formatted_body": f"* {new.get('formatted_body', '')}",
        "m.new_content": inner | {"m.mentions": {}},
        "m.mentions": {},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original},
    }


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
