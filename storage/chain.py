"""The audit log's hash chain: each entry's hash covers the previous entry's hash and its own
content, so an entry changed, removed or slipped in later breaks every hash after it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of the first entry
FIELDS = ("id", "at", "actor", "action", "outcome", "room_id", "event_id", "detail")


def _moment(value: Any) -> str:
    """The same text for an entry's time however the database hands it back."""
    if isinstance(value, str):  # SQLite read without the model: naive UTC text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(previous: str, row: Mapping[str, Any]) -> str:
    content = {name: row[name] for name in FIELDS}
    content["at"] = _moment(content["at"])
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((previous + text).encode()).hexdigest()
