"""Decisions by country: `!motion`, `!vote`, `!decisions`, and the job that closes a vote.

The RCC's first task (section 5 of the Action Plan) is to turn the plan's examples into the
minimum standards it adopts. A motion proposes, amends or retires an item of the catalogue; the
chair's opens at once, an NCPOC's once an NCPOC of another country seconds it. Each member state
has one vote, cast by either of its NCPOCs (its later vote replaces the earlier). The motion is
decided as soon as the votes still to come cannot change the outcome, else when its window
closes; an adopted motion makes the next catalogue version, in force at once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from commands import i18n
from commands.audience import Show, Viewer, heard_by, hearers, sealed
from commands.catalogue import PARTS, changed, install, listed
from commands.common import own_country
from commands.context import Context, JobContext
from commands.directory import stand_in
from commands.framework import (
    CONTRIBUTORS,
    READERS,
    ArgumentError,
    CommandError,
    Input,
    Opt,
    ParseEnv,
    Pos,
    RawEvent,
    Refused,
    Role,
    Router,
    Text,
    View,
)
from commands.i18n import N_, Deferred, _
from commands.reference import MONTH, Catalogue
from commands.sections import Duration, Section, Sections
from commands.tlp import carried, label, said, seen_rows, tlp_below_red
from commands.types import choice, typed_id
from commands.values import Ref, RefKind, RoomKind, Seal, ShortId
from storage.inputs import InputStore, StakeholderInput
from storage.lists import pack, unpack
from storage.motions import Motion, Vote
from storage.stores import Stores

CLOSES = "%-d %b %Y %H:%M %Z"  # when a vote closes, with the zone's abbreviation

router = Router(
    "motions",
    templates=Path(__file__).parent / "templates",
    topic=N_("motions to change the plan, and votes"),
)
JOB = "motion"
CHOICES = ("yes", "no", "abstain")
MOTION_ID = typed_id(ShortId.MO)
MAX_TEXT = 1000


def target(text: str, env: ParseEnv) -> str:
    """An item ID, or `<area>.<new-name>` for an item the catalogue does not have yet."""
    key = text.strip().casefold()
    catalogue = env.reference.catalogue
    if catalogue.item(key) is not None:
        return key
    area, dot, name = key.partition(".")
    if dot and name and area in {a.id for a in catalogue.areas}:
        if not all(c.isalnum() or c == "-" for c in name):
            raise ArgumentError(
                _("{text!r}: a new item's name is letters, digits and dashes").format(text=text)
            )
        return key
    close = catalogue.suggest(key)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    areas = ", ".join(a.id for a in catalogue.areas)
    raise ArgumentError(
        _("unknown item {text!r}{hint} (a new item is <area>.<name>, the areas: {areas})").format(
            text=text, hint=hint, areas=areas
        )
    )


def month(text: str, _env: ParseEnv) -> str:
    if not MONTH.fullmatch(text.strip()):
        raise ArgumentError(_("{text!r} is not a month like 2027-06").format(text=text))
    return text.strip()


# --- counting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    eligible: int
    yes: int = 0
    no: int = 0
    abstain: int = 0
    needed: int = 0  # the quorum, fixed when the motion opened

    @property
    def voted(self) -> int:
        return self.yes + self.no + self.abstain

    def words(self, config: Sections) -> str:
        return _(
            "{yes} yes, {no} no, {abstain} abstaining; {voted} of "
            "{eligible} countries voted (quorum {quorum})"
        ).format(
            yes=self.yes,
            no=self.no,
            abstain=self.abstain,
            voted=self.voted,
            eligible=self.eligible,
            quorum=self.needed,
        )


def quorum(eligible: int, config: Sections) -> int:
    return math.ceil(config[MotionsConfig].quorum * eligible)


def outcome(t: Tally, config: Sections) -> str:
    """adopted | rejected | failed (short of quorum), were the vote to end now."""
    if t.voted < t.needed or t.eligible == 0:
        return "failed"
    cast = t.yes + t.no
    return "adopted" if cast and t.yes > config[MotionsConfig].majority * cast else "rejected"


def settled(t: Tally, config: Sections) -> str | None:
    """The outcome once no combination of the votes still to come can change it."""
    left = t.eligible - t.voted
    seen = set()
    for yes in range(left + 1):
        for no in range(left - yes + 1):
            for abstain in range(left - yes - no + 1):
                more = Tally(t.eligible, t.yes + yes, t.no + no, t.abstain + abstain, t.needed)
                seen.add(outcome(more, config))
                if len(seen) > 1:
                    return None
    return seen.pop()


async def eligible(store: Stores, env: ParseEnv, config: Sections) -> list[str]:
    """The countries that vote: member states with an NCPOC (associates where configured;
    observers never)."""
    codes = {e.country for e in await store.roster.ncpocs() if e.country}
    countries = env.reference.countries.by_code
    return sorted(
        c
        for c in codes
        if c in countries
        and (
            countries[c].membership == "member"
            or (countries[c].membership == "associate" and config[MotionsConfig].associates_vote)
        )
    )


async def electorate(
    store: Stores, env: ParseEnv, config: Sections, motion: Motion
) -> tuple[list[str], int]:
    """The countries that vote on a motion and the votes its quorum needs: fixed when it
    opened (a roster change during the vote changes neither), else as they would be now."""
    if motion.electorate is not None and motion.quorum is not None:
        return unpack(motion.electorate), motion.quorum
    voters = await eligible(store, env, config)
    return voters, quorum(len(voters), config)


def tally_of(votes: list[Vote], voters: list[str], needed: int) -> Tally:
    counted = [v for v in votes if v.country in voters]
    return Tally(
        len(voters),
        sum(v.choice == "yes" for v in counted),
        sum(v.choice == "no" for v in counted),
        sum(v.choice == "abstain" for v in counted),
        needed,
    )


# --- deciding ---------------------------------------------------------------------------------

Say = Callable[[str], Awaitable[None]]


async def decide(
    store: Stores,
    motion: Motion,
    result: str,
    t: Tally,
    *,
    env: ParseEnv,
    config: Sections,
    now: datetime,
    on_commit: Callable[[Callable[[], None]], None],
    say: Say,
) -> None:
    """Close a motion with its result; an adopted one makes the next catalogue version."""
    motion.state, motion.decided_at = result, now
    motion.result = t.words(config)
    name = ShortId.MO.of(motion.number)
    line = f"🗳️ {name} {result}: {motion_words(motion)} — {motion.result}."
    if result == "adopted":
        row = await store.catalogue.in_force()
        current = Catalogue.from_data(json.loads(row.data), row.version) if row else None
        if current is None:
            raise RuntimeError("no catalogue version in force")
        try:
            made = changed(current, motion)
        except ValueError as exc:  # the item went away under it (another motion retired it)
            motion.state = "failed"
            motion.result += f"; not applied: {exc}"
            line = f"🗳️ {name} could not be applied: {exc}."
        else:
            stored = await store.catalogue.add(
                made.to_data(), now=now, motion=motion.number, note=motion_words(motion)
            )
            motion.version = stored.version
            made = Catalogue(made.areas, made.items, stored.version)
            on_commit(lambda: install(env.reference, made))
            line += f" The catalogue is now version {stored.version}."
    await store.audit.record(
        actor="vote", action="motion decided", outcome="accepted", now=now,
        detail=f"{name} {motion.state}: {motion.result}"[:1000],
    )  # fmt: skip
    await say(line)


def seal_of(motion: Motion) -> Seal:
    """What an output showing a motion's words carries: its label."""
    return sealed(motion.tlp, heard_by(motion))


def motion_words(motion: Motion) -> str:
    verbs = {"propose": "adopt", "amend": "amend", "retire": "retire"}
    words = f"{verbs[motion.kind]} {motion.target}"
    words += f" ({motion.part})" if motion.part != "standard" else ""
    words += f" — {motion.text}" if motion.text else ""
    return words + (f" (by {motion.due})" if motion.due else "")


async def _settle(ctx: Context, motion: Motion) -> str | None:
    """Decide the motion if the votes still to come cannot change it; returns what to add
    to the reply (the announcement itself, when the vote was cast in the RCC room)."""
    voters, needed = await electorate(ctx.store, ctx.env, ctx.config, motion)
    t = tally_of(await ctx.store.motions.votes(motion), voters, needed)
    result = settled(t, ctx.config)
    if result is None:
        return None
    told: list[str] = []

    async def say(line: str) -> None:
        room = ctx.rooms.get(RoomKind.RCC)
        if room and room != ctx.room_id:
            await ctx.reply(line, room_id=room)
            told.append(f"{ShortId.MO.of(motion.number)} is decided: {motion.state}.")
        else:
            told.append(line)

    await decide(
        ctx.store, motion, result, t, env=ctx.env, config=ctx.config, now=ctx.now,
        on_commit=ctx.on_commit, say=say,
    )  # fmt: skip
    await end_poll(ctx.store, motion, ctx.rooms.get(RoomKind.RCC), ctx.reply)
    return " ".join(told)


# --- commands ---------------------------------------------------------------------------------


async def _open(ctx: Context, motion: Motion) -> None:
    """Open the vote: its window, and who votes and how many votes the quorum needs, fixed
    now for the whole vote."""
    voters = await eligible(ctx.store, ctx.env, ctx.config)
    motion.state, motion.opened_at = "open", ctx.now
    motion.closes_at = ctx.now + ctx.config[MotionsConfig].window
    motion.electorate, motion.quorum = pack(voters), quorum(len(voters), ctx.config)
    ctx.wake(JOB, motion.number)
    room = ctx.rooms.get(RoomKind.RCC)
    if room is not None:  # its poll, for Element's native voting; `!vote` stays the record
        await ctx.reply(
            poll_start(motion), room_id=room, ref=Ref(RefKind.POLL, motion.number),
            seal=seal_of(motion),
        )  # fmt: skip


POLL_START = "org.matrix.msc3381.poll.start"  # MSC3381 as Element sends polls today
POLL_END = "org.matrix.msc3381.poll.end"
TEXT = "org.matrix.msc1767.text"


def poll_start(motion: Motion) -> RawEvent:
    """The motion as a poll: one answer per choice, disclosed (results shown as they come)."""
    question = f"{ShortId.MO.of(motion.number)}: {motion_words(motion)}"
    lines = [question, *(f"{n}. {c}" for n, c in enumerate(CHOICES, start=1))]
    return RawEvent(POLL_START, {
        POLL_START: {
            "kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
            "question": {TEXT: question},
            "answers": [{"id": c, TEXT: c} for c in CHOICES],
        },
        TEXT: "\n".join(lines), "body": "\n".join(lines),
    })  # fmt: skip


def poll_end(motion: Motion, poll_event: str) -> RawEvent:
    """The poll closed, with the official tally (the votes as `!vote` recorded them)."""
    text = f"{ShortId.MO.of(motion.number)} {motion.state}: {motion.result}"
    return RawEvent(POLL_END, {
        "m.relates_to": {"rel_type": "m.reference", "event_id": poll_event},
        POLL_END: {}, TEXT: text, "body": text,
    })  # fmt: skip


async def end_poll(store: Stores, motion: Motion, room: str | None, post: Any) -> None:
    """Close the motion's poll in the RCC room, once it is decided (`post`: a command's reply
    or a job's post); a poll not sent yet has nothing to close."""
    if room is None:
        return
    sent = await store.outbox.first_sent(str(Ref(RefKind.POLL, motion.number)), room)
    if sent is not None and sent.event_id:
        await post(poll_end(motion, sent.event_id), room_id=room, seal=seal_of(motion))


def _is_poll_answer(said: Input) -> bool:
    return said.poll is not None and said.reply_to is not None


@router.listener("poll vote", accepts=_is_poll_answer)
async def poll_vote(ctx: Context, said: Input) -> str | None:
    """An answer to a motion's poll from an NCPOC counts as their country's `!vote` (the
    later replaces the earlier); anyone else's is ignored. The voter hears back in a DM."""
    tag = Ref.parse(await ctx.store.outbox.ref_of(said.reply_to or ""))
    if tag is None or tag.kind != RefKind.POLL or said.poll not in CHOICES:
        return None
    if not ctx.has_role(Role.NCPOC):
        return None
    motion = await ctx.store.motions.get(tag.key)
    if motion is None:
        return None
    try:
        words = await cast(ctx, motion, str(said.poll), "by poll")
    except (CommandError, Refused) as exc:
        words = f"⚠️ {exc.message}"
    await ctx.reply(words, to_user=ctx.sender, seal=seal_of(motion))
    return None


def _check(ctx: Context, kind: str, item_id: str, text: str, part: str = "standard") -> None:
    found = ctx.env.reference.catalogue.item(item_id)
    if len(text) > MAX_TEXT:
        raise CommandError(
            _("the text is too long ({size} characters; at most {MAX_TEXT})").format(
                size=len(text), MAX_TEXT=MAX_TEXT
            )
        )
    if kind == "propose":
        if found is not None and found.status == "adopted":
            raise CommandError(
                _("{item_id} is adopted already; to change it: !motion amend").format(
                    item_id=item_id
                )
            )
        if found is not None and not (text or found.standard):
            raise CommandError(
                _("{item_id} has no minimum standard yet: say the one to adopt").format(
                    item_id=item_id
                )
            )
        if found is None and not text:
            raise CommandError(_("a new item needs its text: `Name: minimum standard`"))
    elif found is None:
        raise CommandError(
            _("{item_id} is not in the catalogue; a new item is proposed").format(item_id=item_id)
        )
    elif found.status == "retired":
        raise CommandError(_("{item_id} is retired").format(item_id=item_id))
    elif kind == "amend" and not text:
        raise CommandError(_("say the amended minimum standard"))
    elif part in ("solutions", "partners") and not listed(text):
        raise CommandError(_("say the {part}, separated by semicolons").format(part=part))


async def _motion(
    ctx: Context, kind: str, item_id: str, by: str | None, given: str | None, text: str,
    part: str = "standard",
) -> tuple[str, Motion]:  # fmt: skip
    if not (ctx.has_role(Role.CHAIR) or own_country(ctx)):
        raise Refused(_("motions come from the chair or an NCPOC"))
    level = said(ctx, given)
    if level == "red":  # every member state votes on it: it cannot be for a few people
        raise CommandError(_("a motion goes to every member state's vote: it cannot be TLP:RED"))
    _check(ctx, kind, item_id, text, part)
    for pending in await ctx.store.motions.pending():
        if pending.target == item_id:
            raise CommandError(
                _("{id} on {item_id} is still open; vote on it first").format(
                    id=ShortId.MO.of(pending.number), item_id=item_id
                )
            )
    mine = own_country(ctx)
    motion = await ctx.store.motions.add(
        kind=kind,
        target=item_id,
        text=text,
        due=by,
        proposer=ctx.sender,
        country=None if ctx.has_role(Role.CHAIR) else mine.code if mine else None,
        base_version=ctx.env.reference.catalogue.version,
        event_id=ctx.event_id,
        now=ctx.now,
        tlp=level,
        origin_room=ctx.room_id,
        said_to=hearers(ctx.viewer.audience),
        part=part,
    )
    name = ShortId.MO.of(motion.number)
    ctx.audit_detail = f"{name} {kind} {item_id}" + (f" {part}" if part != "standard" else "")
    if ctx.has_role(Role.CHAIR):
        await _open(ctx, motion)
        return _opened(ctx, motion), motion
    return _(
        "✅ {name}: {motion_words}. It opens for voting once an NCPOC "
        "of another country seconds it: !motion second {name}"
    ).format(name=name, motion_words=motion_words(motion)), motion


def _opened(ctx: Context, motion: Motion) -> str:
    assert motion.closes_at is not None
    closes = i18n.when(motion.closes_at, ctx.env.zone, CLOSES)
    return _(
        "🗳️ {id} is open: {motion_words}. One vote per member state, "
        "by either NCPOC: !vote {id} yes|no|abstain [note] — until "
        "{closes}."
    ).format(id=ShortId.MO.of(motion.number), motion_words=motion_words(motion), closes=closes)


def _make(kind: str, summary: str, example: str, details: str = "") -> None:
    params: list[Pos | Opt | Text] = [
        Pos("item", target, "<item>" if kind != "propose" else "<item|area.new-name>"),
        Opt("part", choice(*PARTS), "|".join(PARTS)),
        Opt("by", month, "YYYY-MM"),
        Opt("tlp", tlp_below_red),
        Opt("from", typed_id(ShortId.IN), "IN-n"),
        Text("text", "text", required=kind != "retire"),
    ]
    if kind != "amend":  # only an amendment changes a part of an item other than its standard
        params.pop(1)
    declare = router.command(
        f"motion {kind}", summary=summary, roles=CONTRIBUTORS, params=params, example=example,
        details=details + MOTION_LABEL,
    )  # fmt: skip

    async def made(
        ctx: Context, item: str, by: str | None, tlp: str | None, from_: int | None, text: str,
        part: str,
    ) -> str:  # fmt: skip
        said = await _from_input(ctx, from_) if from_ is not None else None
        done, motion = await _motion(ctx, kind, item, by, tlp, text.strip(), part)
        if said is not None:  # the input it came from says what it became
            said.motion = motion.number
        return done

    if kind == "amend":

        @declare
        async def amend(
            ctx: Context, item: str, part: str | None, by: str | None, tlp: str | None,
            from_: int | None, text: str,
        ) -> str:  # fmt: skip
            return await made(ctx, item, by, tlp, from_, text, part or "standard")

    else:

        @declare
        async def handler(
            ctx: Context, item: str, by: str | None, tlp: str | None, from_: int | None, text: str
        ) -> str:
            return await made(ctx, item, by, tlp, from_, text, "standard")


MOTION_LABEL = (
    "Without tlp= its words are AMBER: the Steering Committee's agendas and digests show "
    "them only where AMBER may be read. Once adopted, a standard is the catalogue's, for all. "
    "from=IN-n: it comes from a stakeholder's input to the CSM, whose report then says so."
)


async def _from_input(ctx: Context, number: int) -> StakeholderInput:
    """The input a motion comes from, if this room may read it; not one already taken up."""
    found = await ctx.store.of(InputStore).get(number)
    name = ShortId.IN.of(number)
    if found is None or not ctx.viewer.in_full(found.tlp, found.origin_room, heard_by(found)):
        raise CommandError(_("there is no {id}").format(id=name))
    if found.motion is not None:
        raise CommandError(
            _("{id} became {motion} already").format(id=name, motion=ShortId.MO.of(found.motion))
        )
    return found


_make(
    "propose",
    "propose a minimum standard for the committee to adopt (a new item: area.name)",
    "!motion propose legal.policy Law enacted/Approval Obtained",
)
_make(
    "amend",
    "propose changing an item's minimum standard, or its need, solutions or partners",
    "!motion amend legal.privacy Act in force",
    "part= says what changes: the minimum standard (the default), the need, the solutions "
    "or the partners (a list separated by semicolons, which replaces the item's). Adopted, "
    "it makes the next catalogue version, as a standard does. ",
)
_make("retire", "propose retiring an item", "!motion retire awareness.schools merged into society")


@router.command(
    "motion second",
    summary="second another country's motion: it opens for voting",
    roles=CONTRIBUTORS,
    params=[Pos("id", MOTION_ID, "MO-n")],
    example="!motion second MO-2",
)
async def motion_second(ctx: Context, id: int) -> str:
    motion = await _get(ctx, id)
    if motion.state != "seconding":
        raise CommandError(
            _("{id} is {state}; it needs no second").format(
                id=ShortId.MO.of(id), state=motion.state
            )
        )
    mine = own_country(ctx)
    if not ctx.has_role(Role.CHAIR) and (mine is None or mine.code == motion.country):
        raise Refused(_("a motion is seconded by an NCPOC of another country, or the chair"))
    sees(ctx.viewer, motion)  # its words are in the answer
    motion.seconder = ctx.sender
    await _open(ctx, motion)
    ctx.audit_detail = f"{ShortId.MO.of(id)} seconded"
    room = ctx.rooms.get(RoomKind.RCC)
    opened = _opened(ctx, motion)
    if room and room != ctx.room_id:
        await ctx.reply(opened, room_id=room)
    return opened


async def _get(ctx: Context, number: int) -> Motion:
    motion = await ctx.store.motions.get(number)
    if motion is None:
        raise CommandError(_("there is no {id}").format(id=ShortId.MO.of(number)))
    return motion


@router.command(
    "vote",
    summary="your country's vote on a motion (either NCPOC; a later vote replaces it)",
    roles=frozenset({Role.NCPOC}),
    params=[
        Pos("id", MOTION_ID, "MO-n"),
        Pos("choice", choice(*CHOICES), "yes|no|abstain"),
        Text("note", "note", required=False),
    ],
    example="!vote MO-3 yes adopted by Cabinet in May",
)
async def vote(ctx: Context, id: int, choice: str, note: str) -> str:
    return await cast(ctx, await _get(ctx, id), choice, note)


async def cast(ctx: Context, motion: Motion, choice: str, note: str) -> str:
    """A country's vote, by `!vote` or by its answer to the motion's poll: the same rules."""
    name = ShortId.MO.of(motion.number)
    sees(ctx.viewer, motion)  # the answer may name its words: it carries their label
    if motion.state == "seconding":
        raise CommandError(_("{name} is not open yet: it waits for a second").format(name=name))
    if motion.state != "open":
        raise CommandError(_("{name} is closed ({state})").format(name=name, state=motion.state))
    if motion.closes_at is not None and ctx.now >= motion.closes_at:
        closed = i18n.when(motion.closes_at, ctx.env.zone, CLOSES)
        raise CommandError(
            _("voting on {name} closed at {closed}; a vote now does not count").format(
                name=name, closed=closed
            )
        )
    mine = own_country(ctx)
    voters, _needed = await electorate(ctx.store, ctx.env, ctx.config, motion)
    if mine is None or mine.code not in voters:
        where = mine.name if mine else _("your country")
        raise Refused(
            _(
                "{where} does not vote on {name}: the countries that vote were fixed when it "
                "opened (member states with an NCPOC; associate members only where the "
                "committee's config says so; observer states never)"
            ).format(where=where, name=name)
        )
    before = await ctx.store.motions.vote(
        motion, country=mine.code, voter=ctx.sender, choice=choice, note=note[:500],
        event_id=ctx.event_id, now=ctx.now,
    )  # fmt: skip
    ctx.audit_detail = f"{name} {mine.code} {choice}"
    again = ""
    if before is not None:
        again = f" (replacing {mine.code}'s earlier {before.choice} by {before.voter})"
    decided = await _settle(ctx, motion)
    voted = f"✅ {mine.name} votes {choice} on {name}{again}."
    return f"{voted}\n{decided}" if decided else voted


@router.command(
    "motions",
    summary="the open motions, with each country's vote so far",
    roles=READERS,
    example="!motions",
)
async def motions(ctx: Context) -> View:
    rows, hidden = [], 0
    for motion in await ctx.store.motions.pending():
        if not ctx.viewer.in_full(motion.tlp, motion.origin_room, heard_by(motion)):
            hidden += 1
            continue
        voters, needed = await electorate(ctx.store, ctx.env, ctx.config, motion)
        votes = await ctx.store.motions.votes(motion)
        voted = {v.country: v.choice for v in votes}
        rows.append(
            {
                "id": ShortId.MO.of(motion.number),
                "words": motion_words(motion),
                "state": motion.state,
                "closes": motion.closes_at,
                "tally": tally_of(votes, voters, needed).words(ctx.config),
                "votes": sorted(voted.items()),
                "waiting": [c for c in voters if c not in voted],
                "label": label(motion.tlp),
            }
        )
    data = {"rows": rows, "zone": ctx.env.zone, "hidden": hidden}
    return View("motions/list", data | carried(ctx))


@router.command(
    "decisions",
    summary="the log of decided motions: what the committee adopted, rejected or let fail",
    roles=READERS,
    example="!decisions",
)
async def decisions(ctx: Context) -> View:
    rows, hidden = seen_rows(ctx.viewer, await ctx.store.motions.log(), decision_row)
    data = {"rows": rows, "catalogue": ctx.env.reference.catalogue.label, "hidden": hidden}
    return View("motions/decisions", data | carried(ctx))


def sees(viewer: Viewer, motion: Motion) -> Show:
    """How much of a motion's words this viewer sees (its ID and tally are the committee's)."""
    return viewer.sees(motion.tlp, motion.origin_room, heard_by(motion))


def decision_row(motion: Motion) -> dict:
    return {
        "id": ShortId.MO.of(motion.number),
        "words": motion_words(motion),
        "state": motion.state,
        "result": motion.result,
        "decided": motion.decided_at,
        "version": motion.version,
    }


# --- the job: reminders, and the close of the window ------------------------------------------


async def open_motions(store: Stores, config: Sections, now: datetime) -> list[int]:
    return [m.number for m in await store.motions.pending() if m.state == "open"]


@router.job(JOB, pending=open_motions, summary="reminders to vote, and the close of a motion")
async def close_or_remind(job: JobContext, motion_key: int) -> datetime | None:
    store, now = job.store, job.now
    motion = await store.motions.get(motion_key)
    if motion is None or motion.state != "open" or motion.closes_at is None:
        return None
    voters, needed = await electorate(store, job.env, job.config, motion)
    votes = await store.motions.votes(motion)
    t = tally_of(votes, voters, needed)
    # At the close the votes cast decide; before it, only an outcome nothing can change.
    result = outcome(t, job.config) if now >= motion.closes_at else settled(t, job.config)
    if result is not None:
        room = job.rooms.get(RoomKind.RCC)

        async def say(line: str) -> None:
            if room:
                await job.post(
                    line, room_id=room, ref=Ref(RefKind.MOTION, motion_key), seal=seal_of(motion)
                )

        await decide(
            store, motion, result, t, env=job.env, config=job.config, now=now,
            on_commit=job.on_commit, say=say,
        )  # fmt: skip
        await end_poll(store, motion, room, job.post)
        return None
    rounds = sorted(
        (motion.closes_at - r for r in job.config[MotionsConfig].remind), reverse=False
    )
    due = [n for n, at in enumerate(rounds) if at <= now]
    if due:
        await _remind(job, motion, max(due), {v.country for v in votes}, voters)
    later = [at for at in rounds if at > now]
    return min([*later, motion.closes_at])


def _not_voted(country: str, name: str, words: str, closes: object) -> str:
    """A vote's reminder, in its reader's language."""
    return _(
        "🗳️ {name_of} has not voted on {name} ({motion_words}); "
        "voting closes {closes}. !vote {name} "
        "yes|no|abstain [note]"
    ).format(name_of=country, name=name, motion_words=words, closes=closes)


async def _remind(
    job: JobContext, motion: Motion, round_: int, voted: set[str], voters: list[str]
) -> None:
    """The latest round due, once: to the NCPOCs of the countries yet to vote."""
    key = f"motion {motion.number} reminder"
    done = await job.store.state.get(key)
    if done is not None and int(done) >= round_:
        return
    await job.store.state.set(key, str(round_), now=job.now)
    name = ShortId.MO.of(motion.number)
    assert motion.closes_at is not None
    closes = i18n.Moment(motion.closes_at, job.env.zone, CLOSES)
    sent: set[str] = set()
    national = await job.store.roster.national()
    for entry in await job.store.roster.ncpocs_in([c for c in voters if c not in voted]):
        user = stand_in(entry, job.now, national)
        if user in sent:
            continue
        sent.add(user)
        country = job.env.reference.countries.name_of(entry.country)
        await job.post(
            Deferred(partial(_not_voted, country, name, motion_words(motion), closes)),
            to_user=user,
            mentions=[user],
            ref=Ref(RefKind.MOTION, motion.number),
            alert=True,
            seal=seal_of(motion),
        )


class MotionsConfig(Section):
    window: Duration = Field(timedelta(days=14), description='a duration such as "14d"')
    quorum: Fraction = Field(
        Fraction(2, 3), description='a share of the eligible countries, e.g. "2/3" or "0.5"'
    )
    majority: Fraction = Field(
        Fraction(1, 2), description='a share of the yes and no votes to exceed, e.g. "1/2"'
    )
    associates_vote: bool = Field(False, description="true or false: associate members vote")
    remind: list[Duration] = Field(
        [timedelta(days=3)], description='durations before the window closes, e.g. ["3d"]'
    )

    @field_validator("quorum", "majority", mode="before")
    @classmethod
    def _share(cls, value: Any) -> Fraction:
        try:
            share = Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError("not a share such as 2/3 or 0.5") from None
        if not 0 < share <= 1:
            raise ValueError("a share from 0 (excluded) to 1")
        return share

    @field_validator("majority")
    @classmethod
    def _half_or_more(cls, value: Fraction) -> Fraction:
        if not Fraction(1, 2) <= value < 1:
            raise ValueError("a majority is at least 1/2 and below 1")
        return value


router.section("motions", MotionsConfig)
