"""Threads (issue 37): a command typed in a thread, as Element sends it, is answered in that
thread — a reply there, not in the room's main timeline."""

from __future__ import annotations

import pytest

from devkit.synapse import wait_for
from storage.outbox import OutboxMessage

pytestmark = pytest.mark.synapse


async def test_a_command_in_a_thread_is_answered_in_the_thread(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    root = await jm.say(rcc, "Planning the Q4 status round")
    # Element: the thread's root, and its latest event as a fallback reply for old clients.
    relation = {"rel_type": "m.thread", "event_id": root, "is_falling_back": True,
                "m.in_reply_to": {"event_id": root}}  # fmt: skip
    asked = await jm.say(rcc, "!whoami", content={"msgtype": "m.text", "body": "!whoami",
                                                  "m.relates_to": relation})  # fmt: skip
    answer = await jm.reply_to(asked)
    related = answer.source["content"]["m.relates_to"]
    assert related["rel_type"] == "m.thread" and related["event_id"] == root
    assert related["m.in_reply_to"]["event_id"] == asked and not related["is_falling_back"]
    assert "NCPOC" in answer.body
    # Outside a thread the answer stays a plain reply in the main timeline.
    typed = await jm.say(rcc, "!whoami")
    plain = await jm.reply_to(typed)
    assert plain.source["content"]["m.relates_to"] == {"m.in_reply_to": {"event_id": typed}}


async def test_an_incidents_updates_go_in_its_thread_rooted_at_its_alert(world):
    chair = await world.person("chair", "chair")
    jm = await world.person("jm", "ncpoc", "JM")
    await world.start_bot()
    rcc = await world.rcc_room(chair, [jm])
    alert = await jm.ask(rcc, "!incident new severity=medium tlp=green Phishing against banks")
    # People type their update after reading the alert; the bot records it as sent in batches
    # (a fraction of a second): the thread is rooted at it once it is recorded.
    await wait_for(lambda: world.rows(OutboxMessage, OutboxMessage.ref == "incident:1",
                                      OutboxMessage.state == "sent"))  # fmt: skip
    updated = await jm.ask(rcc, "!incident update INC-1 status=contained domains taken down")
    related = updated.source["content"]["m.relates_to"]
    assert related["rel_type"] == "m.thread" and related["event_id"] == alert.event_id
    assert "INC-1 updated" in updated.body

    # The alert itself is kept current: edited in place in the room's timeline.
    def header():
        return [
            e for r, e in jm.messages
            if r == rcc and (e.source["content"].get("m.relates_to") or {}).get("rel_type")
            == "m.replace" and e.source["content"]["m.relates_to"]["event_id"] == alert.event_id
        ]  # fmt: skip

    (edited,) = await wait_for(header)
    now_shown = edited.source["content"]["m.new_content"]["body"]
    assert "INC-1 [TLP:GREEN] medium: Phishing against banks — status: contained" in now_shown
    closed = await jm.ask(rcc, "!incident close INC-1 no losses confirmed")
    assert closed.source["content"]["m.relates_to"]["event_id"] == alert.event_id
    listed = await jm.ask(rcc, "!incident list")  # not about one incident: the main timeline
    assert listed.source["content"]["m.relates_to"].get("rel_type") is None
