"""Email: the broadcast's fallback for contacts who have not answered on Matrix.

Emails are outbox rows of kind `email`, written by jobs in the same unit of work as the record
that asked for them, so each is sent once the change commits and never if it rolls back. This
sender takes them as they are handed over (and re-reads the outbox at start and now and then),
sends each through the configured SMTP server, and marks it sent. A message the server refuses
for good (a 5xx answer) is marked failed and reported to the chair; anything else (the server
unreachable, a 4xx answer) is retried with backoff, for as long as it takes.

A crash between the server's acceptance and the mark sends the email again at the next start;
it carries the same Message-ID (from the row's fixed transaction ID), by which mail systems
and readers recognise the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from bot.config import SmtpConfig
from bot.logs import log_failure
from bot.matrix.backoff import Backoff
from bot.outbox import Handoff
from storage.db import Database
from storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

IDLE_POLL = 30.0  # also re-read the outbox this often, in case a hand-over was missed


class NotActing(Exception):
    """Of two sites, this node no longer acts: the email stays pending for the other."""


class Permanent(Exception):
    """The server refused the message for good."""


class Mailer:
    def __init__(
        self,
        config: SmtpConfig,
        db: Database,
        handoff: Handoff,
        *,
        clock: Callable[[], datetime],
        on_refused: Callable[[], None],
        render_file: Callable[[str, dict, str | None], bytes] | None = None,
        acting: Callable[[], bool] | None = None,
    ) -> None:
        self.config, self.db, self.handoff = config, db, handoff
        self.acting = acting  # of two sites: may this node send now (bot/ha.py)
        self.clock, self.on_refused = clock, on_refused
        self.render_file = render_file
        self._queue: asyncio.Queue[OutboxMessage] = asyncio.Queue()
        self._queued: set[int] = set()
        self.sent = 0

    def submit(self, rows: list[OutboxMessage]) -> None:
        for row in rows:
            if row.key not in self._queued:
                self._queued.add(row.key)
                self._queue.put_nowait(row)

    async def run(self) -> None:
        """Send what jobs hand over, one at a time, and what the outbox holds pending."""
        worker = asyncio.create_task(self._work(), name="mail-sender")
        loop = asyncio.get_running_loop()
        try:
            while True:
                async with self.db.unit(write=False) as store:
                    self.submit(await store.outbox.pending(limit=1000, email=True))
                deadline = loop.time() + IDLE_POLL
                while (left := deadline - loop.time()) > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.handoff.mail_ready.wait(), left)
                    self.submit(self.handoff.take_mail())
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def _work(self) -> None:
        while True:
            row = await self._queue.get()
            try:
                await self._send(row)
            except Exception as exc:  # a bug must not stop the others: the next re-read
                log_failure(log, f"email {row.txn_id}", exc)  # of the outbox retries it
                self._queued.discard(row.key)

    async def _send(self, row: OutboxMessage) -> None:
        try:
            message = await asyncio.to_thread(self.compose, row)
        except Exception as exc:  # a file that cannot be rendered will not be, later either
            log_failure(log, f"composing email {row.txn_id}", exc)
            await self._refuse(row, "the email's file could not be rendered")
            return
        backoff = Backoff(base=2.0, cap=300.0)
        while True:
            try:
                await asyncio.to_thread(self._deliver, message)
            except NotActing:
                log.warning("email %s not sent: this node no longer acts", row.txn_id)
                return  # left pending, for the node that acts now
            except Permanent as exc:
                log.error("email %s refused: %s", row.txn_id, type(exc).__name__)
                await self._refuse(row, f"email refused: {exc}")
                return
            except (OSError, smtplib.SMTPException) as exc:
                delay = backoff.next_delay()
                log.warning(  # the error's type: an SMTP answer may quote the address
                    "email %s failed (%s); retrying in %.0fs",
                    row.txn_id,
                    type(exc).__name__,
                    delay,
                )
                async with self.db.unit() as store:
                    await store.outbox.note_attempt(row.key, error=f"email: {exc}"[:255])
                await asyncio.sleep(delay)
                continue
            async with self.db.unit() as store:
                await store.outbox.mark_all_sent([(row.key, message["Message-ID"], self.clock())])
            self._queued.discard(row.key)
            self.sent += 1
            log.info("emailed %s", row.txn_id)  # never the address: logs are read widely
            return

    async def _refuse(self, row: OutboxMessage, error: str) -> None:
        """Marked failed for good; the chair is told (the refusals job reports it)."""
        async with self.db.unit() as store:
            await store.outbox.mark_failed(row.key, error=error)
        self._queued.discard(row.key)
        if row.report_to:
            self.on_refused()

    def compose(self, row: OutboxMessage) -> EmailMessage:
        content = json.loads(row.content)
        message = EmailMessage()
        message["From"] = self.config.from_
        message["To"] = row.to_user or ""
        message["Subject"] = content["subject"]
        message["Date"] = format_datetime(row.created_at)
        message["Message-ID"] = f"<{row.txn_id}@{self.config.from_.partition('@')[2]}>"
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
        message.set_content(content["text"])
        for spec in content.get("files", ()):  # a report's files, rendered as it is sent
            if self.render_file is None:
                raise RuntimeError("this mailer renders no files")
            data = self.render_file(spec["renderer"], spec["data"], spec.get("lang"))
            kind, _slash, sub = spec["mimetype"].partition("/")
            message.add_attachment(data, maintype=kind, subtype=sub, filename=spec["filename"])
        return message

    def _deliver(self, message: EmailMessage) -> None:
        config = self.config
        timeout = config.timeout.total_seconds()
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if config.tls:
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
        with smtp:
            if config.starttls and not config.tls:
                smtp.starttls(context=context)
            if config.user:
                password = config.password.get_secret_value() if config.password else ""
                smtp.login(config.user, password)
            smtp.ehlo_or_helo_if_needed()
            if self.acting is not None and not self.acting():
                # Asked last, connected and greeted, just before the message goes: a node
                # frozen while connecting (SIGSTOP, a stalled VM) must not send on waking
                # after the other took over.
                raise NotActing
            try:
                refused = smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                refused = exc.recipients
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code >= 500:
                    raise Permanent(f"{exc.smtp_code} {exc.smtp_error!r}") from None
                raise
            if refused:
                _refused(refused)


def _refused(refused: dict) -> None:
    """A recipient refused: for good on a 5xx answer, else (4xx, greylisting) later."""
    code, text = next(iter(refused.values()))
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    if code >= 500:
        raise Permanent(f"{code} {text}")
    raise smtplib.SMTPException(f"{code} {text}")
