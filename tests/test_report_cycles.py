"""Reports on their cycles (issue 36): drafted at the slot for the chair, delivered once when
approved, rebuilt when they changed, held, expired; by email at CLEAR/GREEN only, with their
files, through a real SMTP server; the yearly meeting's reminder (both backends)."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import ConfigError, load_config
from commands.values import RoomKind
from storage.feedback import ReportRecord, ReportStore
from tests.helpers import (
    CHAIR,
    JM1,
    STEERING,
    STEERING_MEMBERS,
    TT1,
    Postman,
    body_of,
    say,
    text_of,
)
from tests.test_mail import WAIT, Inbox, free_port, run_mailer, smtp_server, stop, until

STEERING_ROOM = "!steering:test.org"
SLOT = datetime(2026, 12, 1, 13, 0, 5, tzinfo=UTC)  # 1 December, 09:00 in Port of Spain
CHAIR_DM = f"!dm-{CHAIR}"


async def cycle_app(make_app, clock, cycle: str, extra: str = ""):
    app = await make_app(f'[reports]\napprove_within = "2d"\nconsle = {cycle}\n{extra}')
    app.rooms[RoomKind.STEERING] = STEERING_ROOM
    app.test_rooms.set(STEERING_ROOM, STEERING_MEMBERS)
    for who, text in (
        (JM1, "!incident new severity=high tlp=green sectors=finance Card skimming ring"),
        (TT1, "!incident new severity=high tlp=amber sectors=energy Substation probe"),
        (JM1, "!status set legal.strategy met"),
    ):
        assert (await say(app, who, text)).outcome == "accepted", text
    assert await app.jobs.run("report cycle", 1) is not None  # the first look: nothing due
    await Postman(app).deliver_all()
    clock.current = SLOT
    return app


@pytest.fixture
async def consle(make_app, clock):
    return await cycle_app(
        make_app, clock, '{ schedule = "0 9 1 * *", period = "last-30d", room = "steering" }'
    )


async def record(app, number: int = 1) -> ReportRecord:
    async with app.db.unit(write=False) as store:
        found = await store.of(ReportStore).get(number)
        assert found is not None
        return found


async def test_a_cycles_report_waits_for_the_chair_and_is_delivered_once(consle, clock):
    app, postman = consle, Postman(consle)
    await app.jobs.run("report cycle", 1)
    drafted = await postman.deliver_all()
    assert {r.room_id for r in drafted} == {CHAIR_DM}  # the chair alone: nothing delivered
    (draft,) = [r for r in drafted if r.kind == "message"]
    assert "RP-1, version 1: the consle report for the 30 days to 1 Dec 2026" in body_of(draft)
    assert "!report approve RP-1 v1" in body_of(draft)
    names = [json.loads(r.content)["filename"] for r in drafted if r.kind == "file"]
    assert "rcc-consle-last-30d.html" in names and "rcc-consle-last-30d.xlsx" in names
    await app.jobs.run("report cycle", 1)  # the same slot again, as after a restart
    assert await postman.deliver_all() == []
    assert (await record(app)).state == "draft"
    early = await say(app, STEERING, "!feedback RP-1 More on the energy sector", room="!st",
                      kind="steering")  # fmt: skip
    assert early.outcome == "invalid" and "RP-1 has not been delivered" in text_of(early)
    refused = await say(app, STEERING, "!report approve RP-1", room="!st", kind="steering")
    assert refused.outcome == "refused"
    assert not [r for r in await postman.deliver_all() if r.room_id != "!st"]
    approved = await say(app, CHAIR, "!report approve RP-1", room=CHAIR_DM, kind="direct")
    assert "RP-1 is approved and on its way to !steering:test.org" in text_of(approved)
    await app.jobs.run("report approval", 1)
    delivered = [r for r in await postman.deliver_all() if r.room_id == STEERING_ROOM]
    assert sorted(r.kind for r in delivered).count("message") == 1
    assert [json.loads(r.content)["filename"] for r in delivered if r.kind == "file"] == names
    message = next(r for r in delivered if r.kind == "message")
    assert "📄 RP-1: the consle report for the 30 days to 1 Dec 2026 [TLP:GREEN]" in body_of(
        message
    )
    assert f"approved by {CHAIR}" in body_of(message)
    done = await record(app)
    assert done.state == "delivered" and done.room_id == STEERING_ROOM
    assert done.decided_by == CHAIR
    await app.jobs.run("report approval", 1)
    assert await postman.deliver_all() == []  # once
    again = await say(app, CHAIR, "!report approve RP-1", room=CHAIR_DM, kind="direct")
    assert "RP-1 is delivered already" in text_of(again)
    fed = await say(app, STEERING, "!feedback RP-1 More on the energy sector", room="!st",
                    kind="steering")  # fmt: skip
    assert fed.outcome == "accepted", text_of(fed)


async def test_what_the_chair_approves_is_what_is_delivered_or_a_new_version(consle):
    app, postman = consle, Postman(consle)
    await app.jobs.run("report cycle", 1)
    first = await postman.deliver_all()
    html = [r for r in first if r.kind == "file" and "html" in r.content]
    assert "Card skimming ring" in json.dumps(json.loads(html[0].content)["data"])
    edited = await say(app, JM1, "!incident edit INC-1 title=Card skimming gang arrested")
    assert edited.outcome == "accepted", text_of(edited)
    await postman.deliver_all()
    refused = await say(app, CHAIR, "!report approve RP-1", room=CHAIR_DM, kind="direct")
    assert "⛔ RP-1 changed since your copy was built" in text_of(refused)
    assert "Version 2" in text_of(refused)
    resent = await postman.deliver_all()
    assert {r.room_id for r in resent} == {CHAIR_DM}  # a new version to the chair, nothing out
    assert any("RP-1, version 2" in body_of(r) for r in resent if r.kind == "message")
    old = await say(app, CHAIR, "!report approve RP-1 v1", room=CHAIR_DM, kind="direct")
    assert old.outcome == "invalid" and "at version 2 now" in text_of(old)
    ok = await say(app, CHAIR, "!report approve RP-1 v2", room=CHAIR_DM, kind="direct")
    assert ok.outcome == "accepted", text_of(ok)
    await app.jobs.run("report approval", 1)
    out = [r for r in await postman.deliver_all() if r.room_id == STEERING_ROOM]
    shown = json.dumps([json.loads(r.content) for r in out])
    assert "Card skimming gang arrested" in shown and "Card skimming ring" not in shown
    assert "Substation probe" not in shown  # AMBER: not for CONSLE's readers


async def test_a_held_report_is_never_delivered_and_a_draft_expires(consle, clock):
    app, postman = consle, Postman(consle)
    await app.jobs.run("report cycle", 1)
    await postman.deliver_all()
    held = await say(app, CHAIR, "!report hold RP-1 wait for the Q4 figures", room=CHAIR_DM,
                     kind="direct")  # fmt: skip
    assert "RP-1 is held and will not be delivered" in text_of(held)
    assert await app.jobs.run("report approval", 1) is None
    assert not [r for r in await postman.deliver_all() if r.room_id == STEERING_ROOM]
    assert (await record(app)).reason == "wait for the Q4 figures"
    clock.advance(timedelta(days=31))  # the next slot: RP-2
    await app.jobs.run("report cycle", 1)
    await postman.deliver_all()
    assert await app.jobs.run("report approval", 2) == clock() + timedelta(days=2)
    clock.advance(timedelta(days=2, minutes=1))
    await app.jobs.run("report approval", 2)
    resent = await postman.deliver_all()
    assert [r.room_id for r in resent if r.kind == "message"] == [CHAIR_DM]
    assert "Still waiting for your approval" in body_of(resent[0])
    clock.advance(timedelta(days=2))
    assert await app.jobs.run("report approval", 2) is None
    assert (await record(app, 2)).state == "expired"
    late = await say(app, CHAIR, "!report approve RP-2", room=CHAIR_DM, kind="direct")
    assert "RP-2 is expired already" in text_of(late)
    assert all(r.room_id != STEERING_ROOM for r in await postman.deliver_all())


async def test_by_email_a_report_shows_clear_and_green_only_with_its_files(make_app, clock):
    port = free_port()
    inbox = Inbox(asyncio.get_running_loop())
    smtp = f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nfrom = "rcc-bot@rcc.example"\n'  # noqa: E501
    app = await cycle_app(
        make_app, clock,
        '{ schedule = "0 9 1 * *", period = "last-30d", room = "steering", '
        'email = ["consle@consle.example"] }',
        smtp,
    )  # fmt: skip
    postman = Postman(app)
    await app.jobs.run("report cycle", 1)
    drafted = await postman.deliver_all()
    assert "as !steering:test.org + 1 email address(es) would receive it" in body_of(
        next(r for r in drafted if r.kind == "message")
    )
    assert (
        await say(app, CHAIR, "!report approve RP-1", room=CHAIR_DM, kind="direct")
    ).outcome == "accepted"
    await app.jobs.run("report approval", 1)
    with smtp_server(inbox, port):
        task = await run_mailer(app, app.config)
        try:
            async with asyncio.timeout(WAIT):
                await inbox.arrived.wait()
            await until(lambda: _none_pending(app), "the email marked sent")
        finally:
            await stop(task)
    ((to, mail),) = inbox.messages
    assert to == ["consle@consle.example"]
    assert mail["Subject"].startswith("[TLP:GREEN] ") and "(RP-1)" in mail["Subject"]
    parts = {p.get_filename(): p.get_content() for p in mail.iter_attachments()}
    assert set(parts) >= {"rcc-consle-last-30d.html", "rcc-consle-last-30d.xlsx"}
    page = parts["rcc-consle-last-30d.html"]
    assert "1 incident shared for this audience" in page  # the GREEN one; never the AMBER
    assert "Substation probe" not in page and "TLP:GREEN" in page
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(parts["rcc-consle-last-30d.xlsx"]))
    assert "Status matrix" in book.sheetnames
    assert "TLP:GREEN" in [c.value for c in book["Status matrix"][1]]
    body = mail.get_body(("plain",)).get_content()
    assert "approved by the committee's chair and labelled TLP:GREEN" in body


async def _none_pending(app) -> bool:
    async with app.db.unit(write=False) as store:
        return not await store.outbox.pending(email=True)


async def test_the_heads_report_by_email_is_built_for_outsiders(make_app, clock):
    app = await make_app(
        '[smtp]\nhost = "127.0.0.1"\nport = 2525\nstarttls = false\nfrom = "b@rcc.example"\n'
        '[reports]\nheads = { schedule = "0 9 1 * *", period = "last-30d", '
        'email = ["heads@fiu.example"] }\n'
    )
    for who, text in (
        (JM1, "!incident new severity=high tlp=green sectors=finance Card skimming ring"),
        (TT1, "!incident new severity=high tlp=amber sectors=energy Substation probe"),
    ):
        assert (await say(app, who, text)).outcome == "accepted"
    await Postman(app).deliver_all()  # the alerts
    await app.jobs.run("report cycle", 2)
    clock.current = SLOT
    await app.jobs.run("report cycle", 2)
    drafted = await Postman(app).deliver_all()
    shown = json.dumps([json.loads(r.content) for r in drafted])
    assert "Card skimming ring" in shown and "Substation probe" not in shown
    assert (await record(app)).tlp == "green"
    assert (
        await say(app, CHAIR, "!report approve RP-1", room=CHAIR_DM, kind="direct")
    ).outcome == "accepted"
    await app.jobs.run("report approval", 1)
    async with app.db.unit(write=False) as store:
        (mail,) = await store.outbox.pending(email=True)
    assert mail.to_user == "heads@fiu.example" and mail.label == "green"
    assert len(json.loads(mail.content)["files"]) >= 2


async def test_without_an_smtp_server_the_chair_is_told_it_was_not_emailed(make_app, clock):
    app = await cycle_app(
        make_app, clock,
        '{ schedule = "0 9 1 * *", period = "last-30d", room = "steering", '
        'email = ["consle@consle.example"] }',
    )  # fmt: skip
    await app.jobs.run("report cycle", 1)
    await Postman(app).deliver_all()
    await say(app, CHAIR, "!report approve RP-1", room=CHAIR_DM, kind="direct")
    await app.jobs.run("report approval", 1)
    sent = await Postman(app).deliver_all()
    assert any(r.room_id == STEERING_ROOM for r in sent)
    told = [body_of(r) for r in sent if r.room_id == CHAIR_DM and "⚠️" in body_of(r)]
    assert told == ["⚠️ RP-1: it was not emailed: the bot has no [smtp] server."]


async def test_the_yearly_meeting_reminds_the_rcc_room_once_before_its_slot(make_app, clock):
    app = await make_app(
        '[reports]\ncsm = { schedule = "0 9 1 12 *", period = "year", room = "rcc", '
        'remind_before = "30d" }\n'
    )
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    clock.current = datetime(2026, 10, 1, 12, tzinfo=UTC)
    wake = await app.jobs.run("report cycle", 3)
    assert wake == SLOT.replace(second=0) - timedelta(days=30)
    assert await Postman(app).deliver_all() == []
    clock.current = wake + timedelta(minutes=1)
    assert await app.jobs.run("report cycle", 3) == SLOT.replace(second=0)
    (reminder,) = await Postman(app).deliver_all()
    assert reminder.room_id == "!rcc:test.org"
    assert "drafted on 1 Dec 2026" in body_of(reminder) and "!input csm <text>" in body_of(
        reminder
    )
    await app.jobs.run("report cycle", 3)
    assert await Postman(app).deliver_all() == []  # once per slot
    clock.current = SLOT
    await app.jobs.run("report cycle", 3)
    (draft, *_files) = await Postman(app).deliver_all()
    assert "the csm report for the year 2025" in body_of(draft)


@pytest.mark.parametrize(
    ("cycle", "expected"),
    [
        ('{ schedule = "0 9 1 * *" }', "set room or email"),
        ('{ schedule = "every day", room = "rcc" }', "is not a cron expression"),
        ('{ schedule = "0 9 1 * *", room = "#alias:x.org" }', "neither"),
        ('{ schedule = "0 9 1 * *", email = ["nobody"] }', "is not an email address"),
    ],
)
def test_a_broken_cycle_is_refused_with_one_line(tmp_path, cycle, expected):
    from tests.test_config import EXAMPLE

    text = EXAMPLE.read_text().replace("[reports]\n", f"[reports]\nconsle = {cycle}\n", 1)
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "[reports] consle" in str(err.value) and expected in str(err.value)


async def test_the_chair_reads_the_draft_and_its_notices_in_their_language(consle):
    app, postman = consle, Postman(consle)
    chose = await say(app, CHAIR, "!lang fr", room=CHAIR_DM, kind="direct")
    assert chose.outcome == "accepted", text_of(chose)
    await postman.deliver_all()
    await app.jobs.run("report cycle", 1)
    (draft,) = [r for r in await postman.deliver_all() if r.kind == "message"]
    assert body_of(draft).startswith("📝 RP-1, version 1 : le rapport consle"), body_of(draft)
