"""Which encrypted message an event was: its megolm session and message index.

A homeserver (a member state's own, federated) can send a message it once carried again under
a new event ID: the same ciphertext, decrypting to the same command. nio catches such a replay
only in memory — an LRU of every decrypted event since the process started (100,000 entries,
some 60 MB at its cap: the largest lasting part of the Python heap's growth in the soak,
bench/soak.py) — and forgets it at every restart or take-over. Here the ciphertext's identity
goes with the event into the processed-events table, where it is unique (storage.events): a
replay is refused as handled for ever, and nio's own index can be small.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

NIO_INDEX = 2_000  # nio's in-memory replay index: recent events only (the durable check is ours)
UNCLAIMED = 2_000  # ciphertexts decrypted but not yet handed over (events nobody reads)


class Ciphertexts:
    """Installed on the client's Olm machine: records each decrypted event's ciphertext, for
    the inbox to take when it hands the event over."""

    def __init__(self, olm: Any) -> None:
        self._by_event: OrderedDict[str, str] = OrderedDict()
        checked = olm.message_index_ok

        def remembered(message_index: int, event: Any) -> bool:
            self._remember(event.event_id, f"{event.session_id}:{message_index}")
            return bool(checked(message_index, event))

        olm.message_index_ok = remembered
        olm.message_index_store = type(olm.message_index_store)(NIO_INDEX)  # nio's LRU

    def _remember(self, event_id: str, ciphertext: str) -> None:
        self._by_event[event_id] = ciphertext
        if len(self._by_event) > UNCLAIMED:
            self._by_event.popitem(last=False)

    def take(self, event_id: str) -> str | None:
        """The event's ciphertext ("<session>:<index>"), once; None when it was not an
        encrypted event (or nio never decrypted it)."""
        return self._by_event.pop(event_id, None)
