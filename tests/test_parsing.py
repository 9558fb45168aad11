"""The command parser: a table of good and bad inputs, and a property test."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.framework import ANYONE, ArgumentError, Opt, ParseEnv, Pos, Router, Text
from commands.parsing import (
    IncompleteCommand,
    Registry,
    UnknownCommand,
    parse,
    strip_reply_fallback,
    tokenize,
)
from commands.reference import load_reference
from commands.types import choice, country, csv, duration, typed_id, user_id, yes_no
from commands.values import ShortId

router = Router("sample")


async def _noop(ctx, **kwargs):
    return None


def _declare(name, params, **kw):
    router.command(name, summary="s", roles=ANYONE, example="!x", params=params, **kw)(_noop)


_declare(
    "incident new",
    [
        Opt("severity", choice("low", "medium", "high", "critical"), "<sev>", required=True),
        Opt("tlp", choice("clear", "green", "amber", "amber+strict", "red"), "<tlp>", True),
        Opt("countries", csv(country), "JM,TT"),
        Text("title", "title"),
    ],
)
_declare("incident show", [Pos("id", typed_id(ShortId.INC), "INC-n")])
_declare("incident list", [Pos("which", choice("open", "all"), "open|all", optional=True)])
_declare("status", [Pos("country", country, "country", optional=True, words=5)])
_declare(
    "status set",
    [
        Pos("item", lambda t, e: t.lower(), "item"),
        Pos("state", choice("met", "n/a"), "state"),
        Opt("country", country, "XX"),
        Text("note", "note", required=False),
    ],
)
_declare("status submit", [Text("note", "note", required=False)])
_declare("broadcast", [Opt("exercise", yes_no, "yes"), Text("message", "message")])
_declare("broadcast status", [Pos("id", typed_id(ShortId.BC), "BC-n", optional=True)])
_declare("remind", [Opt("every", duration, "7d"), Pos("who", user_id, "@u:s")])
_declare("roster", [])
router.alias("incident", "inc")

REGISTRY = Registry([router])
ENV = ParseEnv(load_reference(), ZoneInfo("America/Port_of_Spain"), lambda: datetime.now(UTC))


def run(body: str):
    inv = parse(body, REGISTRY, ENV)
    return None if inv is None else (inv.command.name, inv.arguments)


GOOD = [
    ("!roster", ("roster", {})),
    ("!ROSTER", ("roster", {})),
    ("  !roster  ", ("roster", {})),
    ("!ros", ("roster", {})),
    (
        "!incident new severity=high tlp=amber Tax portal down",
        (
            "incident new",
            {"severity": "high", "tlp": "amber", "countries": None, "title": "Tax portal down"},
        ),
    ),
    (
        "!inc n tlp=RED title words severity=Critical",
        (
            "incident new",
            {"severity": "critical", "tlp": "red", "countries": None, "title": "title words"},
        ),
    ),
    (
        "!incident new severity=low tlp=green countries=jm,Trinidad and Tobago down",
        (
            "incident new",
            {
                "severity": "low",
                "tlp": "green",
                "countries": [
                    ENV.reference.countries.by_code["JM"],
                    ENV.reference.countries.by_code["TT"],
                ],
                "title": "and Tobago down",
            },
        ),
    ),
    (
        '!incident new severity=low tlp=green countries="JM,Trinidad and Tobago" Down',
        (
            "incident new",
            {
                "severity": "low",
                "tlp": "green",
                "countries": [
                    ENV.reference.countries.by_code["JM"],
                    ENV.reference.countries.by_code["TT"],
                ],
                "title": "Down",
            },
        ),
    ),
    (
        "!incident new severity=low tlp=clear see x=y and “quoted words”",
        (
            "incident new",
            {
                "severity": "low",
                "tlp": "clear",
                "countries": None,
                "title": "see x=y and “quoted words”",
            },
        ),
    ),
    ("!incident show inc-12", ("incident show", {"id": 12})),
    ("!incident show INC-7", ("incident show", {"id": 7})),
    ("!incident list", ("incident list", {"which": None})),
    ("!incident list ALL", ("incident list", {"which": "all"})),
    ("!status", ("status", {"country": None})),
    ("!status jamaica", ("status", {"country": ENV.reference.countries.by_code["JM"]})),
    ("!status St. Lucia", ("status", {"country": ENV.reference.countries.by_code["LC"]})),
    (
        "!status trinidad AND tobago",
        ("status", {"country": ENV.reference.countries.by_code["TT"]}),
    ),
    (
        "!status set legal.strategy met Cabinet approved it\nin March",
        (
            "status set",
            {
                "item": "legal.strategy",
                "state": "met",
                "country": None,
                "note": "Cabinet approved it\nin March",
            },
        ),
    ),
    (
        "!status set legal.strategy n/a country=TT",
        (
            "status set",
            {
                "item": "legal.strategy",
                "state": "n/a",
                "country": ENV.reference.countries.by_code["TT"],
                "note": "",
            },
        ),
    ),
    ("!status sub don't forget", ("status submit", {"note": "don't forget"})),
    (
        "> <@chair:x> earlier text\n> more\n\n!status submit done",
        ("status submit", {"note": "done"}),
    ),
    ("!broadcast status", ("broadcast status", {"id": None})),
    ("!broadcast status BC-2", ("broadcast status", {"id": 2})),
    (
        "!broadcast stand by exercise=yes",
        ("broadcast", {"exercise": True, "message": "stand by"}),
    ),
    ("!broadcast st now", ("broadcast", {"exercise": None, "message": "st now"})),
    (
        "!remind @a:b.org every=1d12h",
        ("remind", {"who": "@a:b.org", "every": timedelta(days=1, hours=12)}),
    ),
    ("hello !roster", None),
    ("!", None),
    ("!!!", None),
    ("", None),
]


@pytest.mark.parametrize(("body", "expected"), [g for g in GOOD if g[1] is not None])
def test_good_inputs(body, expected):
    assert run(body) == expected


@pytest.mark.parametrize("body", [g[0] for g in GOOD if g[1] is None])
def test_not_commands(body):
    assert run(body) is None


BAD = [
    ("! roster", ArgumentError, "write commands without a space after !: !roster"),
    ("!nosuch", UnknownCommand, "unknown command !nosuch"),
    ("!rostr", UnknownCommand, "Did you mean !roster"),
    ("!incident", IncompleteCommand, "needs one of: list, new, show"),
    ("!incident frobnicate", IncompleteCommand, "'frobnicate' is not one of them"),
    ("!incident new tlp=red Title", ArgumentError, "missing severity="),
    ("!incident new severity=high Title", ArgumentError, "missing tlp="),
    ("!incident new severity=huge tlp=red T", ArgumentError, "severity=: 'huge' is not one of"),
    ("!incident new severity=high tlp= T", ArgumentError, "tlp= needs a value"),
    ("!incident new severity=high severity=low tlp=red T", ArgumentError, "given twice"),
    ("!incident new severity=high tlp=red", ArgumentError, "missing title"),
    ("!incident new severity=high tlp=red countries=XX T", ArgumentError, "unknown country"),
    ("!incident show", ArgumentError, "missing INC-n"),
    ("!incident show 12x", ArgumentError, "not an ID like INC-12"),
    ("!incident show INC-1 extra", ArgumentError, "unexpected 'extra'"),
    ("!incident list some", ArgumentError, "'some' is not one of: open, all"),
    ("!incident list open foo=bar", ArgumentError, "takes no options"),
    ("!status St. Lucia please", ArgumentError, "unexpected 'please'"),
    ("!status Saint Atlantis", ArgumentError, "unknown country 'Saint Atlantis'"),
    ("!status Atlantis", ArgumentError, "unknown country 'Atlantis'"),
    ("!status set legal.strategy", ArgumentError, "missing state"),
    ("!status set legal.strategy done", ArgumentError, "'done' is not one of"),
    ("!broadcast", ArgumentError, "missing message"),
    ("!broadcast exercise=maybe go", ArgumentError, "not yes or no"),
    ("!remind someone", ArgumentError, "not a Matrix user ID"),
    ("!remind @a:b every=0d", ArgumentError, "longer than zero"),
    ("!remind @a:b every=soon", ArgumentError, "not a duration"),
    ("!roster " + "x" * 20_001, ArgumentError, "too long"),
]


@pytest.mark.parametrize(("body", "error", "text"), BAD)
def test_bad_inputs(body, error, text):
    with pytest.raises(error) as caught:
        run(body)
    assert text in caught.value.message


def test_tokenizer_keeps_spans_and_quotes():
    tokens = tokenize('a "b c" d="e f" “g h” ’quote')
    assert [t.value for t in tokens] == ["a", "b c", "d=e f", "g h", "’quote"]
    assert [t.raw for t in tokens][1] == '"b c"'
    assert tokens[2].start == 8


def test_unbalanced_quote_is_literal():
    assert [t.value for t in tokenize('say "hello there')] == ["say", '"hello', "there"]


def test_reply_fallback_only_at_start():
    assert strip_reply_fallback("!a\n> b") == "!a\n> b"
    assert strip_reply_fallback("> quote\n\n!cmd") == "!cmd"
    assert strip_reply_fallback("> quote only") == ""


def test_usage_line_is_generated():
    command = next(c for c in REGISTRY.commands if c.name == "incident new")
    assert command.usage() == ("!incident new severity=<sev> tlp=<tlp> [countries=JM,TT] title...")


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.lists(
            st.sampled_from(
                [
                    "!",
                    "!inc",
                    "new",
                    "severity=high",
                    "tlp=",
                    "tlp=red",
                    '"',
                    "“",
                    "”",
                    "=",
                    "x=y",
                    "> q",
                    "\n",
                    "status",
                    "set",
                    "countries=JM,,",
                    "BC-",
                    "INC-99999999999",
                    "<script>",
                    "javascript:alert(1)",
                    "\u202e",
                    "\x00",
                    "broadcast",
                    "!status",
                ]
            ),
            max_size=30,
        ).map(" ".join),
    )
)
def test_parser_raises_only_its_own_errors(body):
    with contextlib.suppress(ArgumentError):
        run(body)


# --- hostile input: linear work, whatever the text holds --------------------------------------

SIZES = (1_000, 4_000, 16_000, 64_000)


def hostile(kind: str, size: int) -> str:
    """Text built to make a quote-pairing tokenizer search far for every quote."""
    pattern = {
        "unpaired „": "„",
        "unpaired “ with spaces": "“ ",
        "every quote": '"“”„',
        "opening before closing": "„" * 50 + '"',
        "escapes": '\\"\\„\\',
        "one long token": "x",
        "options": "a=„b ",
    }[kind]
    return (pattern * (size // len(pattern) + 1))[:size]


KINDS = (
    "unpaired „",
    "unpaired “ with spaces",
    "every quote",
    "opening before closing",
    "escapes",
    "one long token",
    "options",
)


@pytest.mark.parametrize("kind", KINDS)
def test_the_tokenizer_does_linear_work_on_hostile_text(kind):
    from commands.parsing import Tokenizer

    steps = {}
    for size in SIZES:
        tokenizer = Tokenizer(hostile(kind, size))
        tokenizer.tokens()
        steps[size] = tokenizer.steps
        assert tokenizer.steps <= 3 * size + 10, (kind, size, tokenizer.steps)
    # 64 times the text, at most 64 times the work (and a little for rounding)
    assert steps[64_000] <= 64 * steps[1_000] + 64, steps


def test_the_tokenizer_still_pairs_quotes_across_spaces():
    words = [t.value for t in tokenize('a „b c“ "d e" f„ g')]
    assert words == ["a", "b c", "d e", "f„", "g"]


def test_a_command_over_the_limit_is_refused_before_it_is_read():
    from commands.parsing import TooLong, find

    with pytest.raises(TooLong):
        find("!status " + "„" * 5000, REGISTRY, limit=4000)
    assert find("!status JM", REGISTRY, limit=4000).command.name == "status"
