"""Meetings of the Steering Committee and the RCC, their minutes, and actions with owners.

Section 8 of the Action Plan is a cycle: the Steering Committee meets on an agreed schedule
and makes recommendations for action by the RIFC. `!meeting add` schedules a meeting; its
agenda (the latest approved digest, open actions, pending motions, countries overdue) is posted
in its room ahead, and the room reminded. During it `!minutes start`, `!agreed`, `!action`,
`!info`, `!minutes stop` keep the minutes (as MeetBot's #agreed/#action do); the minutes are
posted as a message and an HTML file. Actions are followed up: their owner is reminded before
and after the due date; a body (the RIFC) is followed up through the chair.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import Field

from commands import i18n
from commands.audience import Viewer, heard_by, hearers, sealed
from commands.calendar import STEP_MONTHS, add_months, around, occurrence
from commands.context import Context, JobContext
from commands.deadlines import DueInput, not_reported, resolve_due, schedule_of, when
from commands.deadlines import due as date_typed
from commands.digest.data import feedback_rows
from commands.framework import (
    CHAIR_ONLY,
    READERS,
    ArgumentError,
    CommandError,
    FileSpec,
    Opt,
    ParseEnv,
    Pos,
    Refused,
    Role,
    Router,
    Text,
    View,
)
from commands.i18n import N_, Deferred, _
from commands.motions.votes import motion_words
from commands.sections import Duration, Section, Sections
from commands.tlp import carried, carried_by, said, seen_rows, tlp
from commands.types import choice, typed_id
from commands.values import CHROME, Ref, RefKind, RoomKind, ShortId
from storage.meetings import Action, Meeting
from storage.stores import Stores

router = Router(
    "meetings",
    templates=Path(__file__).parent / "templates",
    topic=N_("meetings, their minutes and actions"),
)
MEETING_JOB = "meeting"
ACTION_JOB = "action"
MEETING_ID = typed_id(ShortId.MT)
ACTION_ID = typed_id(ShortId.AC)
MAX_TEXT = 2000
ROOM_ROLES = {"steering": (Role.STEERING, Role.CHAIR), "rcc": (Role.NCPOC, Role.CHAIR)}


def owner(text: str, _env: ParseEnv) -> str:
    """`@user:server`, or the name of a body that owns the action (`RIFC`)."""
    value = text.strip()
    if value.startswith("@"):
        from commands.types import user_id

        return user_id(value, _env)
    if not value or len(value) > 100 or not value.isprintable():
        raise ArgumentError(
            _("{text!r} is neither @user:server nor the name of a body (RIFC)").format(text=text)
        )
    return value


def _text(text: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise CommandError(
            _("say what it is (up to {MAX_TEXT} characters)").format(MAX_TEXT=MAX_TEXT)
        )
    return text


# --- meetings ---------------------------------------------------------------------------------


@router.command(
    "meeting add",
    summary="schedule a meeting: its agenda goes out ahead, its room is reminded",
    roles=CHAIR_ONLY,
    params=[
        Pos("starts", date_typed, "<YYYY-MM-DD HH:MM>", words=4),
        Opt("room", choice("steering", "rcc"), "steering|rcc"),
        Opt("every", choice(*STEP_MONTHS), "month|quarter|year"),
        Text("title", "title"),
    ],
    example="!meeting add 2027-01-20 14:00 Steering Committee, first quarter room=steering",
    details="every= makes it recurring: the next one is scheduled, same day and time that "
    "many months on, when this one's reminder goes out.",
)
async def meeting_add(
    ctx: Context, starts: DueInput, room: str | None, every: str | None, title: str
) -> str:
    starts_at = resolve_due(starts, ctx.env.zone, ctx.config)
    if starts_at <= ctx.now:
        raise CommandError(
            _("{when} has already passed").format(when=when(starts_at, ctx.env.zone))
        )
    kind = room or "steering"
    meeting = await ctx.store.meetings.add(
        title=_text(title)[:300], starts_at=starts_at, room_kind=kind, author=ctx.sender,
        now=ctx.now, every=every,
    )  # fmt: skip
    ctx.wake(MEETING_JOB, meeting.number)
    name = ShortId.MT.of(meeting.number)
    ctx.audit_detail = f"{name} {kind} {starts_at.isoformat()}"
    ahead = _words(ctx.config[MeetingsConfig].agenda_before)
    return _(
        "📅 {name} “{title}” on {when} in the {kind} room; its agenda goes out {ahead} ahead."
    ).format(
        name=name, title=meeting.title, when=when(starts_at, ctx.env.zone), kind=kind, ahead=ahead
    )


def _words(ahead: timedelta) -> str:
    return i18n.span(ahead, smallest="minute")


@router.command(
    "meetings",
    summary="meetings ahead, and the open actions",
    roles=READERS,
    example="!meetings",
)
async def meetings(ctx: Context) -> View:
    rows = [
        {"id": ShortId.MT.of(m.number), "title": m.title, "when": when(m.starts_at, ctx.env.zone),
         "room": m.room_kind, "every": m.every}
        for m in await ctx.store.meetings.upcoming()
    ]  # fmt: skip
    return View("meetings/list", {"rows": rows})


FEEDBACK_SPAN = timedelta(days=92)  # an agenda takes up the feedback of about a quarter


async def agenda(
    store: Stores, config: Sections, env: ParseEnv, now: datetime, viewer: Viewer
) -> dict:
    """What a meeting takes up: the latest approved digest, open actions (overdue first),
    pending motions, and the countries overdue with their report — as the meeting's room may
    read them (the rest counted)."""
    digest = await store.digests.latest_published()
    actions, hidden_actions = seen_rows(
        viewer, await store.meetings.actions(), lambda a: action_row(a, env, now)
    )
    motions, hidden_motions = seen_rows(
        viewer,
        await store.motions.pending(),
        lambda m: {"id": ShortId.MO.of(m.number), "words": motion_words(m), "state": m.state},
    )
    return {
        "digest": {
            "id": ShortId.DG.of(digest.number),
            "period": digest.period_label,
            "published": when(digest.decided_at, env.zone) if digest.decided_at else "",
        }
        if digest
        else None,
        "actions": actions,
        "motions": motions,
        "hidden": hidden_actions + hidden_motions,
        "overdue": await overdue_countries(store, config, env, now),
        # Readers' feedback on reports of the last quarter (Action Plan, section 8.4).
        "feedback": await feedback_rows(store, now - FEEDBACK_SPAN, now, env.zone, viewer, []),
    } | carried_by(viewer)


async def overdue_countries(
    store: Stores, config: Sections, env: ParseEnv, now: datetime
) -> list[dict]:
    """For each deadline that has passed, the countries with NCPOCs that have not reported."""
    expected = sorted({e.country for e in await store.roster.ncpocs() if e.country})
    found = []
    for deadline in await store.deadlines.active():
        schedule = schedule_of(deadline, config)
        last, _next = around(schedule, now, env.zone)
        if last is None:
            continue
        _reported, missing = await not_reported(store, schedule, last, env.zone, now, expected)
        if missing:
            due_at = occurrence(schedule, last, env.zone)
            found.append({"deadline": ShortId.DL.of(deadline.number), "title": deadline.title,
                          "due": when(due_at, env.zone), "missing": missing})  # fmt: skip
    return found


def action_row(a: Action, env: ParseEnv, now: datetime) -> dict:
    return {
        "id": ShortId.AC.of(a.number),
        "owner": a.owner,
        "text": a.text,
        "due": when(a.due_at, env.zone),
        "overdue": a.state == "open" and a.due_at < now,
        "state": a.state,
        "meeting": ShortId.MT.of(a.meeting) if a.meeting else None,
        "done_note": a.done_note,
    }


async def upcoming_meetings(store: Stores, config: Sections, now: datetime) -> list[int]:
    return [m.number for m in await store.meetings.upcoming()]


@router.job(MEETING_JOB, pending=upcoming_meetings, summary="a meeting's agenda and reminder")
async def meeting_notices(job: JobContext, meeting_key: int) -> datetime | None:
    meeting = await job.store.meetings.get(meeting_key)
    if meeting is None or meeting.state != "scheduled":
        return None
    room = job.rooms.get(RoomKind(meeting.room_kind))
    if room is None:
        return job.now + timedelta(minutes=5)  # the room is not known yet: look again
    name = ShortId.MT.of(meeting.number)
    agenda_at = meeting.starts_at - job.config[MeetingsConfig].agenda_before
    remind_at = meeting.starts_at - job.config[MeetingsConfig].remind_before
    if meeting.agenda_at is None and job.now >= agenda_at and job.now < meeting.starts_at:
        meeting.agenda_at = job.now
        viewer = Viewer(await job.audience_of(room))
        data = await agenda(job.store, job.config, job.env, job.now, viewer)
        data |= {"id": name, "title": meeting.title,
                 "when": when(meeting.starts_at, job.env.zone)}  # fmt: skip
        await job.post(View("meetings/agenda", data), room_id=room, seal=viewer.seal(),
                       ref=Ref(RefKind.MEETING, meeting.number))  # fmt: skip
    if meeting.reminded_at is None and job.now >= remind_at and job.now < meeting.starts_at:
        meeting.reminded_at = job.now
        members = [e.user_id for e in await job.store.roster.entries()
                   if e.role in ROOM_ROLES[meeting.room_kind]]  # fmt: skip
        starts = when(meeting.starts_at, job.env.zone)
        await job.post(
            Deferred(partial(_starts, name, meeting.title, starts)),
            room_id=room, mentions=sorted(set(members)), alert=True, seal=CHROME,
            ref=Ref(RefKind.MEETING, meeting.number),
        )  # fmt: skip
    if meeting.every and meeting.followed_by is None and job.now >= remind_at:
        await _next_one(job, meeting)
    later = [t for t in (agenda_at, remind_at) if t > job.now]
    return min(later) if later and job.now < meeting.starts_at else None


async def _next_one(job: JobContext, meeting: Meeting) -> None:
    """A recurring meeting's next occurrence, scheduled once: same local day and time."""
    local = meeting.starts_at.astimezone(job.env.zone).replace(tzinfo=None)
    step = STEP_MONTHS[meeting.every or "quarter"]
    starts = add_months(local, step).replace(tzinfo=job.env.zone).astimezone(UTC)
    following = await job.store.meetings.add(
        title=meeting.title, starts_at=starts, room_kind=meeting.room_kind,
        author=meeting.created_by, now=job.now, every=meeting.every,
    )  # fmt: skip
    meeting.followed_by = following.number
    job.wake(MEETING_JOB, following.number)
    job.audit_detail += f"; {ShortId.MT.of(following.number)} scheduled after "
    job.audit_detail += ShortId.MT.of(meeting.number)


# --- minutes ----------------------------------------------------------------------------------


@router.command(
    "minutes start",
    summary="take the minutes of a meeting in this room",
    roles=CHAIR_ONLY,
    params=[Pos("id", MEETING_ID, "MT-n", optional=True)],
    example="!minutes start MT-2",
    details="Without MT-n: the next meeting scheduled for this kind of room, or a meeting "
    "of today's date. Then !agreed, !action, !info; !minutes stop posts the minutes.",
)
async def minutes_start(ctx: Context, id: int | None) -> None:
    if await ctx.store.meetings.minuting_in(ctx.room_id):
        raise CommandError(_("minutes are being taken in this room already: !minutes stop first"))
    if ctx.room_kind not in (RoomKind.STEERING, RoomKind.RCC):
        raise CommandError(_("minutes are taken in the Steering Committee room or the RCC room"))
    if id is not None:
        meeting = await ctx.store.meetings.get(id)
        if meeting is None or meeting.state != "scheduled":
            raise CommandError(
                _("{id} is not a meeting waiting to be held").format(id=ShortId.MT.of(id))
            )
    else:
        kind = str(ctx.room_kind)
        here = [m for m in await ctx.store.meetings.upcoming() if m.room_kind == kind]
        meeting = here[0] if here else await ctx.store.meetings.add(
            title=f"Meeting of {ctx.now.astimezone(ctx.env.zone):%-d %B %Y}",
            starts_at=ctx.now, room_kind=kind, author=ctx.sender, now=ctx.now,
        )  # fmt: skip
    meeting.state, meeting.minutes_room, meeting.started_at = "minuting", ctx.room_id, ctx.now
    name = ShortId.MT.of(meeting.number)
    ctx.audit_detail = f"{name} minutes start"
    await ctx.in_thread_of(Ref(RefKind.MEETING, meeting.number))  # its agenda's, if posted here
    await ctx.reply(  # else this message is the root of the meeting's thread
        _(
            "📝 Minutes of {name} “{title}” are being taken here: !agreed "
            "<text>, !action @owner due=<date> <text>, !info <text>; "
            "!minutes stop ends them."
        ).format(name=name, title=meeting.title),
        ref=Ref(RefKind.MEETING, meeting.number),
    )
    return None


async def _minuting(ctx: Context) -> Meeting:
    """The meeting minuted in this room; what is said of it goes in its thread."""
    meeting = await ctx.store.meetings.minuting_in(ctx.room_id)
    if meeting is None:
        raise CommandError(_("no minutes are being taken in this room: !minutes start first"))
    await ctx.in_thread_of(Ref(RefKind.MEETING, meeting.number))
    return meeting


LABEL = Opt("tlp", tlp)
LABEL_DETAILS = (
    "Without tlp= it is AMBER: the minutes, agendas, digests and reports show it only "
    "where AMBER may be read, and in full to those who were in the room when it was said."
)


@router.command(
    "agreed", summary="record what the meeting agreed", roles=CHAIR_ONLY,
    params=[LABEL, Text("text", "text")], details=LABEL_DETAILS,
    example="!agreed tlp=green The Q4 digest goes to CONSLE as it stands",
)  # fmt: skip
async def agreed(ctx: Context, tlp: str | None, text: str) -> str:
    return _("✅ Agreed, in the minutes of {value}.").format(
        value=await _record(ctx, "agreed", text, tlp)
    )


async def _record(ctx: Context, kind: str, text: str, given: str | None) -> str:
    """A line of the minutes of the meeting minuted in this room, labelled; returns the
    meeting's ID."""
    meeting = await _minuting(ctx)
    level = said(ctx, given)
    await ctx.store.meetings.note(
        meeting, kind=kind, text=_text(text), author=ctx.sender, event_id=ctx.event_id,
        now=ctx.now, tlp=level, origin_room=ctx.room_id, said_to=hearers(ctx.viewer.audience),
    )  # fmt: skip
    name = ShortId.MT.of(meeting.number)
    ctx.audit_detail = f"{name} {kind} {level}"
    return name


@router.command(
    "info", summary="a point for the record of the meeting", roles=READERS,
    params=[LABEL, Text("text", "text")], details=LABEL_DETAILS,
    example="!info CTU reports two new members of its CIRT forum",
)  # fmt: skip
async def info(ctx: Context, tlp: str | None, text: str) -> str:
    return _("ℹ️ Noted in the minutes of {value}.").format(
        value=await _record(ctx, "info", text, tlp)
    )


@router.command(
    "action",
    summary="an action with an owner (@user, or a body such as RIFC) and a due date",
    roles=CHAIR_ONLY,
    params=[
        Pos("owner", owner, "@owner|body"),
        Opt("due", date_typed, "YYYY-MM-DD", required=True, words=3),
        LABEL,
        Text("text", "text"),
    ],
    example="!action RIFC due=2027-03-31 Report on the regional capacity centre's staffing",
    details="During a meeting it goes into the minutes. Its owner is reminded before it is "
    "due and once after; a body's actions are followed up through the chair. " + LABEL_DETAILS,
)
async def action(ctx: Context, owner: str, due: DueInput, tlp: str | None, text: str) -> str:
    due_at = resolve_due(due, ctx.env.zone, ctx.config)
    if due_at <= ctx.now:
        raise CommandError(_("{when} has already passed").format(when=when(due_at, ctx.env.zone)))
    level = said(ctx, tlp)
    heard = hearers(ctx.viewer.audience)
    meeting = await ctx.store.meetings.minuting_in(ctx.room_id)
    if meeting is not None:
        await ctx.in_thread_of(Ref(RefKind.MEETING, meeting.number))
    made = await ctx.store.meetings.add_action(
        owner=owner, text=_text(text), due_at=due_at, author=ctx.sender, now=ctx.now,
        meeting=meeting.number if meeting else None, tlp=level, origin_room=ctx.room_id,
        said_to=heard,
    )  # fmt: skip
    if meeting is not None:
        await ctx.store.meetings.note(
            meeting, kind="action", text=made.text, author=ctx.sender, event_id=ctx.event_id,
            now=ctx.now, action=made.number, tlp=level, origin_room=ctx.room_id, said_to=heard,
        )  # fmt: skip
    ctx.wake(ACTION_JOB, made.number)
    name = ShortId.AC.of(made.number)
    ctx.audit_detail = f"{name} for {owner}"
    return _("📌 {name} for {owner}, due {when}: {text}").format(
        name=name, owner=owner, when=when(due_at, ctx.env.zone), text=made.text
    )


@router.command(
    "minutes stop",
    summary="close the minutes and post them (message and HTML)",
    roles=CHAIR_ONLY,
    example="!minutes stop",
)
async def minutes_stop(ctx: Context) -> None:
    typed_in = ctx.thread
    meeting = await _minuting(ctx)
    ctx.thread = typed_in  # the minutes are the summary: in the room's timeline
    meeting.state, meeting.stopped_at = "closed", ctx.now
    data = await minutes_data(
        ctx.store, meeting, ctx.env, ctx.config.committee.name, ctx.now, ctx.viewer
    )
    name = ShortId.MT.of(meeting.number)
    ctx.audit_detail = f"{name} minutes stop"
    await ctx.reply(
        View("meetings/minutes", data),
        files=[FileSpec(f"rcc-minutes-{name}.html", "minutes-html", "text/html", data,
                        f"Minutes of {name} (HTML)")],
    )  # fmt: skip


async def minutes_data(
    store: Stores, meeting: Meeting, env: ParseEnv, committee: str, now: datetime,
    viewer: Viewer,
) -> dict:  # fmt: skip
    """The minutes as the room they are posted in may read them: each line in full where its
    label (or having heard it said) lets the room, else only counted."""
    entries = await store.meetings.minutes(meeting)
    actions = {a.number: a for a in await store.meetings.actions(open_only=False)}

    def line(e: Any) -> dict[str, Any]:
        row: dict[str, Any] = {"kind": e.kind, "text": e.text, "by": e.author,
                               "at": when(e.at, env.zone)}  # fmt: skip
        if e.action and e.action in actions:
            row["action"] = action_row(actions[e.action], env, now)
        return row

    rows, hidden = seen_rows(viewer, entries, line)
    return {
        "committee": committee,
        "id": ShortId.MT.of(meeting.number),
        "title": meeting.title,
        "room": meeting.room_kind,
        "started": when(meeting.started_at or now, env.zone),
        "stopped": when(meeting.stopped_at or now, env.zone),
        "agreed": [r for r in rows if r["kind"] == "agreed"],
        "actions": [r for r in rows if r["kind"] == "action"],
        "info": [r for r in rows if r["kind"] == "info"],
        "hidden": hidden,
    } | carried_by(viewer)


# --- actions ----------------------------------------------------------------------------------


def _which(text: str, env: ParseEnv) -> str:
    key = text.strip()
    if key.casefold() in ("mine", "open", "all"):
        return key.casefold()
    return owner(key, env)


@router.command(
    "actions",
    summary="actions: open ones (the default), yours, all, or an owner's",
    roles=READERS,
    params=[Pos("which", _which, "mine|open|all|@user|body", optional=True, words=3)],
    example="!actions mine",
)
async def actions(ctx: Context, which: str | None) -> View:
    which = which or "open"
    if which == "mine":
        found = await ctx.store.meetings.actions(owner=ctx.sender)
    elif which in ("open", "all"):
        found = await ctx.store.meetings.actions(open_only=which == "open")
    else:
        found = await ctx.store.meetings.actions(owner=which)
    rows, hidden = seen_rows(ctx.viewer, found, lambda a: action_row(a, ctx.env, ctx.now))
    return View(
        "meetings/actions", {"rows": rows, "which": which, "hidden": hidden} | carried(ctx)
    )


@router.command(
    "action done",
    summary="close an action with a note (its owner, or the chair)",
    roles=READERS,
    params=[Pos("id", ACTION_ID, "AC-n"), Text("note", "note", required=False)],
    example="!action done AC-4 report circulated to the Steering Committee",
)
async def action_done(ctx: Context, id: int, note: str) -> str:
    found = await ctx.store.meetings.action(id)
    if found is None:
        raise CommandError(_("there is no {id}").format(id=ShortId.AC.of(id)))
    if found.owner != ctx.sender and not ctx.has_role(Role.CHAIR):
        raise Refused(
            _("{id} is {owner}'s; they or the chair close it").format(
                id=ShortId.AC.of(id), owner=found.owner
            )
        )
    if found.state == "done":
        raise CommandError(_("{id} is done already").format(id=ShortId.AC.of(id)))
    found.state, found.done_at, found.done_by = "done", ctx.now, ctx.sender
    found.done_note = note.strip()[:1000]
    ctx.audit_detail = f"{ShortId.AC.of(id)} done"
    return _("✅ {id} is done.").format(id=ShortId.AC.of(id))


async def open_actions(store: Stores, config: Sections, now: datetime) -> list[int]:
    return [a.number for a in await store.meetings.actions() if a.overdue_at is None]


@router.job(ACTION_JOB, pending=open_actions, summary="an action's reminders to its owner")
async def follow_up(job: JobContext, action_key: int) -> datetime | None:
    """Once before the due date, once after it: to the owner (a body's: to the chair)."""
    found = await job.store.meetings.action(action_key)
    if found is None or found.state != "open":
        return None
    name = ShortId.AC.of(found.number)
    remind_at = found.due_at - job.config[MeetingsConfig].action_remind_before
    overdue_at = found.due_at + job.config[MeetingsConfig].action_overdue_after
    person = found.owner.startswith("@")
    chairs = set(await job.chairs())
    due = when(found.due_at, job.env.zone)

    async def tell(users: set[str], text: Deferred) -> None:
        for user in sorted(users):  # its text, sealed with its label
            await job.post(text, to_user=user, mentions=[user], alert=True,
                           seal=sealed(found.tlp, heard_by(found)),
                           ref=Ref(RefKind.ACTION, found.number))  # fmt: skip

    if found.reminded_at is None and remind_at <= job.now < found.due_at:
        found.reminded_at = job.now
        reminder = partial(_reminder, name, found.owner if not person else None, due, found.text)
        await tell({found.owner} if person else chairs, Deferred(reminder))
    if found.overdue_at is None and job.now >= overdue_at:
        found.overdue_at = job.now
        late = Deferred(partial(_late, name, found.owner, due, found.text))
        await tell({found.owner, *chairs} if person else chairs, late)
        return None
    later = [t for t in (remind_at, overdue_at) if t > job.now]
    return min(later) if later else None


def _starts(name: str, title: str, starts: object) -> str:
    return _("⏰ {name} “{title}” starts {when}.").format(name=name, title=title, when=starts)


def _reminder(name: str, body: str | None, due: object, text: str) -> str:
    """An action's reminder: to its owner, or (a body's action) to the chair."""
    if body is None:
        return _("📌 Your action {name} is due {due}: {text} — !action done {name} <note> "
                 "when it is.").format(name=name, due=due, text=text)  # fmt: skip
    return _("📌 {owner}'s action {name} is due {due}: {text} — !action done {name} <note> "
             "when it is.").format(owner=body, name=name, due=due, text=text)  # fmt: skip


def _late(name: str, owner: str, due: object, text: str) -> str:
    return _("⚠️ {name} ({owner}) was due {due} and is still open: {text}").format(
        name=name, owner=owner, due=due, text=text
    )


async def digest_actions(store: Stores, env: ParseEnv, now: datetime, viewer: Any) -> list[dict]:
    """Open and overdue actions for the digest, each where its label lets the digest's room."""
    rows, _hidden = seen_rows(
        viewer, await store.meetings.actions(), lambda a: action_row(a, env, now)
    )
    return rows


class MeetingsConfig(Section):
    agenda_before: Duration = Field(
        timedelta(days=2), description='a duration such as "2d": the agenda goes out this early'
    )
    remind_before: Duration = Field(
        timedelta(hours=1), description='a duration such as "1h": the room is reminded then'
    )
    action_remind_before: Duration = Field(
        timedelta(days=3), description='a duration such as "3d" before an action is due'
    )
    action_overdue_after: Duration = Field(
        timedelta(days=1), description='a duration such as "1d" after an action was due'
    )


router.section("meetings", MeetingsConfig)
