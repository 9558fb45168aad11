"""Rules shared by the content commands: which country a member acts for."""

from __future__ import annotations

from commands.context import Context
from commands.framework import CommandError, Refused, Role
from commands.i18n import _
from commands.reference import Country


def own_country(ctx: Context) -> Country | None:
    """The country an NCPOC represents (None for other roles)."""
    if ctx.member is None or Role.NCPOC not in ctx.member.roles or not ctx.member.country:
        return None
    return ctx.env.reference.countries.by_code.get(ctx.member.country)


def acting_country(ctx: Context, requested: Country | None) -> Country:
    """The country a change is made for: an NCPOC's own; the chair names any with country=."""
    own = own_country(ctx)
    if requested is None:
        if own is not None:
            return own
        raise CommandError(_("name the country with country=XX (the chair acts for any country)"))
    if ctx.has_role(Role.CHAIR) or (own is not None and own.code == requested.code):
        return requested
    if own is None:
        raise Refused(
            _("NCPOCs act for their own country; only the chair may do this for {name}.").format(
                name=requested.name
            )
        )
    raise Refused(
        _(
            "NCPOCs act for their own country ({own}); only the chair may do this for {name}."
        ).format(own=own.name, name=requested.name)
    )


def label(country: Country) -> str:
    return f"{country.name} ({country.code})"
