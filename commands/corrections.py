"""Correcting a record, with its history kept: who may, which labels may move, and one
`correction` row per field changed (plus the audit entry every command writes).

The author of a record or the chair may correct it, only where it may be posted (TLP:RED in
its own room). A TLP label may only go up through an edit, unless the original poster lowers
it: someone else cannot make a record more widely readable than its author chose.
"""

from __future__ import annotations

from typing import Any

from commands.context import Context
from commands.framework import CommandError, Refused, Role
from commands.i18n import _
from commands.tlp import check_postable, label, stricter

MAX_REASON = 2000


def check_may_correct(ctx: Context, author: str | None, what: str) -> None:
    if ctx.has_role(Role.CHAIR) or (author is not None and author == ctx.sender):
        return
    raise Refused(_("only its author or the chair may correct {what}").format(what=what))


def check_label(ctx: Context, author: str | None, current: str, new: str, what: str) -> None:
    if new == current:
        return
    if stricter(current, new) == current and author != ctx.sender:
        raise Refused(
            _(
                "{what} is {label}: only its original poster may lower the "
                "label (to {label2}); anyone who may correct it may raise it"
            ).format(what=what, label=label(current), label2=label(new))
        )
    check_postable(new, ctx)  # the new label must be one this room may hold


def check_live(ctx: Context, record: Any, name: str, author: str | None) -> None:
    """A record may be corrected or withdrawn here, by this sender, and still can be."""
    if getattr(record, "withdrawn_at", None) is not None:
        raise CommandError(_("{name} was withdrawn; it cannot change any more").format(name=name))
    check_may_correct(ctx, author, name)
    check_postable(record.tlp, ctx)
    if record.tlp == "red" and ctx.room_id != record.origin_room:
        raise CommandError(
            _("{name} is TLP:RED: correct it in the room where it was posted").format(name=name)
        )


async def corrected(
    ctx: Context, kind: str, name: str, number: int, record: Any, changes: dict[str, Any]
) -> str:
    """Apply an edit and say what changed (the audit entry names the fields)."""
    changed = await apply(ctx, kind, number, record, changes)
    ctx.audit_detail = f"{name} edit {','.join(changed)}"
    return _("✅ {name} corrected ({fields}); the earlier values are kept. [{label}]").format(
        name=name, fields=", ".join(changed), label=label(record.tlp)
    )


async def withdraw(
    ctx: Context, kind: str, name: str, number: int, record: Any, reason: str
) -> str:
    """Withdraw a lesson or a resource: kept, with the reason, out of every listing."""
    await ctx.store.corrections.record(
        kind=kind, number=number, field="withdrawn", before="", after="withdrawn",
        by=ctx.sender, event_id=ctx.event_id, now=ctx.now, reason=reason[:MAX_REASON],
    )  # fmt: skip
    record.withdrawn_at = ctx.now
    ctx.audit_detail = f"{name} withdrawn"
    return _("✅ {name} withdrawn: it no longer appears in lists, searches or digests.").format(
        name=name
    )


async def apply(
    ctx: Context, kind: str, number: int, record: Any, changes: dict[str, Any]
) -> list[str]:
    """Set the fields that change, record each with its value before and after; returns the
    names of those that changed (an error when none did)."""
    changed = []
    for field, value in changes.items():
        if value is None:
            continue
        before = getattr(record, field)
        if before == value:
            continue
        await ctx.store.corrections.record(
            kind=kind, number=number, field=field, before=str(before or ""),
            after=str(value), by=ctx.sender, event_id=ctx.event_id, now=ctx.now,
        )  # fmt: skip
        setattr(record, field, value)
        changed.append(field)
    if not changed:
        raise CommandError(_("nothing to change: give the new values (see !help for the fields)"))
    return changed
