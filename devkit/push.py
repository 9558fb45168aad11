"""Whether a Matrix event would notify a user: their push rules, as the homeserver holds them
(`GET /pushrules/`), evaluated on the decrypted event as a client does (spec "Push rules":
override, content, room, sender, underride; the first enabled rule whose conditions all hold
decides). The conditions of the spec's default rules are implemented: event_match,
event_property_is, event_property_contains, contains_display_name, room_member_count and
sender_notification_permission (taken as not granted); the legacy mention rules are skipped
for an event with `m.mentions`."""

from __future__ import annotations

import re
from fnmatch import translate
from typing import Any

KINDS = ("override", "content", "room", "sender", "underride")
LEGACY = {".m.rule.contains_display_name", ".m.rule.contains_user_name", ".m.rule.roomnotif"}


def _path(key: str) -> list[str]:
    """A dotted key with `\\.` for a dot inside a name (`content.m\\.mentions`)."""
    parts, current, escaped = [], "", False
    for ch in key:
        if escaped:
            current, escaped = current + ch, False
        elif ch == "\\":
            escaped = True
        elif ch == ".":
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


def _value(event: dict[str, Any], key: str) -> Any:
    found: Any = event
    for part in _path(key):
        if not isinstance(found, dict) or part not in found:
            return None
        found = found[part]
    return found


def _glob(pattern: str, text: str, *, words: bool) -> bool:
    regex = translate(pattern.casefold())[4:-3]  # fnmatch's "(?s:...)\\Z" unwrapped
    if words:  # content.body: the pattern matches whole words anywhere
        return re.search(rf"(^|\W)({regex})(\W|$)", text.casefold(), re.S) is not None
    return re.fullmatch(regex, text.casefold(), re.S) is not None


def _holds(condition: dict[str, Any], event: dict[str, Any], user: dict[str, Any]) -> bool:
    kind = condition.get("kind")
    if kind == "event_match":
        value = _value(event, condition["key"])
        if "pattern" not in condition or not isinstance(value, str):
            return False
        return _glob(condition["pattern"], value, words=condition["key"] == "content.body")
    if kind == "event_property_is":
        return _value(event, condition["key"]) == condition.get("value")
    if kind == "event_property_contains":
        value = _value(event, condition["key"])
        return isinstance(value, list) and condition.get("value") in value
    if kind == "contains_display_name":
        body, name = _value(event, "content.body"), user.get("display_name")
        return isinstance(body, str) and isinstance(name, str) and _glob(name, body, words=True)
    if kind == "room_member_count":
        match = re.fullmatch(r"(==|<=|>=|<|>)?(\d+)", condition.get("is", ""))
        if not match:
            return False
        op, number = match.group(1) or "==", int(match.group(2))
        count = user["member_count"]
        return {"==": count == number, "<": count < number, ">": count > number,
                "<=": count <= number, ">=": count >= number}[op]  # fmt: skip
    return False  # sender_notification_permission and unknown kinds


def actions_for(
    rules: dict[str, Any],
    event: dict[str, Any],
    *,
    user_id: str,
    display_name: str | None,
    member_count: int,
) -> list[Any]:
    """The actions of the rule that decides for this event (empty: nothing happens)."""
    user = {"user_id": user_id, "display_name": display_name, "member_count": member_count}
    ruleset = rules.get("global", rules)
    # Intentional mentions (spec v1.7, MSC3952): an event that says whom it mentions
    # (`m.mentions`, even empty) is not matched by the legacy rules reading its body for a
    # name, as Synapse's evaluator and Element's do.
    said = isinstance(event.get("content"), dict) and "m.mentions" in event["content"]
    for kind in KINDS:
        for rule in ruleset.get(kind, []):
            if not rule.get("enabled", True) or (said and rule.get("rule_id") in LEGACY):
                continue
            if kind == "content":
                conditions = [{"kind": "event_match", "key": "content.body",
                               "pattern": rule.get("pattern", "")}]  # fmt: skip
            elif kind == "room":
                conditions = [{"kind": "event_match", "key": "room_id",
                               "pattern": rule["rule_id"]}]  # fmt: skip
            elif kind == "sender":
                conditions = [{"kind": "event_match", "key": "sender",
                               "pattern": rule["rule_id"]}]  # fmt: skip
            else:
                conditions = rule.get("conditions", [])
            if all(_holds(c, event, user) for c in conditions):
                return list(rule.get("actions", []))
    return []


def notifies(actions: list[Any]) -> bool:
    return "notify" in actions


def rings(actions: list[Any]) -> bool:
    """Notified with a sound: what wakes a person (a mention, a DM), where a plain message
    in a group room only adds to its unread count."""
    return notifies(actions) and any(
        isinstance(a, dict) and a.get("set_tweak") == "sound" for a in actions
    )
