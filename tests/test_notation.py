"""The bot's own notation read back, and what phones and people type (issue 40): labels as
the bot writes them, links without https://, typographic quotes and dashes, and an
incident's state said in the first word of an update, in the bot's four languages."""

from __future__ import annotations

import pytest

from commands.tlp import LEVELS
from storage.visibility import InFull
from tests.helpers import JM1, say, text_of

EVERYTHING = InFull(frozenset(LEVELS))


async def incident(app, number=1):
    async with app.db.unit(write=False) as store:
        found = await store.incidents.get(number)
        return found, (await store.incidents.history(found) if found else [])


@pytest.mark.parametrize(
    ("words", "level"),
    [
        ("TLP:AMBER Phishing wave", "amber"),
        ("[TLP:GREEN] Phishing wave", "green"),
        ("Phishing wave tlp:amber+strict", "amber+strict"),
        ("Phishing [TLP:CLEAR]. wave", "clear"),
        ("tlp=green Phishing TLP:GREEN wave", "green"),  # said twice, the same
        ("TLP:AMBER tlp=amber Phishing wave", "amber"),
        ("tlp=amber+strict Phishing wave [TLP:AMBER-STRICT]", "amber+strict"),  # its alias
    ],
)
async def test_a_label_written_as_the_bot_writes_it_is_the_label(app, words, level):
    outcome = await say(app, JM1, f"!incident new severity=high {words}")
    assert outcome.outcome == "accepted", text_of(outcome)
    found, _ = await incident(app)
    assert (found.tlp, found.title) == (level, "Phishing wave")


@pytest.mark.parametrize("words", ["tlp=green TLP:AMBER Phishing", "TLP:RED tlp=green Phishing"])
async def test_two_labels_that_disagree_are_refused(app, words):
    outcome = await say(app, JM1, f"!incident new severity=high {words}")
    assert outcome.outcome == "invalid"
    assert "two labels are given" in text_of(outcome)
    assert (await incident(app))[0] is None


async def test_a_label_word_where_the_command_takes_none_is_text(app):
    await say(app, JM1, "!incident new severity=low tlp=green Phishing")
    await say(app, JM1, "!incident update INC-1 mentioned as TLP:RED by a partner")
    _, history = await incident(app)
    assert history[-1].note == "mentioned as TLP:RED by a partner"


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("“CSIRT set-up”", "CSIRT set-up"),
        ('"CSIRT set-up"', "CSIRT set-up"),
        ("„CSIRT set-up“", "CSIRT set-up"),
        ('"CSIRT" and "CERT" set-up', '"CSIRT" and "CERT" set-up'),  # not one quoted text
        ("CSIRT “set-up”", "CSIRT “set-up”"),
    ],
)
async def test_a_text_typed_in_one_pair_of_quotes_is_the_text(app, typed, title):
    outcome = await say(app, JM1, f"!incident new severity=low tlp=green {typed}")
    assert outcome.outcome == "accepted", text_of(outcome)
    assert (await incident(app))[0].title == title


async def test_typographic_dashes_are_dashes_where_the_bot_reads_words(app):
    outcome = await say(app, JM1, "!status set legal.strategy in–progress")
    assert outcome.outcome == "accepted", text_of(outcome)
    await say(app, JM1, "!incident new severity=low tlp=amber—strict Phishing — wave")
    found, _ = await incident(app)
    assert (found.tlp, found.title) == ("amber+strict", "Phishing — wave"), "text kept"
    outcome = await say(app, JM1, "!incident update INC–1 status=contained noted")
    assert outcome.outcome == "accepted", text_of(outcome)


@pytest.mark.parametrize(
    ("link", "kept"),
    [
        ("www.gov.jm/strategy.pdf", "https://www.gov.jm/strategy.pdf"),
        ("WWW.gov.jm/a", "https://WWW.gov.jm/a"),
        ("https://gazette.gov.jm/act-12", "https://gazette.gov.jm/act-12"),
    ],
)
async def test_a_link_as_people_write_it_is_a_web_link(app, link, kept):
    outcome = await say(app, JM1, f"!status set legal.strategy met evidence={link}")
    assert outcome.outcome == "accepted", text_of(outcome)
    async with app.db.unit(write=False) as store:
        (update,) = [u for u in await store.status.latest("JM") if u.item_id == "legal.strategy"]
    assert update.evidence == kept


@pytest.mark.parametrize(
    ("words", "status", "note"),
    [
        ("contained", "contained", ""),
        ("resolved, domains taken down", "resolved", "domains taken down"),
        ("Contained: sinkholed", "contained", "sinkholed"),
        ("résolu, domaines retirés", "resolved", "domaines retirés"),
        ("resolu - domaines retirés", "resolved", "domaines retirés"),
        ("maîtrisé", "contained", ""),
        ("opgelost: domeinen offline", "resolved", "domeinen offline"),
        ("ingedamd", "contained", ""),
        ("resuelto, dominios retirados", "resolved", "dominios retirados"),
        ("contenido — bloqueado", "contained", "bloqueado"),
    ],
)
async def test_a_state_said_first_changes_the_state_and_says_so(app, words, status, note):
    await say(app, JM1, "!incident new severity=low tlp=green Phishing")
    outcome = await say(app, JM1, f"!incident update 1 {words}")
    assert outcome.outcome == "accepted", text_of(outcome)
    assert f"(status {status})" in text_of(outcome)
    found, history = await incident(app)
    assert (found.status, history[-1].note) == (status, note)


@pytest.mark.parametrize("word", ["closed", "Closed, all clear", "fermé", "gesloten", "cerrado"])
async def test_closed_said_first_is_answered_with_the_command_that_closes(app, word):
    await say(app, JM1, "!incident new severity=low tlp=green Phishing")
    outcome = await say(app, JM1, f"!incident update INC-1 {word}")
    assert outcome.outcome == "invalid"
    assert "!incident close INC-1" in text_of(outcome)
    found, history = await incident(app)
    assert found.status == "open" and len(history) == 1, "nothing recorded"


async def test_a_state_word_that_starts_a_sentence_is_kept_with_a_hint(app):
    await say(app, JM1, "!incident new severity=low tlp=green Phishing")
    outcome = await say(app, JM1, "!incident update INC-1 Resolved DNS points elsewhere now")
    assert outcome.outcome == "accepted"
    assert "!incident update INC-1 status=resolved" in text_of(outcome)
    found, history = await incident(app)
    assert (found.status, history[-1].note) == ("open", "Resolved DNS points elsewhere now")


# The plan's names


async def item_set(app, words):
    outcome = await say(app, JM1, f"!status set {words}")
    async with app.db.unit(write=False) as store:
        latest = {u.item_id: u.state for u in await store.status.latest("JM")}
    return outcome, latest


@pytest.mark.parametrize(
    ("words", "item_id"),
    [
        ("National Cyber Security Strategy met", "legal.strategy"),
        ("national cyber security strategy in progress Draft", "legal.strategy"),
        ("cyber security strategy met", "legal.strategy"),
        ("Stratégie nationale de cybersécurité met", "legal.strategy"),  # French
        ("Nationale cyberbeveiligingsstrategie met", "legal.strategy"),  # Dutch
        ("estrategia nacional de ciberseguridad met", "legal.strategy"),  # Spanish
        ("Data Privacy Act met", "legal.privacy"),
        ("privacy met", "legal.privacy"),
        ("cybercrime met", "legal.cybercrime"),  # the item whose ID ends so
        ("18 met", "legal.strategy"),  # its number in the catalogue
        ("LEGAL.STRATEGY met", "legal.strategy"),
    ],
)
async def test_an_item_by_its_name_in_any_language_or_its_number(app, words, item_id):
    outcome, latest = await item_set(app, words)
    assert outcome.outcome == "accepted", text_of(outcome)
    assert list(latest) == [item_id]
    assert f"({item_id}) is now" in text_of(outcome), "the reply names it, with its ID"


async def test_an_ambiguous_name_lists_the_candidates_with_their_numbers(app):
    outcome, latest = await item_set(app, "strategy met")
    assert outcome.outcome == "invalid" and latest == {}
    said = text_of(outcome)
    assert "'strategy' could be several items" in said
    assert "6. awareness.strategy (Public awareness strategy)" in said
    assert "18. legal.strategy (National Cyber Security Strategy)" in said
    picked, latest = await item_set(app, "6 met")
    assert picked.outcome == "accepted" and list(latest) == ["awareness.strategy"]


async def test_an_ambiguous_name_is_listed_in_the_readers_language(app):
    await say(app, JM1, "!lang fr", room="!dm-jm1", kind="direct")
    outcome = await say(app, JM1, "!status set strategie met", room="!dm-jm1", kind="direct")
    assert "18. legal.strategy (Stratégie nationale de cybersécurité)" in text_of(outcome)


async def test_an_unknown_item_is_named_as_typed_with_the_closest_ids(app):
    outcome, _ = await item_set(app, "legal.stratgy met Approved by Cabinet")
    assert "unknown item 'legal.stratgy'; did you mean legal.strategy" in text_of(outcome)


async def test_an_incidents_update_is_answered_in_the_readers_language(app):
    await say(app, JM1, "!lang fr", room="!dm-jm1", kind="direct")
    await say(app, JM1, "!incident new severity=low tlp=green Phishing", room="!dm-jm1",
              kind="direct")  # fmt: skip
    outcome = await say(app, JM1, "!incident update 1 contenu", room="!dm-jm1", kind="direct")
    assert "✅ INC-1 mis à jour (statut contained). [TLP:GREEN]" in text_of(outcome)
    closed = await say(app, JM1, "!incident close 1 Domaines retirés", room="!dm-jm1",
                       kind="direct")  # fmt: skip
    assert "✅ INC-1 clos. [TLP:GREEN]" in text_of(closed)
