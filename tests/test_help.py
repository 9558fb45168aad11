"""`!help` by role: five things to start with, the families as topics, each topic's commands
with a worked example, and only what the reader may use (issue 40)."""

from __future__ import annotations

import pytest

from commands.framework import Role
from commands.help import START
from commands.parsing import find
from tests.helpers import ADMIN, CHAIR, JM1, OUTSIDER, STEERING, say, text_of

PEOPLE = {Role.CHAIR: CHAIR, Role.NCPOC: JM1, Role.STEERING: STEERING, Role.ADMIN: ADMIN}


@pytest.mark.parametrize(
    ("role", "example"),
    [(role, example) for role, lines in START.items() for _text, example in lines],
)
def test_every_example_to_start_with_is_a_command_its_reader_may_type(app, role, example):
    found = find(example, app.dispatcher.registry)
    assert found is not None
    found.bind(app.env)  # the words as shown are valid
    roles = frozenset() if role is None else frozenset({role})
    assert found.command.allows(roles), (role, example)


@pytest.mark.parametrize("role", [Role.CHAIR, Role.NCPOC, Role.STEERING, Role.ADMIN])
async def test_help_opens_with_five_things_to_start_with_for_the_readers_role(app, role):
    shown = text_of(await say(app, PEOPLE[role], "!help"))
    start = shown.split("To start:")[1].split("Topics")[0]
    assert [line for line in start.splitlines() if line.startswith("• ")] == [
        f"• {example} — {text}" for text, example in START[role]
    ]
    assert "[" not in start and "<" not in start, "plain words, no grammar notation"


async def test_a_stranger_is_told_how_to_join(app):
    shown = text_of(await say(app, OUTSIDER, "!help"))
    assert "• !whoami" in shown and "ask the RCC chair to add you" in shown
    assert "incidents —" not in shown and "!roster" not in shown


async def test_the_topics_are_the_families_the_reader_may_use(app):
    chair = text_of(await say(app, CHAIR, "!help"))
    ncpoc = text_of(await say(app, JM1, "!help"))
    assert "• digest — the digest for the Steering Committee" in chair
    assert "• digest —" not in ncpoc and "• incidents — incidents shared" in ncpoc


async def test_a_topic_shows_each_command_the_reader_may_use_with_its_example(app):
    topic = text_of(await say(app, JM1, "!help incidents"))
    assert topic.startswith("!help incidents — incidents shared with the region, under TLP")
    assert "report an incident to the region" in topic
    assert "  !incident new severity=high tlp=amber" in topic
    mine = text_of(await say(app, JM1, "!help roster"))
    chair = text_of(await say(app, CHAIR, "!help roster"))
    assert "!roster add" not in mine and "!roster add" in chair


async def test_a_steering_member_is_not_offered_what_only_recipients_do(app):
    shown = text_of(await say(app, STEERING, "!help broadcast"))
    assert "!relayed" not in shown and "!ack" not in shown and "for=" not in shown
    assert "!broadcast status" in shown
    assert (await say(app, STEERING, "!relayed BC-1 passed on")).outcome == "refused"
    assert (await say(app, STEERING, "!ack BC-1")).outcome == "refused"


async def test_one_command_in_full_keeps_its_usage_line(app):
    one = text_of(await say(app, JM1, "!help incident new"))
    assert "!incident new severity=<low|medium|high|critical>" in one
    assert "Example: !incident new" in one
