"""Every record can be corrected, with its history kept: edits of incidents, lessons and
resources, withdrawals, `!status undo`; by the author or the chair; labels only go up unless
the original poster lowers them; a withdrawn record leaves listings, searches and digests."""

from __future__ import annotations

from datetime import timedelta

from commands.audience import FILE_AUDIENCES, Viewer
from commands.digest.data import build, digest_period
from tests.helpers import CHAIR, JM1, TT1, say, text_of


async def corrections(app, kind, number):
    async with app.db.unit(write=False) as store:
        return [
            (c.field, c.before, c.after, c.by) for c in await store.corrections.of(kind, number)
        ]


async def test_an_incident_is_corrected_with_its_history(app):
    await say(app, JM1, "!incident new severity=low tlp=green sectors=finance Tax portl down")
    edited = await say(
        app, JM1, "!incident edit INC-1 title=Tax portal down severity=high countries=JM,TT"
    )
    assert edited.outcome == "accepted", text_of(edited)
    assert "INC-1 corrected (title, countries, severity)" in text_of(edited)
    async with app.db.unit(write=False) as store:
        incident = await store.incidents.get(1)
    assert (incident.title, incident.severity) == ("Tax portal down", "high")
    assert ("title", "Tax portl down", "Tax portal down", JM1) in await corrections(
        app, "incident", 1
    )
    shown = text_of(await say(app, TT1, "!incident show INC-1"))
    assert "title was “Tax portl down”, now “Tax portal down”" in shown
    assert (await say(app, TT1, "!incident edit INC-1 severity=low")).outcome == "refused"
    by_chair = await say(app, CHAIR, "!incident edit INC-1 sectors=finance,energy")
    assert by_chair.outcome == "accepted", text_of(by_chair)
    nothing = await say(app, JM1, "!incident edit INC-1 severity=high")
    assert nothing.outcome == "invalid" and "nothing to change" in text_of(nothing)
    async with app.db.unit(write=False) as store:
        audit = [e.detail for e in await store.audit.recent() if e.action == "incident edit"]
    assert "INC-1 edit title,countries,severity" in audit


async def test_labels_only_go_up_unless_the_original_poster_lowers_them(app):
    await say(app, JM1, "!incident new severity=low tlp=amber Registrar abuse")
    lowered_by_chair = await say(app, CHAIR, "!incident edit INC-1 tlp=green")
    assert lowered_by_chair.outcome == "refused"
    assert "only its original poster may lower the label" in text_of(lowered_by_chair)
    raised = await say(app, CHAIR, "!incident edit INC-1 tlp=amber+strict")
    assert raised.outcome == "accepted", text_of(raised)
    lowered = await say(app, JM1, "!incident edit INC-1 tlp=green")
    assert lowered.outcome == "accepted", text_of(lowered)


async def test_a_lesson_is_edited_then_withdrawn_and_leaves_every_listing(app, clock):
    await say(app, JM1, "!lesson add area=coop Takedown contacts help")
    edited = await say(app, JM1, "!lesson edit LL-1 tags=registrars Pre-agreed takedown contacts")
    assert edited.outcome == "accepted", text_of(edited)
    shown = text_of(await say(app, TT1, "!lesson show LL-1"))
    assert "Pre-agreed takedown contacts" in shown and "Corrected" in shown
    assert "LL-1" in text_of(await say(app, TT1, "!lesson search takedown"))  # index follows
    assert "LL-1" not in text_of(await say(app, TT1, "!lesson search help"))
    assert (await say(app, TT1, "!lesson withdraw LL-1 wrong")).outcome == "refused"
    gone = await say(app, JM1, "!lesson withdraw LL-1 posted twice")
    assert gone.outcome == "accepted", text_of(gone)
    assert "LL-1" not in text_of(await say(app, TT1, "!lesson list"))
    assert "LL-1" not in text_of(await say(app, TT1, "!lesson search takedown"))
    assert "was withdrawn on" in text_of(await say(app, TT1, "!lesson show LL-1"))
    again = await say(app, JM1, "!lesson edit LL-1 New text")
    assert again.outcome == "invalid" and "was withdrawn" in text_of(again)
    async with app.db.unit(write=False) as store:
        data = await build(
            store, digest_period("2026-11", app.env), env=app.env, config=app.sections,
            committee="RCC", now=clock() + timedelta(days=30),
            viewer=Viewer(FILE_AUDIENCES["rcc"]),
        )  # fmt: skip
    assert data["lessons"]["total"] == 0
    assert ("withdrawn", "", "withdrawn", JM1) in await corrections(app, "lesson", 1)


async def test_a_resource_is_edited_and_withdrawn(app):
    await say(app, JM1, "!resource add kind=tool Phone imagng kit")
    edited = await say(app, JM1, "!resource edit RS-1 kind=lab Phone imaging lab")
    assert edited.outcome == "accepted", text_of(edited)
    assert "Phone imaging lab" in text_of(await say(app, TT1, "!resource search imaging"))
    assert (await say(app, JM1, "!resource withdraw RS-1 closed")).outcome == "accepted"
    assert "RS-1" not in text_of(await say(app, TT1, "!resource list"))
    assert [f for f, *_ in await corrections(app, "resource", 1)] == [
        "description", "kind", "withdrawn",
    ]  # fmt: skip


async def test_status_undo_takes_back_the_authors_last_update_within_a_day(app, clock):
    await say(app, JM1, "!status set legal.privacy in-progress")
    await say(app, JM1, "!status set legal.strategy met")  # meant legal.privacy
    undone = await say(app, JM1, "!status undo")
    assert undone.outcome == "accepted", text_of(undone)
    assert "Undone: legal.strategy met" in text_of(undone)
    assert "legal.strategy is not reported again" in text_of(undone)
    card = text_of(await say(app, JM1, "!status"))
    assert "legal.strategy — met" not in card and "legal.privacy — in-progress" in card
    again = await say(app, JM1, "!status undo")  # the one before, also within the day
    assert "Undone: legal.privacy in-progress" in text_of(again)
    await say(app, JM1, "!status set legal.policy met")
    clock.advance(timedelta(days=2))
    late = await say(app, JM1, "!status undo")
    assert late.outcome == "invalid" and "more than a day old" in text_of(late)
    async with app.db.unit(write=False) as store:
        history = await store.status.history("JM", "legal.strategy")
    assert len(history) == 1 and history[0].undone_at is not None  # kept, marked undone


async def test_a_long_lesson_is_shortened_in_lists_at_a_word(app):
    words = " ".join(["takedown"] * 40)  # 359 characters
    await say(app, JM1, f"!lesson add {words}")
    listed = text_of(await say(app, TT1, "!lesson list"))
    assert "takedown …" in listed and "takedow …" not in listed and "takedo…" not in listed
