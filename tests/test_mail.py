"""The email fallback through a real SMTP server on loopback (aiosmtpd): what arrives, once,
with no text above TLP:GREEN; refusals reported; an outage waited out."""

from __future__ import annotations

import asyncio
import contextlib
import email
import json
import logging
import socket
from datetime import timedelta
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from bot.mail import Mailer
from bot.outbox import Handoff
from commands.values import RoomKind
from devkit.synapse import wait_for
from tests.helpers import CHAIR, DEFAULT_ROSTER, TT2, body_of, say, text_of
from tests.test_contacts import CONTACTS

WAIT = 60  # seconds: generous, for a busy machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An SMTP server's handler that keeps what it accepts and refuses chosen addresses."""

    def __init__(self, loop: asyncio.AbstractEventLoop, refuse=()) -> None:
        self.loop, self.refuse = loop, set(refuse)
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.arrived = asyncio.Event()
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        self.loop.call_soon_threadsafe(self.arrived.set)
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, data):
        user, password = data.login.decode(), data.password.decode()
        self.logins.append((user, password))
        return AuthResult(success=password == "s3cret")


@contextlib.contextmanager
def smtp_server(inbox: Inbox, port: int):
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def smtp_section(port: int, user: str = "") -> str:
    return f"""
[smtp]
host = "127.0.0.1"
port = {port}
starttls = false
from = "rcc-bot@rcc.example"
user = "{user}"

[broadcast]
email_after = "30m"
"""


async def broadcast_and_email(app, clock, text: str) -> None:
    """A broadcast; Trinidad and Tobago answers; half an hour on, Jamaica's CIRT is due."""
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    outcome = await say(app, CHAIR, text)
    assert outcome.outcome == "accepted", text_of(outcome)
    await app.jobs.run("broadcast", 1)
    await say(app, TT2, "!ack")
    clock.advance(timedelta(minutes=30))
    await app.jobs.run("broadcast", 1)


async def pending_emails(app) -> list:
    async with app.db.unit(write=False) as store:
        return await store.outbox.pending(email=True)


async def run_mailer(app, config, refused: list | None = None, acting=None) -> asyncio.Task:
    """The mailer as the runner builds it, files rendered as they are sent."""
    from functools import partial

    from bot.files import render_file

    mailer = Mailer(
        config.smtp,
        app.db,
        Handoff(),
        clock=app.clock,
        on_refused=lambda: refused.append(1) if refused is not None else None,
        render_file=partial(render_file, app.renderer),
        acting=acting,
    )
    return asyncio.create_task(mailer.run())


async def mailed(app, inbox: Inbox) -> None:
    """Run the mailer until the SMTP server has accepted a message and it is marked sent."""
    task = await run_mailer(app, app.config)
    try:
        async with asyncio.timeout(WAIT):
            await inbox.arrived.wait()
        await until(lambda: _none_pending(app), "the email marked sent")
    finally:
        await stop(task)


async def stop(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def until(predicate, what: str) -> None:
    try:
        await wait_for(predicate, within=WAIT)
    except TimeoutError:
        raise AssertionError(f"waited {WAIT}s for {what}") from None


async def test_an_amber_broadcast_emails_only_its_id_once(make_app, clock, monkeypatch):
    monkeypatch.setenv("RCC_SMTP_PASSWORD", "s3cret")
    port = free_port()
    app = await make_app(extra=smtp_section(port, user="rccbot"), roster=DEFAULT_ROSTER + CONTACTS)
    inbox = Inbox(asyncio.get_running_loop())
    with smtp_server(inbox, port):
        text = "!broadcast Indicators: 203.0.113.7 and evil.example"
        await broadcast_and_email(app, clock, text)
        task = await run_mailer(app, app.config)
        try:
            async with asyncio.timeout(WAIT):
                await inbox.arrived.wait()
            await until(lambda: _none_pending(app), "the email marked sent")
        finally:
            await stop(task)
    assert inbox.logins == [("rccbot", "s3cret")]  # the password came from the environment
    ((to, message),) = inbox.messages  # once: Trinidad and Tobago answered, Jamaica did not
    assert to == ["soc@jamaicacirt.example"]
    assert message["From"] == "rcc-bot@rcc.example" and message["Auto-Submitted"]
    assert message["Subject"].startswith("[TLP:AMBER] HIGH broadcast BC-1")
    body = message.get_content()
    assert "203.0.113.7" not in body and "evil.example" not in body
    assert "its text is not sent by email" in body and "!ack BC-1" in body
    async with app.db.unit(write=False) as store:
        jamaica = await _recipient(store, "@jm-cirt:test.org")
        row = await store.outbox.get(jamaica.email_outbox_id)
    assert row.state == "sent" and row.event_id == message["Message-ID"]


async def test_an_email_sent_again_after_a_crash_carries_the_same_message_id(make_app, clock):
    """Killed between the server's acceptance and the mark, the bot sends the email again
    at its next start: the copy is recognisable by its Message-ID."""
    from sqlalchemy import update

    from storage.outbox import OutboxMessage

    port = free_port()
    app = await make_app(extra=smtp_section(port), roster=DEFAULT_ROSTER + CONTACTS)
    inbox = Inbox(asyncio.get_running_loop())
    with smtp_server(inbox, port):
        await broadcast_and_email(app, clock, "!broadcast Patch the VPN appliances now")
        await mailed(app, inbox)
        async with app.db.unit() as store:  # as if the mark had not been written
            await store._session.execute(
                update(OutboxMessage).where(OutboxMessage.kind == "email").values(state="pending")
            )
        inbox.arrived.clear()
        await mailed(app, inbox)  # a new mailer: the next start
    first, again = (message for _, message in inbox.messages)
    assert first["Message-ID"] == again["Message-ID"] and first["Message-ID"].startswith("<rcc.")


class Greeted(Inbox):
    """An SMTP server at whose greeting the node that connected loses its lease: as if it
    were stopped (SIGSTOP) while connecting and woke after the other site took over."""

    def __init__(self, loop: asyncio.AbstractEventLoop, lease: dict) -> None:
        super().__init__(loop)
        self.lease = lease

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        self.lease["held"] = False
        return responses


async def test_a_node_that_stopped_acting_while_connecting_sends_no_email(make_app, clock, caplog):
    port = free_port()
    app = await make_app(extra=smtp_section(port), roster=DEFAULT_ROSTER + CONTACTS)
    lease = {"held": True}
    inbox = Greeted(asyncio.get_running_loop(), lease)
    caplog.set_level(logging.WARNING, logger="bot.mail")
    with smtp_server(inbox, port):
        await broadcast_and_email(app, clock, "!broadcast Patch the VPN appliances now")
        (waiting,) = await pending_emails(app)
        task = await run_mailer(app, app.config, acting=lambda: lease["held"])
        try:
            await until(lambda: _said(caplog, "no longer acts"), "the mailer to stand down")
        finally:
            await stop(task)
    assert inbox.messages == [] and not lease["held"]
    assert [m.key for m in await pending_emails(app)] == [waiting.key], "left for the other"


async def _said(caplog, words: str) -> bool:
    return any(words in record.getMessage() for record in caplog.records)


async def _none_pending(app) -> bool:
    return await pending_emails(app) == []


async def _recipient(store, user):
    found = await store.broadcasts.get(1)
    return await store.broadcasts.recipient(found.id, user)


async def test_a_green_broadcast_carries_its_text(make_app, clock):
    port = free_port()
    app = await make_app(extra=smtp_section(port), roster=DEFAULT_ROSTER + CONTACTS)
    inbox = Inbox(asyncio.get_running_loop())
    with smtp_server(inbox, port):
        await broadcast_and_email(app, clock, "!broadcast tlp=green Patch the VPN appliances")
        await mailed(app, inbox)
    ((_, message),) = inbox.messages
    assert "Patch the VPN appliances" in message.get_content()
    assert message["Subject"].startswith("[TLP:GREEN]")


async def test_a_refused_address_is_failed_and_reported(make_app, clock, caplog):
    for own in ("bot", "commands", "storage"):  # the bot's own loggers, at their most talkative
        caplog.set_level(logging.DEBUG, logger=own)
    port = free_port()
    app = await make_app(extra=smtp_section(port), roster=DEFAULT_ROSTER + CONTACTS)
    inbox = Inbox(asyncio.get_running_loop(), refuse={"soc@jamaicacirt.example"})
    refused: list = []
    with smtp_server(inbox, port):
        await broadcast_and_email(app, clock, "!broadcast Patch the VPN appliances now")
        task = await run_mailer(app, app.config, refused)
        try:
            await until(lambda: _none_pending(app), "the email given up on")
        finally:
            await stop(task)
    assert inbox.messages == [] and refused == [1]
    async with app.db.unit(write=False) as store:
        (failed,) = await store.outbox.failed_unreported()
    assert failed.kind == "email" and "550" in (failed.error or "")
    await app.jobs.run("delivery failures", 0)  # the chair is told, by Matrix
    async with app.db.unit(write=False) as store:
        mine = [r for r in await store.outbox.pending() if r.to_user == CHAIR]
    (told,) = [r for r in mine if "Not delivered" in body_of(r)]
    assert "the broadcast BC-1 to soc@jamaicacirt.example" in body_of(told)
    assert "550" in body_of(told)
    assert told.needs == 4, "an address: for the chair's eyes only"
    own = [r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("bot", "commands")]
    assert own and not [m for m in own if "jamaicacirt" in m]  # never an address in a log


async def test_an_unreachable_server_is_waited_out(make_app, clock):
    port = free_port()
    app = await make_app(extra=smtp_section(port), roster=DEFAULT_ROSTER + CONTACTS)
    await broadcast_and_email(app, clock, "!broadcast Patch the VPN appliances now")
    task = await run_mailer(app, app.config)
    try:

        async def attempted() -> bool:
            rows = await pending_emails(app)
            return bool(rows) and rows[0].attempts >= 1

        await until(attempted, "a failed attempt")  # nobody listens yet
        inbox = Inbox(asyncio.get_running_loop())
        with smtp_server(inbox, port):
            async with asyncio.timeout(WAIT):
                await inbox.arrived.wait()
            await until(lambda: _none_pending(app), "marked sent")
    finally:
        await stop(task)
    assert len(inbox.messages) == 1


async def test_a_contact_without_matrix_is_emailed_at_once(make_app, clock):
    from tests.test_contacts import BB_BY_EMAIL

    port = free_port()
    app = await make_app(extra=smtp_section(port), roster=DEFAULT_ROSTER + BB_BY_EMAIL)
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    inbox = Inbox(asyncio.get_running_loop())
    with smtp_server(inbox, port):
        await say(app, CHAIR, "!broadcast tlp=green Patch the VPN appliances")
        await app.jobs.run("broadcast", 1)  # no time passes: it is their only channel
        await mailed(app, inbox)
    ((to, message),) = inbox.messages
    assert to == ["ops@cirt.bb.example"]
    body = message.get_content()
    assert "Patch the VPN appliances" in body and "without a Matrix account" in body


@pytest.mark.parametrize(("level", "shown"), [("green", True), ("amber", False)])
async def test_a_person_who_refuses_the_dm_is_emailed_instead_and_the_chair_told(
    make_app, level, shown
):
    """A DM refused (M_INVITE_BLOCKED, a 403): the message goes by email at once, its text only
    up to GREEN; the chair's notice of the refusal says it was emailed."""
    port = free_port()
    jm = '[[roster]]\nuser_id = "@jm9:test.org"\nrole = "ncpoc"\ncountry = "JM"\nemail = "jm9@cirt.jm.example"\n'  # noqa: E501
    app = await make_app(smtp_section(port), roster=DEFAULT_ROSTER + jm)
    async with app.db.unit() as store:
        row = await store.outbox.enqueue(
            room_id=None, to_user="@jm9:test.org", report_to=[CHAIR], label=level,
            content={"msgtype": "m.notice", "body": "⏰ DL-1 Q4 status report is due in 7 days"},
            now=app.clock(), needs=2 if level == "amber" else 0,
        )  # fmt: skip
        await store.outbox.mark_failed(
            row.id, error="no direct message with @jm9:test.org could be opened"
        )
    await app.jobs.run("delivery failures", 0)
    async with app.db.unit(write=False) as store:
        told = [json.loads(r.content)["body"] for r in await store.outbox.pending()]
    assert any("It was emailed to them instead" in b for b in told), told
    inbox = Inbox(asyncio.get_running_loop())
    with smtp_server(inbox, port):
        await mailed(app, inbox)
    ((to, mail),) = inbox.messages
    assert to == ["jm9@cirt.jm.example"]
    text = mail.get_content()
    assert ("DL-1 Q4 status report is due in 7 days" in text) is shown
    assert "could not open a direct chat with you" in text
