"""What a message answers, read from its relation as Element sends it (issue 37): a reply,
a threaded reply, and a message in a thread with only the fallback reply — which concerns the
thread's root (a file in an incident's thread is about its alert)."""

from __future__ import annotations

import pytest

from bot.matrix.inbox import replied


@pytest.mark.parametrize(
    ("relation", "expected"),
    [
        ({}, (None, None)),
        ({"m.in_reply_to": {"event_id": "$asked"}}, ("$asked", None)),
        ({"rel_type": "m.thread", "event_id": "$root", "is_falling_back": True,
          "m.in_reply_to": {"event_id": "$latest"}}, ("$root", "$root")),
        ({"rel_type": "m.thread", "event_id": "$root", "is_falling_back": False,
          "m.in_reply_to": {"event_id": "$answered"}}, ("$answered", "$root")),
        ({"rel_type": "m.thread", "event_id": "$root"}, ("$root", "$root")),
        ({"m.in_reply_to": {"event_id": 7}}, (None, None)),  # not an event ID: nothing
    ],
)  # fmt: skip
def test_what_a_message_answers_and_its_thread(relation, expected):
    assert replied(relation) == expected
