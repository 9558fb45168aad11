"""Hostile input through the dispatcher and every command, driven by hypothesis.

No crash, a clear answer, no HTML outside the Matrix allow-list, and nothing stored when the
input is refused or rejected. The same input reaches the bot through Synapse in
test_faults.py::test_hostile_input_through_synapse.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from bot.matrix.sender import RateGate
from tests.helpers import ADMIN, CHAIR, JM1, OUTSIDER, STEERING, TT1, say
from tests.htmlcheck import html_problems

pytestmark = pytest.mark.faults

DOMAIN_TABLES = (
    "roster",
    "status_update",
    "status_note",
    "report",
    "incident",
    "incident_update",
    "lesson",
    "resource",
    "deadline",
    "broadcast",
    "broadcast_recipient",
)

FRAGMENTS = [
    "severity=high",
    "severity=",
    "tlp=red",
    "tlp=amber+strict",
    "tlp=",
    "countries=JM,TT",
    "countries=,,",
    "country=XX",
    "standard=",
    "state=done",
    "role=chair",
    "kind=tool",
    "period=2026-Q4",
    "due=2026-12-01",
    "exercise=yes",
    '"',
    "'",
    "“quoted”",
    "=",
    "x=y=z",
    "@user:test.org",
    "@a<b>:test.org",
    "INC-1",
    "BC-1",
    "INC-99999999999999999999",
    "<script>alert(1)</script>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<iframe src=//evil.example>",
    "javascript:alert(1)",
    "&lt;b&gt;",
    "\u202e",
    "\u0000",
    "\U0001d54f",
    "\n",
    "> <@chair:test.org> !broadcast severity=high old\n\n",
    "[" * 200 + "]" * 200,
    "(" * 200,
    "<b>" * 200,
    "A" * 20000,
]


def command_names() -> list[str]:
    from commands import all_routers
    from commands.parsing import Registry

    return sorted({c.name for c in Registry(all_routers()).commands})


@st.composite
def hostile(draw) -> str:
    name = draw(st.sampled_from(command_names()))
    parts = draw(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=8))
    prefix = draw(st.sampled_from(["", "", "> quoted fallback\n\n", "  "]))
    return f"{prefix}!{name} " + " ".join(parts)


async def domain_rows(app) -> dict[str, int]:
    query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in DOMAIN_TABLES)
    async with app.db.unit(write=False) as store:
        return dict((await store._session.execute(text(query))).all())


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=hostile(), sender=st.sampled_from([CHAIR, JM1, TT1, STEERING, ADMIN, OUTSIDER]))
async def test_hostile_commands_are_answered_clearly_and_store_nothing_when_rejected(
    app, body, sender
):
    before = await domain_rows(app)
    outcome = await say(app, sender, body)
    if outcome is None:  # not a command at all (e.g. a quote with nothing after it)
        assert await domain_rows(app) == before
        return
    assert outcome.outcome != "failed", (body, outcome.detail)
    assert outcome.replies, "every command gets an answer"
    for reply in outcome.replies:
        assert reply.message.body.strip()
        assert "Traceback" not in reply.message.body
        assert html_problems(reply.message.html) == [], (body, reply.message.html)
    if outcome.outcome != "accepted":
        assert await domain_rows(app) == before, (body, outcome.outcome)


async def test_a_huge_body_is_refused_without_being_parsed(app):
    started = time.perf_counter()
    outcome = await say(app, CHAIR, "!incident new severity=high tlp=red " + "x" * 1_000_000)
    assert outcome.outcome == "invalid"
    assert "too long for a command" in outcome.replies[0].message.body
    assert time.perf_counter() - started < 5


async def test_a_nul_character_is_dropped_on_every_backend(app):
    # PostgreSQL refuses NUL in text; hypothesis found it in `!broadcast \x00`.
    outcome = await say(app, JM1, "!status note Draft\x00 strategy \x00with Cabinet")
    assert outcome.outcome == "accepted"
    async with app.db.unit(write=False) as store:
        [note] = await store.status.notes(country="JM")
    assert note.text == "Draft strategy with Cabinet"
    outcome = await say(app, CHAIR, "!broadcast \x00")
    assert outcome.outcome == "invalid", outcome.replies[0].message.body


def test_the_html_checker_catches_what_it_must():
    assert html_problems("<p>fine <b>bold</b> <a href='https://x.org'>link</a></p>") == []
    assert html_problems("<script>x</script>")
    assert html_problems('<a href="javascript:alert(1)">x</a>')
    assert html_problems('<img src="x" onerror="alert(1)">')
    assert html_problems("<iframe></iframe>")


async def test_a_failing_homeserver_holds_every_send_at_the_gate():
    gate = RateGate()
    delay = gate.failed()
    assert 1.0 <= delay <= 1.3
    started = time.monotonic()
    async with gate.passage():
        waited = time.monotonic() - started
    assert waited >= delay - 0.05, "sends wait out the failure together"
    assert 2.0 <= gate.failed() <= 2.6, "and back off as one"
    gate.passed()
    assert gate.failed() <= 1.3, "a success resets the backoff"
    await asyncio.sleep(0)


async def test_a_held_gate_lets_the_oldest_message_through_first():
    """Under a rate limit, sends pass in the order they were written (a broadcast's
    breadth-first order), whatever order they reach the gate in."""
    gate = RateGate()
    gate.limited(0.01)
    holding, release = asyncio.Event(), asyncio.Event()
    passed: list[int] = []

    async def send(priority: int) -> None:
        async with gate.passage(priority):
            passed.append(priority)
            if priority == 0:
                holding.set()
                await release.wait()

    first = asyncio.create_task(send(0))
    await holding.wait()
    others = [asyncio.create_task(send(p)) for p in (5, 3, 9, 1)]
    await asyncio.sleep(0)  # all four wait at the gate
    cancelled = asyncio.create_task(send(2))
    await asyncio.sleep(0)
    cancelled.cancel()  # one gives up while waiting: the others still pass
    release.set()
    await asyncio.wait_for(asyncio.gather(first, *others), 30)
    assert passed == [0, 1, 3, 5, 9]


async def test_a_refused_send_keeps_its_turn_and_a_forgotten_one_frees_the_gate():
    """Refused by a 429, a send notes the attempt (an await) and comes back: it must not
    lose the one slot the limit allows to the next in line, round after round."""
    gate = RateGate()
    gate.limited(0.01)
    passed: list[str] = []
    b_waiting = asyncio.Event()

    async def refused_then_sent() -> None:
        async with gate.passage(5) as turn:
            passed.append("A refused")
            await b_waiting.wait()  # B is at the gate now
            turn.again()
        await asyncio.sleep(0.05)  # notes the attempt
        async with gate.passage(5):
            passed.append("A sent")

    async def later() -> None:
        b_waiting.set()
        async with gate.passage(7):
            passed.append("B sent")

    first = asyncio.create_task(refused_then_sent())
    await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(first, later()), 30)
    assert passed == ["A refused", "A sent", "B sent"]

    passed.clear()

    async def refused_then_gone() -> None:
        async with gate.passage(1) as turn:
            turn.again()
        gate.forget(1)  # it failed for good instead of coming back

    await refused_then_gone()
    async with asyncio.timeout(30):
        async with gate.passage(9):
            passed.append("C sent")
    assert passed == ["C sent"]
