"""The region's languages: catalogues, plural forms, dates, fallbacks, and who reads what in
which language (a person's DM in theirs, a room in the room's)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po, write_po
from jinja2 import Environment

from bot.rendering import Renderer
from commands import i18n
from commands.framework import View
from commands.i18n import Deferred, Moment
from commands.values import RoomKind
from tests.helpers import CHAIR, JM1, TT1, Postman, say, text_of
from tests.test_deadlines import Mailbox, add, run

TEMPLATES = Path(__file__).resolve().parent.parent / "bot" / "templates"
FAMILY_TEMPLATES = sorted(TEMPLATES.parent.parent.glob("commands/*/templates"))
ZONE = ZoneInfo("America/Port_of_Spain")
DUE = datetime(2026, 12, 15, 21, tzinfo=UTC)  # Tue 15 Dec 2026 17:00 in Port of Spain
SHIPPED = ("en", "fr", "nl", "es")


def catalogue(lang: str):
    path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        return read_po(f)


def test_the_region_s_languages_are_shipped():
    assert set(SHIPPED) <= set(i18n.languages())
    assert i18n.name_of("fr") == "français" and i18n.name_of("nl") == "Nederlands"


@pytest.mark.parametrize("lang", SHIPPED[1:])
def test_every_template_message_has_an_entry_in_every_catalogue(lang):
    """No template asks a catalogue for a message it does not have: a message is either
    translated or, marked as waiting for a translator, shown in English."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    env.policies["ext.i18n.trimmed"] = True
    entries = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalogue(lang)}
    missing = []
    templates = sorted(p for root in (TEMPLATES, *FAMILY_TEMPLATES) for p in root.rglob("*.j2"))
    assert len(templates) > 100
    for path in templates:
        for _line, func, message in env.extract_translations(path.read_text()):
            msgid = message[0] if isinstance(message, tuple) else message
            if func == "pgettext":
                continue  # catalogue words are looked up by the `item` filter, below
            if msgid and (None, msgid) not in entries:
                missing.append(f"{path.name}: {msgid!r}")
    assert missing == []


@pytest.mark.parametrize("lang", SHIPPED)
def test_the_alert_templates_render_in_every_language(lang):
    renderer = Renderer(ZONE)
    reminder = {
        "kind": "overdue", "round": 0, "country": "Haiti", "user": "@ht1:x", "title": "Q4",
        "id": "DL-1", "due": Moment(DUE, ZONE, "%a %-d %b %Y %H:%M", True),
        "local_due": None, "since": Moment(DUE, ZONE, "%-d %b %Y"), "prefix": "!",
        "late": None,
    }  # fmt: skip
    broadcast = {
        "exercise": False, "round": 0, "country": None, "severity": "critical",
        "id": "BC-1", "tlp": "TLP:AMBER", "sender": "@chair:x", "message": "Patch now",
        "personal": "@ht1:x", "audience": "", "recipients": [], "by_email": 0,
    }  # fmt: skip
    for template, data in (("deadlines/reminder", reminder), ("broadcast/message", broadcast)):
        message = renderer.render(View(template, data), lang)
        assert "%(" not in message.body and "{" not in message.body
        assert "DL-1" in message.body or "BC-1" in message.body
    english = renderer.render(View("deadlines/reminder", reminder), "en").body
    translated = renderer.render(View("deadlines/reminder", reminder), lang).body
    assert (translated == english) is (lang == "en")


def test_plural_forms_follow_each_language():
    renderer = Renderer(ZONE)

    def hidden(lang: str, n: int) -> str:
        data = {"rows": [], "searched": "", "hidden": n, "carried": ""}
        return renderer.render(View("lessons/list", data), lang).body.splitlines()[-1]

    assert hidden("fr", 1).startswith("1 leçon n'est pas affichée")
    assert hidden("fr", 2).startswith("2 leçons ne sont pas affichées")
    assert hidden("nl", 1).startswith("1 les wordt")
    assert hidden("nl", 2).startswith("2 lessen worden")
    assert hidden("es", 2).startswith("2 lecciones no se muestran")
    assert hidden("en", 1).startswith("1 lesson is") and hidden("en", 3).startswith("3 lessons")


def test_dates_and_times_in_the_reader_s_language():
    due = Moment(DUE, ZONE, "%a %-d %b %Y %H:%M", show_zone=True)
    expected = {
        "en": "Tue 15 Dec 2026 17:00 (America/Port_of_Spain)",
        "fr": "mar. 15 déc. 2026 17:00 (America/Port_of_Spain)",
        "nl": "di 15 dec 2026 17:00 (America/Port_of_Spain)",
        "es": "mar 15 dic 2026 17:00 (America/Port_of_Spain)",
    }
    for lang, text in expected.items():
        with i18n.speaking(lang):
            assert str(due) == text
            assert i18n.when(DUE, ZONE, "%B %Y").lower() in {
                "december 2026", "décembre 2026", "diciembre de 2026", "diciembre 2026",
            }  # fmt: skip
    with i18n.speaking("fr"):
        assert i18n.when(DUE, ZONE, "%-d %b %Y %H:%M %Z") == "15 déc. 2026 17:00 AST"


def test_a_missing_translation_is_english_never_an_identifier():
    with i18n.speaking("fr"):
        assert i18n._("a message no catalogue has") == "a message no catalogue has"
        assert str(Deferred(lambda: i18n._("no such message"))) == "no such message"
        assert i18n._("Deadlines") == "Échéances"
    with i18n.speaking("xx"):  # not a language the bot speaks: English
        assert i18n.current() == "en" and i18n._("Deadlines") == "Deadlines"


def test_the_catalogue_words_are_translated_english_stays_the_source():
    renderer = Renderer(ZONE)
    for lang, name in (("fr", "Sensibilisation du public"), ("es", "Concienciación pública")):
        with i18n.speaking(lang):
            assert i18n.pgettext(i18n.CATALOGUE, "Public awareness") == name
            # Text the committee adopted later, with no translation yet: English.
            assert i18n.pgettext(i18n.CATALOGUE, "A standard adopted by vote") == (
                "A standard adopted by vote"
            )
    data = {
        "country": "Haiti (HT)", "met": 0, "applicable": 1, "catalogue": "version 1",
        "mine": False, "standing": "0 of 1",
        "areas": [{"name": "Legal Environment", "items": [
            {"symbol": "🔴", "id": "legal.privacy", "state": "not-started", "standard":
             "Legislation enacted", "status": "illustrative"}]}],
    }  # fmt: skip
    body = renderer.render(View("status/gaps", data), "fr").body
    assert "Environnement juridique" in body and "requis : Législation promulguée" in body
    assert "legal.privacy" in body and "not-started" in body  # command words stay English


def test_a_fifth_language_is_a_catalogue_file(tmp_path, monkeypatch):
    """Portuguese, added by dropping a catalogue in: no code changes."""
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR, locale)
    po = catalogue("fr")
    po.locale = "pt"
    for message in po:
        if message.id:
            message.string = "" if isinstance(message.id, str) else ("", "")
    po["Deadlines"].string = "Prazos"
    target = locale / "pt" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True)
    with target.open("wb") as f:
        write_po(f, po)
    monkeypatch.setattr(i18n, "LOCALE_DIR", locale)
    i18n.languages.cache_clear()
    i18n.translations.cache_clear()
    try:
        assert "pt" in i18n.languages() and i18n.known("PT") == "pt"
        with i18n.speaking("pt"):
            assert i18n._("Deadlines") == "Prazos"
            assert i18n._("Reminder for %(country)s") == "Reminder for %(country)s"
            assert i18n.when(DUE, ZONE, "%-d %b") == "15 dez."
    finally:
        i18n.languages.cache_clear()
        i18n.translations.cache_clear()


# -- who reads what, in which language ------------------------------------------------------


async def test_lang_is_per_person_and_answers_in_the_new_language(app):
    shown = await say(app, JM1, "!lang", room="!dm-jm1", kind="direct")
    assert "I write to you in English (en)" in text_of(shown)
    assert "fr (français)" in text_of(shown) and "nl (Nederlands)" in text_of(shown)
    changed = await say(app, JM1, "!lang FR", room="!dm-jm1", kind="direct")
    assert text_of(changed) == "✅ Désormais, je vous écris en français."
    # In a direct message the bot now answers in French, command words unchanged.
    wrong = await say(app, JM1, "!status set nosuch.item met", room="!dm-jm1", kind="direct")
    assert "Syntaxe : !status set" in text_of(wrong)
    # In the RCC room it answers in the room's language.
    help_ = await say(app, JM1, "!help")
    assert "Commands you can use (NCPOC):" in text_of(help_)
    assert (await say(app, JM1, "!lang de", room="!dm-jm1", kind="direct")).outcome == "invalid"


async def test_help_in_the_person_s_language(app):
    await say(app, JM1, "!lang es", room="!dm-jm1", kind="direct")
    listed = text_of(await say(app, JM1, "!help", room="!dm-jm1", kind="direct"))
    assert "Comandos que puede usar (NCPOC):" in listed
    assert "• !ack — acusar recibo de un mensaje de emergencia" in listed
    assert "Para empezar:" in listed and "• incidents — incidentes compartidos" in listed
    assert "Escriba !help <command> para ver un comando completo." in listed


async def test_the_chair_sets_a_room_s_language(app):
    assert (await say(app, JM1, "!lang room fr")).outcome == "refused"
    said = await say(app, CHAIR, "!lang room fr")
    assert text_of(said) == "✅ Dans ce salon, j'écris désormais en français."
    assert "Commandes que vous pouvez utiliser" in text_of(await say(app, TT1, "!help"))
    # A direct message stays in the person's own language.
    mine = await say(app, TT1, "!help", room="!dm-tt1", kind="direct")
    assert "Commands you can use" in text_of(mine)


async def test_a_french_ncpoc_s_reminder_is_in_french_with_a_french_date(app, clock):
    mailbox = Mailbox(app)
    await say(app, JM1, "!lang fr", room="!dm-jm1", kind="direct")
    deadline = await add(app, "!deadline add 2026-12-15 Q4 report")
    clock.current = datetime(2026, 12, 14, 21, tzinfo=UTC)
    await run(app, deadline)
    await mailbox.take()
    bodies = mailbox.bodies()
    assert "⏰ Rappel pour Jamaica" in bodies[JM1]
    assert "est dû mar. 15 déc. 2026 17:00 (America/Port_of_Spain)" in bodies[JM1]
    assert (
        "En Jamaica, cela correspond à mar. 15 déc. 2026 16:00 (America/Jamaica)" in (bodies[JM1])
    )
    assert "⏰ Reminder for Trinidad and Tobago" in bodies[TT1]  # TT1 reads English
    assert "is due Tue 15 Dec 2026 17:00" in bodies[TT1]


async def test_a_broadcast_dm_in_french_while_the_room_copy_stays_english(app):
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    postman = Postman(app)
    await say(app, JM1, "!lang fr", room="!dm-jm1", kind="direct")
    outcome = await say(app, CHAIR, "!broadcast severity=critical Patch VPN appliances now")
    assert outcome.outcome == "accepted", text_of(outcome)
    await app.jobs.run("broadcast", 1)
    sent = await postman.deliver_all()
    room = text_of(outcome)
    assert "🚨 CRITICAL broadcast BC-1 [TLP:AMBER] from @chair:test.org" in room
    assert "Acknowledge with: !ack BC-1" in room
    bodies = {row.room_id: json.loads(row.content)["body"] for row in sent}
    french = bodies["!dm-@jm1:test.org"]
    assert "Diffusion CRITICAL BC-1 [TLP:AMBER] de @chair:test.org" in french
    assert "Accusez réception avec : !ack BC-1" in french
    assert "Patch VPN appliances now" in french  # the chair's words are not translated
    assert "Acknowledge with: !ack BC-1" in bodies["!dm-@tt1:test.org"]
    # "reçu" is an acknowledgement, whatever the language of the one who sends it.
    acked = await say(app, JM1, "reçu", room="!dm-@jm1:test.org", kind="direct")
    assert acked is not None and acked.outcome == "accepted"


LISTINGS = (
    "!roster", "!contacts", "!meetings", "!actions all", "!motions", "!decisions",
    "!projects", "!projects overlap", "!gaps", "!digest", "!standards", "!gaps JM",
)  # fmt: skip


@pytest.mark.parametrize("lang", SHIPPED[1:])
async def test_what_the_chair_reads_in_a_room_is_in_the_room_s_language(app, lang):
    """Listings, the digest and the matrix: each one reads differently in the room's language,
    with every placeholder filled (a message ID or a `%(name)s` never shows)."""
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    english = {command: text_of(await say(app, CHAIR, command)) for command in LISTINGS}
    assert (await say(app, CHAIR, f"!lang room {lang}")).outcome == "accepted"
    for command in LISTINGS:
        said = await say(app, CHAIR, command)
        body = text_of(said)
        assert said.outcome == "accepted", (command, body)
        assert "%(" not in body and ")s" not in body, (command, body)
        assert body != english[command], (command, body)


async def test_the_digest_s_files_are_in_the_language_of_its_room(app, tmp_path):
    """The HTML report and the heatmap go with the message in the room's language; the
    picture is drawn by a child process, in that language too."""
    from bot.files import render_file

    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    postman = Postman(app)
    assert (await say(app, CHAIR, "!lang room nl")).outcome == "accepted"
    assert (await say(app, CHAIR, "!digest")).outcome == "accepted"
    files = [json.loads(row.content) for row in await postman.deliver_all() if row.kind == "file"]
    assert {f["renderer"] for f in files} == {"digest-html", "digest-png"}
    for spec in files:
        assert spec["lang"] == "nl"
        made = render_file(app.renderer, spec["renderer"], spec["data"], spec["lang"])
        if spec["renderer"] == "digest-html":
            page = made.decode()
            assert '<html lang="nl">' in page and "Samenvatting voor de Stuurgroep" in page
            assert "Digest for the Steering Committee" not in page
        else:
            assert made.startswith(b"\x89PNG")
            (tmp_path / "heatmap-nl.png").write_bytes(made)


@pytest.mark.parametrize(
    ("lang", "late", "took", "ago_words"),
    [
        ("en", "1 day 17 hours", "1m 05s", "3d ago"),
        ("fr", "1\xa0jour 17\xa0heures", "1min 05s", "il y a 3j"),
        ("nl", "1 dag 17 uur", "1 m 05 s", "3 d geleden"),
        ("es", "1 día 17 horas", "1min 05s", "hace 3d"),
    ],
)
def test_durations_are_written_one_way_in_each_language(lang, late, took, ago_words):
    """One formatter, on CLDR's unit patterns and plural rules: no English plural by hand."""
    from datetime import datetime, timedelta

    from bot.rendering import ago
    from commands.broadcast.rollcall import elapsed
    from commands.digest.data import _late

    now = datetime(2026, 12, 7, 12, 0)
    with i18n.speaking(lang):
        assert _late(timedelta(days=1, hours=17, minutes=20)) == late
        assert elapsed(timedelta(minutes=1, seconds=5)) == took
        assert ago(now - timedelta(days=3, hours=5), now) == ago_words
        assert i18n.span(timedelta(days=1)) != i18n.span(timedelta(days=2))  # plural forms


def test_the_language_choice_names_every_language_the_bot_speaks():
    from commands.languages import language

    assert sorted(language.label.strip("<>").split("|")) == sorted(i18n.languages())
