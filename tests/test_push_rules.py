"""The test clients' push-rule evaluator (devkit.push) on the spec's default rules: what
the Synapse tests rely on when they say an alert wakes someone and a reply does not."""

from __future__ import annotations

from devkit.push import actions_for, notifies, rings

SOUND = {"set_tweak": "sound", "value": "default"}
RULES = {
    "global": {
        "override": [
            {"rule_id": ".m.rule.master", "enabled": False, "conditions": [], "actions": []},
            {"rule_id": ".m.rule.suppress_notices", "enabled": True, "actions": [],
             "conditions": [{"kind": "event_match", "key": "content.msgtype",
                             "pattern": "m.notice"}]},
            {"rule_id": ".m.rule.is_user_mention", "enabled": True,
             "actions": ["notify", {"set_tweak": "highlight"}, SOUND],
             "conditions": [{"kind": "event_property_contains",
                             "key": "content.m\\.mentions.user_ids", "value": "@tt:x"}]},
            {"rule_id": ".m.rule.contains_display_name", "enabled": True,
             "actions": ["notify", {"set_tweak": "highlight"}, SOUND],
             "conditions": [{"kind": "contains_display_name"}]},
        ],
        "underride": [
            {"rule_id": ".m.rule.room_one_to_one", "enabled": True, "actions": ["notify", SOUND],
             "conditions": [{"kind": "room_member_count", "is": "2"},
                            {"kind": "event_match", "key": "type",
                             "pattern": "m.room.message"}]},
            {"rule_id": ".m.rule.message", "enabled": True, "actions": ["notify"],
             "conditions": [{"kind": "event_match", "key": "type",
                             "pattern": "m.room.message"}]},
        ],
    }
}  # fmt: skip


def _actions(content: dict, members: int = 5) -> list:
    event = {"type": "m.room.message", "content": content, "sender": "@bot:x"}
    return actions_for(RULES, event, user_id="@tt:x", display_name="tt", member_count=members)


def test_a_mention_rings_and_a_plain_message_in_a_group_room_only_notifies():
    mentioned = _actions(
        {"msgtype": "m.text", "body": "INC-1", "m.mentions": {"user_ids": ["@tt:x"]}}
    )
    assert rings(mentioned)
    plain = _actions({"msgtype": "m.text", "body": "INC-1", "m.mentions": {}})
    assert notifies(plain) and not rings(plain)
    assert rings(_actions({"msgtype": "m.text", "body": "INC-1"}, members=2))  # a DM


def test_a_notice_is_silent_even_when_it_mentions():
    notice = _actions({"msgtype": "m.notice", "body": "tt", "m.mentions": {"user_ids": ["@tt:x"]}})
    assert not notifies(notice)


def test_a_name_in_the_body_rings_only_an_event_that_does_not_say_whom_it_mentions():
    legacy = _actions({"msgtype": "m.text", "body": "Reported by tt."})
    assert rings(legacy)  # no m.mentions: the body is read for the name, as before v1.7
    intentional = _actions({"msgtype": "m.text", "body": "Reported by tt.", "m.mentions": {}})
    assert not rings(intentional)
