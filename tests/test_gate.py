"""One gate for everything the bot says: no output is written without its seal, no message
template without saying what it shows, and the sender admits a message only where its room's
readers, now, fit its seal. The architecture half reads the code, as test_declarations does;
the other half drives the gate."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from bot.matrix.ports import Admission
from bot.outbox import Ungated
from commands.context import JobContext
from commands.framework import Reply, View
from commands.values import CHROME, Clearance, Seal
from tests.helpers import (
    ADMIN,
    CHAIR,
    DEFAULT_ROSTER,
    JM1,
    OUTSIDER,
    STEERING,
    TT1,
    TT2,
    say,
    text_of,
)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "bot" / "templates"
# The core's templates and each family's own folder.
TEMPLATE_ROOTS = [TEMPLATES, *sorted(ROOT.glob("commands/*/templates"))]
CODE = [p for d in ("bot", "commands") for p in (ROOT / d).rglob("*.py")]


def calls(name: str) -> list[tuple[Path, ast.Call]]:
    """Every call of a function or method named `name` in the bot's code."""
    found = []
    for path in CODE:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called == name:
                    found.append((path.relative_to(ROOT), node))
    return found


def test_every_message_template_says_what_it_shows():
    messages = [
        p for root in TEMPLATE_ROOTS for p in root.rglob("*.txt.j2") if p.parent.name != "partials"
    ]
    assert len(messages) > 50
    for path in messages:
        first = path.read_text().split("\n", 1)[0]
        assert first in ("{#- shows: records -#}", "{#- shows: chrome -#}"), path


def test_only_the_outbox_writer_writes_to_the_outbox():
    writers = {str(path) for path, _ in calls("enqueue")}
    assert writers == {"bot/outbox.py"}, writers
    made = {str(path) for path, _ in calls("OutboxMessage")}
    assert made == set(), made  # rows are made in storage.outbox alone


def test_every_reply_is_built_with_its_seal():
    for path, node in calls("Reply"):
        keywords = {k.arg for k in node.keywords}
        assert "seal" in keywords, f"{path}:{node.lineno} builds a Reply without seal="


def test_jobs_and_emails_cannot_be_written_unsealed():
    for method in (JobContext.post, JobContext.email):
        seal = inspect.signature(method).parameters["seal"]
        assert seal.default is inspect.Parameter.empty, method.__name__


async def test_the_writer_refuses_what_does_not_say_what_it_shows(app):
    async with app.db.unit() as store:
        writer = app.outbox
        with pytest.raises(Ungated, match="without a seal"):
            await writer.render(store, Reply("words", seal=None))
        with pytest.raises(Ungated, match="shows records without the label"):
            view = View("projects/list", {"rows": [], "filter": "", "hidden": 0})
            await writer.render(store, Reply(view, room_id="!r", seal=CHROME))
        with pytest.raises(Ungated, match="an email sealed amber"):
            await writer.email(
                store, to="a@b.example", subject="x", ref=None, seal=Seal("amber"),
                view=View("broadcast/email", {}),
            )  # fmt: skip
        rendered = await writer.render(store, Reply("plain words", room_id="!r", seal=CHROME))
        assert rendered.seal == CHROME


async def row(app, room: str, *, seal: Seal, to_user: str | None = None):
    async with app.db.unit() as store:
        out = await app.outbox.render(store, Reply("text", room_id=room, seal=seal))
        (written,) = await app.outbox.write(store, out)
    written.to_user = to_user
    return written


async def test_the_sender_admits_a_message_only_where_its_readers_still_fit(app):
    app.test_rooms.set("!rcc", {CHAIR, JM1, TT1})
    amber = await row(app, "!rcc", seal=Seal("amber", Clearance.RCC))
    assert await app.admits(amber) is Admission.SEND
    app.test_rooms.set("!rcc", {CHAIR, JM1, TT1, STEERING})  # someone came in meanwhile
    assert await app.admits(amber) is Admission.REFUSE
    red = await row(app, "!rcc", seal=Seal("red", Clearance.RCC, frozenset({CHAIR, JM1})))
    app.test_rooms.set("!rcc", {CHAIR, JM1})
    assert await app.admits(red) is Admission.SEND
    app.test_rooms.set("!rcc", {CHAIR, JM1, TT1})  # an NCPOC, but not one it was for
    assert await app.admits(red) is Admission.REFUSE
    private = await row(app, "!dm-chair", seal=Seal("amber+strict", Clearance.CHAIR))
    app.test_rooms.set("!dm-chair", {CHAIR})
    assert await app.admits(private) is Admission.SEND
    app.test_rooms.set("!dm-chair", {JM1})
    assert await app.admits(private) is Admission.REFUSE


async def test_a_dm_with_someone_else_in_it_is_no_dm(app):
    app.test_rooms.set("!dm-jm1", {JM1})
    copy = await row(app, "!dm-jm1", seal=CHROME, to_user=JM1)
    assert await app.admits(copy) is Admission.SEND
    app.test_rooms.set("!dm-jm1", {JM1, OUTSIDER})
    assert await app.admits(copy) is Admission.FRESH_DM
    app.test_rooms.set("!dm-jm1", {OUTSIDER})  # they left it: nobody to send it to there
    assert await app.admits(copy) is Admission.REFUSE


async def test_a_stand_in_who_left_the_roster_stands_in_for_nobody(app):
    from commands.values import RoomKind

    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    away = await say(
        app, TT1, "!away until 2026-12-30 to=@tt2:test.org", room="!dm", kind="direct"
    )
    assert away.outcome == "accepted", text_of(away)
    assert (await say(app, CHAIR, "!roster remove @tt2:test.org")).outcome == "accepted"
    app.test_rooms.set("!rcc:test.org", {CHAIR, JM1, TT1})  # and they left the RCC room
    sent = await say(app, CHAIR, "!broadcast tlp=amber Rotate the keys")
    assert sent.outcome == "accepted", text_of(sent)
    async with app.db.unit(write=False) as store:
        people = {r.user_id for r in await store.broadcasts.recipients(1)}
    assert TT1 in people and "@tt2:test.org" not in people
    assert "@tt2:test.org" not in text_of(sent)


# TLP:RED bound to people; rooms fit for it; silence that confirms nothing


async def test_red_is_refused_where_newcomers_could_read_it_back(app):
    app.test_rooms.set("!origin", {CHAIR, JM1}, history_shared=True)
    refused = await say(app, JM1, "!incident new severity=high tlp=red Leak", room="!origin")
    assert refused.outcome == "invalid", text_of(refused)
    assert "TLP:RED cannot be posted here" in text_of(refused)
    assert "new members of this room can read what was said before they joined" in text_of(refused)
    app.test_rooms.set("!origin", {CHAIR, JM1})  # history "since invited": fit for RED
    posted = await say(app, JM1, "!incident new severity=high tlp=red Leak", room="!origin")
    assert posted.outcome == "accepted", text_of(posted)


async def test_red_is_read_in_full_by_the_people_who_heard_it_and_nobody_else(app):
    app.test_rooms.set("!origin", {CHAIR, JM1})
    posted = await say(
        app, JM1, f"!incident new severity=high tlp=red for={TT1} Keys stolen", room="!origin"
    )
    assert posted.outcome == "accepted", text_of(posted)
    named = text_of(await say(app, TT1, "!incident show INC-1", room="!dm-tt1", kind="direct"))
    assert "Keys stolen" in named  # named with for=, alone in their DM
    other = text_of(await say(app, TT2, "!incident show INC-1", room="!dm-tt2", kind="direct"))
    assert "Keys stolen" not in other and "[TLP:RED]" in other and "withheld" in other
    app.test_rooms.set("!origin", {CHAIR, JM1, TT2})  # invited after it was posted
    late = text_of(await say(app, JM1, "!incident show INC-1", room="!origin"))
    assert "Keys stolen" not in late and "withheld" in late
    listed = text_of(await say(app, JM1, "!incident list all", room="!origin"))
    assert "Keys stolen" not in listed and "INC-1" in listed
    app.test_rooms.set("!origin", {CHAIR, JM1})  # they left again: its people alone
    assert "Keys stolen" in text_of(await say(app, JM1, "!incident show INC-1", room="!origin"))


async def test_a_hidden_id_and_a_missing_one_get_the_same_words(app):
    strict = await say(app, JM1, "!incident new severity=low tlp=amber+strict Quiet probe")
    assert strict.outcome == "accepted", text_of(strict)
    lesson = await say(app, JM1, "!lesson add tlp=amber+strict Patch the VPN first")
    assert lesson.outcome == "accepted", text_of(lesson)

    async def answer(text: str) -> str:
        said = await say(app, STEERING, text, room="!dm-st", kind="direct")
        return text_of(said)

    for hidden, missing in (
        ("!incident show INC-1", "!incident show INC-9"),
        ("!lesson show LL-1", "!lesson show LL-9"),
    ):
        seen, never = await answer(hidden), await answer(missing)
        assert "Quiet probe" not in seen and "VPN" not in seen and "AMBER" not in seen
        assert re.sub(r"\b(INC|LL)-1\b", r"\1-9", seen) == never
    # Filters and searches answer for what this reader may see: a hidden row matches nothing.
    found = await answer("!lesson search VPN")
    assert found == (await answer("!lesson search zebra")).replace("zebra", "VPN")


# Contact details: the chair's eyes only


async def test_contact_details_are_for_the_chair_alone_in_a_dm_nobody_else_reads(make_app):
    from tests.test_contacts import CONTACTS

    app = await make_app(roster=DEFAULT_ROSTER + CONTACTS)
    phone, email = "+18685550100", "duty@ttcsirt.example"
    alone = text_of(await say(app, CHAIR, "!contacts TT", room="!dm-chair", kind="direct"))
    assert phone in alone and email in alone
    admin = text_of(await say(app, ADMIN, "!contacts TT", room="!dm-admin", kind="direct"))
    assert "☎ on file" in admin and phone not in admin and email not in admin
    app.test_rooms.set("!dm-chair-2", {CHAIR, JM1})  # a "DM" someone else reads too
    shared = text_of(await say(app, CHAIR, "!contacts TT", room="!dm-chair-2", kind="direct"))
    assert "☎ on file" in shared and phone not in shared and email not in shared
    room = text_of(await say(app, CHAIR, "!contacts TT"))
    assert phone not in room and email not in room


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_a_message_too_long_for_one_event_is_shortened_never_refused(app, lang):
    """Synapse refuses an event over 64 KB for good (a digest of a busy quarter was, found by
    bench/soak.py): the message goes out shortened, its first lines kept, the cut said."""
    import json

    from bot.outbox import MOST_CONTENT

    lines = [f"[TLP:GREEN] INC-{n} Phishing wave against a ministry — é ü 🚨" for n in range(3000)]
    async with app.db.unit() as store:
        long = await app.outbox.render(
            store, Reply("\n".join(lines), room_id="!r", seal=CHROME, lang=lang)
        )
        edited = await app.outbox.render(
            store, Reply("\n".join(lines), room_id="!r", seal=CHROME, lang=lang, edits="$e")
        )
        short = await app.outbox.render(store, Reply("INC-1 only", room_id="!r", seal=CHROME))
        rows = [
            *await app.outbox.write(store, long),
            *await app.outbox.write(store, edited),
            *await app.outbox.write(store, short),
        ]
    for written in rows[:2]:
        content = json.loads(written.content)
        assert len(json.dumps(content)) <= MOST_CONTENT
        body = content.get("m.new_content", content)["body"]
        assert body.startswith(lines[0] + "\n" + lines[1])
        left_out = 3000 - body.count("INC-")
        said = body.splitlines()[-1]
        assert str(left_out) in said and left_out > 0
        assert ("raccourci" if lang == "fr" else "shortened") in said
    assert json.loads(rows[2].content)["body"] == "INC-1 only"
