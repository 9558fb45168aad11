"""Event content for the bot's messages: `m.notice`, a reply, explicit mentions, plain + HTML."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.rendering import Message

if TYPE_CHECKING:
    from bot.dispatcher import Outgoing
    from storage.models import OutboxMessage
    from storage.stores import Stores


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


async def enqueue(
    store: Stores,
    out: Outgoing,
    *,
    now: datetime,
    also_mention: Iterable[str] = (),
    flush: bool = True,
) -> list[OutboxMessage]:
    """Put one rendered message, and its files, in the outbox in the caller's transaction.

    Returns the rows, the message first: records (a broadcast's delivery) link to its ID, and
    the sender can take them as they are once committed.
    """
    mentions = [*out.mentions, *also_mention]
    content = notice(out.message, in_reply_to=out.in_reply_to, mentions=mentions)
    row = await store.outbox.enqueue(
        room_id=out.room_id, content=content, now=now, ref=out.ref, flush=flush
    )
    rows = [row]
    for spec in out.files:
        rows.append(
            await store.outbox.enqueue(
                room_id=out.room_id, content=asdict(spec), now=now, kind="file", flush=flush
            )
        )
    return rows


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
