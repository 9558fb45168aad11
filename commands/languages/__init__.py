"""`!lang`: the language the bot writes to each person and in each room.

A person's language is on their roster entry (`lang=` of `!roster add` and `[[roster]]`, or
`!lang fr` by the person); a room's is the committee's (`[committee] language`) unless the
chair set another there (`!lang room fr`). A direct message, a reminder and a broadcast's DM
are in the recipient's language, a room message in the room's (`i18n.language_of`). Command
words stay English everywhere, so that help, scripts and habits work across the region.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands import i18n
from commands.framework import (
    ANYONE,
    ArgumentError,
    CommandError,
    Labelled,
    ParseEnv,
    Pos,
    Role,
    Router,
    one_of,
)
from commands.i18n import N_, ROOM_KEY, _

if TYPE_CHECKING:
    from commands.context import Context

router = Router("lang", topic=N_("the language the bot writes in"))


def _language(text: str, _env: ParseEnv) -> str:
    """A language the bot speaks (`fr`, `FR`), for `!lang` and `lang=`."""
    found = i18n.known(text)
    if found is None:
        raise ArgumentError(
            _("{text!r} is not a language the bot speaks ({known})").format(
                text=text, known=", ".join(i18n.languages())
            )
        )
    return found


# Shown in the order the contract lists them; tests/test_i18n.py checks it names every
# language with a catalogue.
language = Labelled(_language, one_of(("en", "fr", "nl", "es")))


def _choices() -> list[dict]:
    return [{"code": code, "name": i18n.name_of(code)} for code in i18n.languages()]


@router.command(
    "lang",
    summary=N_("the language the bot writes to you in; `!lang fr` changes it"),
    roles=ANYONE,
    params=[Pos("code", language, optional=True)],
    example="!lang fr",
    details=N_(
        "Direct messages, reminders and broadcasts reach you in your language; what the bot "
        "posts in a room is in the room's language (the chair sets it with `!lang room <code>`). "
        "Commands are the same words in every language."
    ),
)
async def lang(ctx: Context, code: str | None) -> str:
    mine = i18n.known(ctx.member.lang if ctx.member else None) or ctx.config.committee.language
    if code is None:
        return _("I write to you in {name} ({code}). Languages: {choices}.").format(
            name=i18n.name_of(mine),
            code=mine,
            choices=", ".join(f"{c['code']} ({c['name']})" for c in _choices()),
        )
    if ctx.member is None:
        raise CommandError(_("only people on the committee's roster have a language here"))
    await ctx.store.roster.set_language(ctx.sender, code)
    ctx.audit_detail = f"language {code}"
    with i18n.speaking(code):  # the answer in the language just chosen
        if ctx.is_direct:
            return _("✅ From now on I write to you in {name}.").format(name=i18n.name_of(code))
        return _(
            "✅ From now on I write to you in {name} in direct messages; this room stays in "
            "its own language."
        ).format(name=i18n.name_of(code))


@router.command(
    "lang room",
    summary=N_("the language the bot posts in in this room"),
    roles=frozenset({Role.CHAIR}),
    params=[Pos("code", language)],
    example="!lang room fr",
    details=N_(
        "Set in the room itself. The committee's language (`[committee] language`) applies "
        "where the chair has set none."
    ),
)
async def lang_room(ctx: Context, code: str) -> str:
    if ctx.is_direct:
        raise CommandError(_("set a room's language in that room, not in a direct message"))
    await ctx.store.state.set(ROOM_KEY.format(room=ctx.room_id), code, now=ctx.now)
    ctx.audit_detail = f"room language {code}"
    ctx.lang = code
    with i18n.speaking(code):
        return _("✅ In this room I now write in {name}.").format(name=i18n.name_of(code))
