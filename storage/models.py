"""SQLModel tables. The schema itself is created and changed only by `storage/migrations`."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Dialect, Index, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to storage; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(*, nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class Keyed:
    """For tables with an integer ID: `key` is that ID once the row is stored (flushed).

    SQLModel types `id` as `int | None`, since a new row has none yet; code that holds a
    stored row reads `key` and gets an `int`, or a clear error if the row was never stored.
    """

    id: int | None

    @property
    def key(self) -> int:
        if self.id is None:
            raise ValueError(f"this {type(self).__name__} has no ID yet: it was never stored")
        return self.id


class RosterEntry(SQLModel, table=True):
    """One role held by one Matrix user; an NCPOC entry is bound to one country."""

    __tablename__ = "roster"
    __table_args__ = (UniqueConstraint("user_id", "role", name="uq_roster_user_role"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=255, index=True)
    role: str = Field(max_length=16)
    country: str | None = Field(default=None, max_length=2, index=True)
    added_by: str = Field(max_length=255)
    added_at: datetime = Field(sa_column=utc_column())
    # A national contact's details (NCPOCs have them too): see commands.contacts.
    kind: str | None = Field(default=None, max_length=16)  # cirt | le-24x7 | oas-cicte | other
    rank: str | None = Field(default=None, max_length=16)  # an NCPOC's: primary | alternate
    agency: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)  # E.164
    lang: str | None = Field(default=None, max_length=8)
    confirmed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    away_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    away_to: str | None = Field(default=None, max_length=255)
    # A phone or email changed by someone else: marked in the chair's escalation notices.
    changed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    changed_by: str | None = Field(default=None, max_length=255)


class RosterSeed(SQLModel, table=True):
    """The config file's roster as last applied, so config edits apply once as changes."""

    __tablename__ = "roster_seed"

    user_id: str = Field(max_length=255, primary_key=True)
    role: str = Field(max_length=16, primary_key=True)
    country: str | None = Field(default=None, max_length=2)
    details: str = Field(
        default="{}", sa_column=Column(Text, nullable=False, server_default="{}")
    )  # JSON: the contact details the config gave


class ContactCheck(SQLModel, table=True):
    """One step of a contact's re-confirmation cycle (asked, then their NCPOC, then the
    chair), once per cycle: the cycle is named by when the confirmation fell due."""

    __tablename__ = "contact_check"
    __table_args__ = (UniqueConstraint("user_id", "due_at", "stage", name="uq_contact_check"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=255)
    due_at: datetime = Field(sa_column=utc_column())
    stage: str = Field(max_length=16)  # asked | ncpoc | chair
    at: datetime = Field(sa_column=utc_column())


class ProcessedEvent(SQLModel, table=True):
    """A Matrix event the bot has handled; the key that makes handling exactly-once."""

    __tablename__ = "processed_event"

    event_id: str = Field(max_length=255, primary_key=True)
    room_id: str = Field(max_length=255)
    sender: str = Field(max_length=255)
    outcome: str = Field(max_length=16)
    processed_at: datetime = Field(sa_column=utc_column())


class AuditEntry(SQLModel, table=True):
    """Append-only record of every command, refusal, broadcast, reminder and digest."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=utc_column(index=True))
    actor: str = Field(max_length=255, index=True)
    action: str = Field(max_length=64)
    outcome: str = Field(max_length=16)
    room_id: str | None = Field(default=None, max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    detail: str = Field(default="", max_length=1000)
    prev_hash: str | None = Field(default=None, max_length=64)  # see storage.chain
    hash: str | None = Field(default=None, max_length=64)


class AuditChain(SQLModel, table=True):
    """The head of the audit log's hash chain: one row, locked by each writer in turn."""

    __tablename__ = "audit_chain"

    id: int = Field(primary_key=True)
    head_id: int
    head_hash: str = Field(max_length=64)


class Identity(SQLModel, table=True):
    """A member's cross-signing master key, pinned on first sight with the self-signing key
    it signed (so that devices signed under it still count once the homeserver publishes
    another); a new one waits for the chair to confirm its fingerprint (`!roster trust`)."""

    __tablename__ = "identity"

    user_id: str = Field(max_length=255, primary_key=True)
    master_key: str = Field(max_length=64)
    self_signing_key: str | None = Field(default=None, max_length=64)
    pinned_at: datetime = Field(sa_column=utc_column())
    event_id: str | None = Field(default=None, max_length=255)
    pending_key: str | None = Field(default=None, max_length=64)
    pending_ssk: str | None = Field(default=None, max_length=64)
    pending_since: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    pending_event: str | None = Field(default=None, max_length=255)
    refused_key: str | None = Field(default=None, max_length=64)  # by `!roster distrust`


class OutboxMessage(Keyed, SQLModel, table=True):
    """A message the bot must send: written with the change that caused it, sent after.

    The transaction ID is fixed when the row is written, so a resend after a crash is
    recognised by the homeserver as the same message and is not posted twice.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    txn_id: str = Field(max_length=64, unique=True)
    # The room, or (room_id None) the person whose DM with the bot it goes to: the sender
    # opens the DM when needed and records its room here.
    room_id: str | None = Field(default=None, max_length=255)
    to_user: str | None = Field(default=None, max_length=255)
    event_type: str = Field(default="m.room.message", max_length=64)
    # "message": content is the event content. "file": content names a renderer and its data;
    # the file is rendered, uploaded (encrypted in encrypted rooms) and sent at send time.
    kind: str = Field(default="message", max_length=16)
    # What the message belongs to, e.g. "broadcast:3": lets a reply or reaction to the sent
    # event be traced back to its record.
    ref: str | None = Field(default=None, max_length=64, index=True)
    content: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    # Its seal (commands.audience.Seal): the strictest label shown, and the people it is bound
    # to (storage.lists); `needs` below is the least clearance of its readers.
    label: str = Field(default="clear", max_length=16)
    bound_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    state: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    created_at: datetime = Field(sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    event_id: str | None = Field(default=None, max_length=255)
    error: str | None = Field(default=None, max_length=255)
    # Who is told, in words, if the message is refused for good (a packed list), and when.
    report_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reported_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # The least a room's readers must be cleared for when it is sent (0: anyone), because
    # it shows labelled content (see commands.audience).
    needs: int = 0


class BotState(SQLModel, table=True):
    """Small named values the bot keeps between runs (the sync token)."""

    __tablename__ = "bot_state"

    key: str = Field(max_length=64, primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=utc_column())


class Notice(SQLModel, table=True):
    """Something the chair must hear about the committee's rooms (an alias that now points
    elsewhere, a room upgraded): written by the Matrix side, told once by a job."""

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    data: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    created_at: datetime = Field(sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class UndecryptedEvent(SQLModel, table=True):
    """An encrypted event the bot could not read yet; retried when its key arrives."""

    __tablename__ = "undecrypted_event"

    event_id: str = Field(max_length=255, primary_key=True)
    room_id: str = Field(max_length=255)
    sender: str = Field(max_length=255)
    session_id: str = Field(max_length=255)
    # The encrypted event as JSON: it carries no plaintext.
    source: str = Field(sa_column=Column(Text, nullable=False))
    first_seen: datetime = Field(sa_column=utc_column())
    notified_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class DirectRoom(SQLModel, table=True):
    """The encrypted direct-message room the bot uses with one user."""

    __tablename__ = "direct_room"

    user_id: str = Field(max_length=255, primary_key=True)
    room_id: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=utc_column())


class StatusUpdate(SQLModel, table=True):
    """One change of one item's state for one country; never overwritten (history)."""

    __tablename__ = "status_update"
    __table_args__ = (
        Index("ix_status_update_latest", "country", "item_id", "id"),
        Index("ix_status_update_at_pair", "country", "item_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2)
    item_id: str = Field(max_length=64)
    state: str = Field(max_length=16)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column(index=True))
    undone_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    version: int | None = Field(default=None)  # the catalogue version in force
    evidence: str | None = Field(default=None, max_length=2000)  # a link behind the state
    source: str | None = Field(default=None, max_length=16)  # desk-review | ncpoc
    # A file sent in reply to the confirmation (JSON: name, type, where; its key if encrypted)
    attachment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class StatusNote(SQLModel, table=True):
    """A narrative update on a country's projects and activities."""

    __tablename__ = "status_note"

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column(index=True))


class Report(SQLModel, table=True):
    """A country's report (`!status submit`) for a reporting period."""

    __tablename__ = "report"

    id: int | None = Field(default=None, primary_key=True)
    country: str = Field(max_length=2, index=True)
    period: str = Field(max_length=32)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column(index=True))


class Counter(SQLModel, table=True):
    """Gapless sequences for the short IDs people type (INC-12, LL-4, RS-9, ...)."""

    __tablename__ = "counter"

    name: str = Field(max_length=16, primary_key=True)
    value: int = 0


class Incident(SQLModel, table=True):
    """An incident alert; `tlp` decides where its details may be shown."""

    __tablename__ = "incident"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(max_length=16)
    tlp: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)
    sectors: str = Field(default=",", max_length=500)  # ",energy,finance,"
    countries: str = Field(default=",", max_length=200)  # ",JM,TT,"
    reporter: str = Field(max_length=255)
    reporter_country: str | None = Field(default=None, max_length=2)
    origin_room: str = Field(max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    event_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column(index=True))
    updated_at: datetime = Field(sa_column=utc_column())
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class IncidentUpdate(SQLModel, table=True):
    """One step in an incident's history: creation, an update, the closing summary."""

    __tablename__ = "incident_update"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str = Field(max_length=16)  # created | update | closed
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str | None = Field(default=None, max_length=16)
    severity: str | None = Field(default=None, max_length=16)
    author: str = Field(max_length=255)
    room_id: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


class Lesson(SQLModel, table=True):
    """A lesson learnt; `author` is empty when it was shared anonymously."""

    __tablename__ = "lesson"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    area: str | None = Field(default=None, max_length=32)
    tags: str = Field(default=",", max_length=500)
    incident: int | None = Field(default=None)  # the incident's number
    tlp: str = Field(max_length=16)
    author: str | None = Field(default=None, max_length=255)
    country: str | None = Field(default=None, max_length=2)
    origin_room: str = Field(max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    event_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column(index=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Resource(SQLModel, table=True):
    """National resources and expertise: people, tools, labs, training."""

    __tablename__ = "resource"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    kind: str = Field(max_length=16, index=True)
    country: str | None = Field(default=None, max_length=2, index=True)
    description: str = Field(sa_column=Column(Text, nullable=False))
    tlp: str = Field(max_length=16)
    author: str = Field(max_length=255)
    origin_room: str = Field(max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    event_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column(index=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Correction(SQLModel, table=True):
    """One change to a record after it was made: a field's value before and after, or a
    withdrawal; who made it, when and from which event (the record keeps its history)."""

    __tablename__ = "correction"
    __table_args__ = (Index("ix_correction_record", "kind", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # incident, lesson, resource, status
    number: int
    field: str = Field(max_length=32)
    before: str = Field(sa_column=Column(Text, nullable=False))
    after: str = Field(sa_column=Column(Text, nullable=False))
    by: str = Field(max_length=255)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


class Deadline(Keyed, SQLModel, table=True):
    """A reporting deadline, one-off or recurring; it closes a reporting period."""

    __tablename__ = "deadline"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(max_length=300)
    due_at: datetime = Field(sa_column=utc_column())  # the first occurrence
    every: str | None = Field(default=None, max_length=16)  # month | quarter | year
    remind: str = Field(max_length=200)  # offsets in seconds, ",1209600,604800,"
    status: str = Field(default="active", max_length=16, index=True)
    config_key: str | None = Field(default=None, max_length=300, unique=True)
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=utc_column())
    cancelled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ReminderLog(SQLModel, table=True):
    """Every reminder, overdue notice and follow-up decided, one row per recipient.

    The unique key is what makes a notification impossible to send twice, also across
    restarts: the row and the outbox message commit together.
    """

    __tablename__ = "reminder_log"
    __table_args__ = (
        UniqueConstraint(
            "deadline_id", "occurrence", "kind", "seq", "recipient", name="uq_reminder_once"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id", index=True)
    occurrence: datetime = Field(sa_column=utc_column())
    kind: str = Field(max_length=16)  # remind | overdue | followup | escalation
    seq: int
    recipient: str = Field(max_length=255)
    state: str = Field(max_length=16)  # sent | superseded
    late: bool = False
    scheduled_at: datetime = Field(sa_column=utc_column())
    decided_at: datetime = Field(sa_column=utc_column())


class DigestLog(SQLModel, table=True):
    """Every digest posted; a scheduled one carries its slot, which makes it once-only."""

    __tablename__ = "digest_log"
    __table_args__ = (UniqueConstraint("slot", name="uq_digest_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    slot: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    period: str = Field(max_length=32)
    room_id: str = Field(max_length=255)
    requested_by: str = Field(max_length=255)
    posted_at: datetime = Field(sa_column=utc_column(index=True))


class Broadcast(Keyed, SQLModel, table=True):
    """An emergency broadcast to every NCPOC, with a roll-call of acknowledgements."""

    __tablename__ = "broadcast"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    message: str = Field(sa_column=Column(Text, nullable=False))
    severity: str = Field(max_length=16)
    exercise: bool = False
    sender: str = Field(max_length=255)
    room_id: str = Field(max_length=255)  # where the RCC-wide message went
    created_at: datetime = Field(sa_column=utc_column(index=True))
    tlp: str = Field(default="amber", max_length=16)
    audience: str = Field(default="ncpocs", max_length=100)  # all | ncpocs | cirt,le-24x7,..


class BroadcastRecipient(Keyed, SQLModel, table=True):
    """One NCPOC of one broadcast: the DM delivery and the acknowledgement."""

    __tablename__ = "broadcast_recipient"
    __table_args__ = (UniqueConstraint("broadcast_id", "user_id", name="uq_broadcast_user"),)

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    user_id: str = Field(max_length=255)
    country: str | None = Field(default=None, max_length=2)
    dm_outbox_id: int | None = Field(default=None)
    acked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    ack_via: str | None = Field(default=None, max_length=16)  # command|reply|reaction|phone..
    ack_event_id: str | None = Field(default=None, max_length=255)
    tier: str = Field(default="primary", max_length=16)  # primary | alternate | a contact kind
    email: str | None = Field(default=None, max_length=254)
    email_outbox_id: int | None = Field(default=None)
    ack_recorded_by: str | None = Field(default=None, max_length=255)  # the chair, for=
    relayed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    relay_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    relay_tlp: str = Field(default="amber", max_length=16)


class BroadcastNotice(SQLModel, table=True):
    """A re-notification round sent to one person (or the chair's summary), once."""

    __tablename__ = "broadcast_notice"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "round", "recipient", name="uq_broadcast_notice"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id", index=True)
    round: int
    recipient: str = Field(max_length=255)
    kind: str = Field(max_length=16)  # renotify | summary
    at: datetime = Field(sa_column=utc_column())


class CatalogueVersion(SQLModel, table=True):
    """A numbered version of the catalogue (JSON: areas and items); the highest is in force.
    Version 1 is seeded from the catalogue file; each adopted motion writes the next."""

    __tablename__ = "catalogue_version"

    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    data: str = Field(sa_column=Column(Text, nullable=False))
    motion: int | None = Field(default=None)  # the motion's number that made it
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_column=utc_column())


class Motion(SQLModel, table=True):
    """A proposal to change the catalogue, decided by one vote per member state."""

    __tablename__ = "motion"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    kind: str = Field(max_length=16)  # propose | amend | retire
    target: str = Field(max_length=64)  # an item ID, or an area ID for a new item
    text: str = Field(sa_column=Column(Text, nullable=False))
    proposer: str = Field(max_length=255)
    tlp: str = Field(default="amber", max_length=16)  # said without a label: AMBER
    origin_room: str | None = Field(default=None, max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    country: str | None = Field(default=None, max_length=2)
    seconder: str | None = Field(default=None, max_length=255)
    state: str = Field(max_length=16, index=True)  # seconding | open | adopted | rejected | failed
    base_version: int
    due: str | None = Field(default=None, max_length=7)  # YYYY-MM: the item's target date
    version: int | None = Field(default=None)  # the catalogue version it created
    opened_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closes_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    result: str = Field(default="", max_length=500)  # the tally as announced
    event_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column())
    # Fixed when it opens: the countries that vote (storage.lists) and the votes needed.
    electorate: str | None = Field(default=None, max_length=500)
    quorum: int | None = Field(default=None)


class Vote(SQLModel, table=True):
    """A member state's vote on a motion; a later vote of the same country replaces it."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("motion", "country", name="uq_vote_country"),)

    id: int | None = Field(default=None, primary_key=True)
    motion: int  # the motion's number
    country: str = Field(max_length=2)
    voter: str = Field(max_length=255)
    choice: str = Field(max_length=8)  # yes | no | abstain
    note: str = Field(default="", max_length=500)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


class Project(SQLModel, table=True):
    """A project or activity that closes gaps: who leads it, with whom, where, on what."""

    __tablename__ = "project"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(max_length=300)
    lead: str = Field(max_length=200)
    partners: str = Field(default=",", max_length=1000)  # storage.lists
    funding: str = Field(default="", max_length=300)
    countries: str = Field(default=",", max_length=200)  # codes, or `,regional,`
    items: str = Field(default=",", max_length=1000)  # catalogue item IDs
    target: str | None = Field(default=None, max_length=7)  # YYYY-MM
    status: str = Field(default="planned", max_length=16)
    version: int  # the catalogue version its items are from
    created_by: str = Field(max_length=255)
    tlp: str = Field(default="amber", max_length=16)  # said without a label: AMBER
    origin_room: str | None = Field(default=None, max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    event_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column(index=True))


class ProjectUpdate(SQLModel, table=True):
    """Progress on a project: its status then, and a note."""

    __tablename__ = "project_update"

    id: int | None = Field(default=None, primary_key=True)
    project: int = Field(index=True)  # the project's number
    status: str = Field(max_length=16)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    author: str = Field(max_length=255)
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column(index=True))


class DigestDraft(SQLModel, table=True):
    """A Steering Committee digest awaiting the chair's approval (`DG-n`): the data as built
    for the Steering room, published as approved; a scheduled one carries its slot."""

    __tablename__ = "digest_draft"
    __table_args__ = (UniqueConstraint("slot", name="uq_digest_draft_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    period: str = Field(max_length=32)  # the key: 2026-11, 2026-Q4, last-30d
    period_start: datetime = Field(sa_column=utc_column())
    period_end: datetime = Field(sa_column=utc_column())
    period_label: str = Field(max_length=100)
    room_id: str = Field(max_length=255)  # where it goes once approved
    slot: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    requested_by: str = Field(max_length=255)
    state: str = Field(max_length=16, index=True)  # draft | published | held
    omit: str = Field(default=",", max_length=1000)  # storage.lists: INC-3, LL-2, sections
    data: str = Field(sa_column=Column(Text, nullable=False))  # JSON, as the chair saw it
    needs: int = 0  # the clearance the Steering room must still have when it is published
    bound_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())
    resent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reason: str = Field(default="", max_length=500)
    version: int = 1  # each rebuild is a new version: a chair approves the one they saw


class Meeting(SQLModel, table=True):
    """A meeting of the Steering Committee or the RCC (`MT-n`): its agenda goes out ahead,
    its minutes are taken in its room."""

    __tablename__ = "meeting"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    title: str = Field(max_length=300)
    starts_at: datetime = Field(sa_column=utc_column(index=True))
    room_kind: str = Field(max_length=16)  # steering | rcc
    state: str = Field(max_length=16, index=True)  # scheduled | minuting | closed
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=utc_column())
    agenda_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    minutes_room: str | None = Field(default=None, max_length=255)
    started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    stopped_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class MinuteEntry(SQLModel, table=True):
    """One line of a meeting's minutes: agreed, an action, or for information."""

    __tablename__ = "minute_entry"

    id: int | None = Field(default=None, primary_key=True)
    meeting: int = Field(index=True)  # the meeting's number
    kind: str = Field(max_length=8)  # agreed | action | info
    text: str = Field(sa_column=Column(Text, nullable=False))
    action: int | None = Field(default=None)  # the action's number, for kind "action"
    author: str = Field(max_length=255)
    tlp: str = Field(default="amber", max_length=16)  # said without a label: AMBER
    origin_room: str | None = Field(default=None, max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    event_id: str | None = Field(default=None, max_length=255)
    at: datetime = Field(sa_column=utc_column())


class Action(SQLModel, table=True):
    """A follow-up with an owner (a person, or a body such as the RIFC) and a due date."""

    __tablename__ = "action"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    owner: str = Field(max_length=255)  # @user:server, or a body's name ("RIFC")
    text: str = Field(sa_column=Column(Text, nullable=False))
    due_at: datetime = Field(sa_column=utc_column(index=True))
    state: str = Field(default="open", max_length=8, index=True)  # open | done
    meeting: int | None = Field(default=None)
    created_by: str = Field(max_length=255)
    tlp: str = Field(default="amber", max_length=16)  # said without a label: AMBER
    origin_room: str | None = Field(default=None, max_length=255)
    said_to: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # heard by
    created_at: datetime = Field(sa_column=utc_column())
    reminded_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    overdue_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    done_by: str | None = Field(default=None, max_length=255)
    done_note: str = Field(default="", max_length=1000)
