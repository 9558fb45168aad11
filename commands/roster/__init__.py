"""`!roster`: who the committee's members are, and changes to that list."""

from __future__ import annotations

from pathlib import Path

from commands import directory
from commands.context import Context
from commands.framework import (
    NATIONAL,
    ONE_PER_PERSON,
    READERS,
    ROLE_TITLES,
    ROSTER_KEEPERS,
    CommandError,
    Opt,
    Pos,
    Refused,
    Role,
    Router,
    Text,
    View,
    role_titles,
)
from commands.i18n import N_, _
from commands.languages import language
from commands.reference import Country
from commands.types import country, role, user_id, yes_no
from commands.values import RoomKind
from commands.values import fingerprint as show_key

router = Router(
    "roster",
    templates=Path(__file__).parent / "templates",
    topic=N_("who is on the committee, and in which role"),
)

ROSTER_READERS = READERS | {Role.ADMIN}
ROLE_METAVAR = "<ncpoc|contact|chair|steering|admin>"
# The options that describe a national contact (commands.directory), for !roster add.
DETAIL_OPTS = [
    Opt("kind", directory.kind),
    Opt("agency", directory.text, "..", words=6),
    Opt("title", directory.text, "..", words=6),
    Opt("email", directory.email, "address"),
    Opt("phone", directory.phone, "+E164", words=5),
    Opt("lang", language),
]


@router.command(
    "roster",
    summary="countries with their NCPOCs; the chair, steering members and admins",
    roles=ROSTER_READERS,
    example="!roster",
)
async def roster_list(ctx: Context) -> View:
    entries = await ctx.store.roster.entries()
    by_country: dict[str, list[str]] = {}
    others: dict[Role, list[str]] = {
        r: [] for r in (Role.CHAIR, Role.STEERING, Role.RIFC, Role.ADMIN)
    }
    contacts: dict[str, int] = {}
    for entry in entries:
        if entry.role == Role.NCPOC:
            by_country.setdefault(entry.country or "", []).append(entry.user_id)
        elif entry.role == Role.CONTACT:
            contacts[entry.country or ""] = contacts.get(entry.country or "", 0) + 1
        else:
            others[Role(entry.role)].append(entry.user_id)
    countries = [
        {
            "code": c.code,
            "name": c.name,
            "members": by_country.get(c.code, []),
            "contacts": contacts.get(c.code, 0),
        }
        for c in ctx.env.reference.countries
    ]
    return View(
        "roster/list",
        {
            "committee": ctx.config.committee.name,
            "countries": countries,
            "roles": [{"title": _(ROLE_TITLES[r]), "members": m} for r, m in others.items()],
            "filled": sum(1 for c in countries if c["members"]),
            "total": len(countries),
        },
    )


@router.command(
    "roster add",
    summary="add a member, or a role to a member",
    roles=ROSTER_KEEPERS,
    params=[
        Pos("user", directory.contact_id, "<@user:server|email>"),
        Opt("role", role, ROLE_METAVAR, required=True),
        Opt("country", country, "XX"),
        *DETAIL_OPTS,
        Opt("force", yes_no, "yes"),
    ],
    example="!roster add @tt-cirt:example.org role=contact kind=cirt country=TT "
    'agency="TT-CSIRT" phone=+18685550100',
    details="NCPOCs and national contacts need a country; other roles take none. A country "
    "has at most two NCPOCs unless the config says otherwise (kind=primary|alternate; the "
    "first is primary). A contact needs a kind: cirt, le-24x7 (24/7 law enforcement), "
    "oas-cicte or other. agency=, title=, email=, phone= (E.164) and lang= describe both; "
    "a Steering member's agency= is the organisation they sit for (it may lead projects). "
    "The user must exist on their homeserver (force=yes adds an account about to be "
    "created, or one that cannot be checked now).",
)
async def roster_add(
    ctx: Context,
    user: str,
    role: Role,
    country: Country | None,
    force: bool | None,
    kind: str | None = None,
    agency: str | None = None,
    title: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    lang: str | None = None,
) -> str:
    store = ctx.store.roster
    details = {"kind": kind, "agency": agency, "title": title, "email": email}
    details.update(phone=phone, lang=lang)
    given = {k: v for k, v in details.items() if v is not None}
    _may_grant(ctx, role, country, given)
    by_email = directory.email_only(user)
    if by_email and role is not Role.CONTACT:
        raise CommandError(_("only a contact may be added by email address (role=contact)"))
    if by_email:
        given.setdefault("email", user.removeprefix(directory.EMAIL_ONLY))
    await _is_new(ctx, user, role)
    if country is not None and role is Role.NCPOC:
        await _check_room_for_ncpoc(ctx, country)
        if "kind" not in given:
            taken = {e.rank or "primary" for e in await store.ncpocs(country.code)}
            given["kind"] = "alternate" if "primary" in taken else "primary"
    if role is Role.NCPOC and "kind" in given:
        given["rank"] = given.pop("kind")
    if not force and not by_email:
        await _check_exists(ctx, user)
    await store.add(
        user_id=user,
        role=role.value,
        country=country.code if country else None,
        added_by=ctx.sender,
        now=ctx.now,
        details=given,
    )
    ctx.audit_detail = f"added {user} as {role.value}" + (
        f" for {country.code}" if country else ""
    )
    return await _announced(ctx, _added(directory.shown(user), role, country))


def _added(said: str, role: Role, country: Country | None) -> str:
    title = _(ROLE_TITLES[role])
    if country is None:
        return _("✅ Added {user} as {role}.").format(user=said, role=title)
    return _("✅ Added {user} as {role} for {country}.").format(
        user=said, role=title, country=f"{country.name} ({country.code})"
    )


def _may_grant(ctx: Context, role: Role, country: Country | None, given: dict[str, str]) -> None:
    """Refuse a role this sender may not give, or details that do not fit the role."""
    if role not in ADMINS_GRANT and not ctx.has_role(Role.CHAIR):
        raise Refused(
            _(
                "only the chair gives the role {value} (NCPOCs and Steering Committee members "
                "vote, read and act for the committee), or the bot's configuration; admins "
                "manage national contacts"
            ).format(value=role.value)
        )
    if role in NATIONAL and country is None:
        raise CommandError(
            _("the role {role} needs a country: add country=XX").format(role=_(ROLE_TITLES[role]))
        )
    if role not in NATIONAL and country is not None:
        raise CommandError(
            _("country= applies to NCPOCs and contacts, not to the role {value}").format(
                value=role.value
            )
        )
    # A Steering member sits for an agency (which may lead projects); the rest describes
    # national contacts.
    described = {k: v for k, v in given.items() if not (role is Role.STEERING and k == "agency")}
    if role not in NATIONAL and described:
        raise CommandError(
            _("{options} describe NCPOCs and contacts, not the role {value}").format(
                options=", ".join(k + "=" for k in described), value=role.value
            )
        )
    try:
        directory.check_kind(role.value, given.get("kind"))
    except ValueError as exc:
        raise CommandError(str(exc)) from None


async def _is_new(ctx: Context, user: str, role: Role) -> None:
    """Refuse a role held already, a second role, or an ID that reads like a member's."""
    if await ctx.store.roster.find(user, role) is not None:
        raise CommandError(
            _("{user} already has the role {value}; nothing changed").format(
                user=user, value=role.value
            )
        )
    await _one_role(ctx, user, role)
    for entry in await ctx.store.roster.entries():
        if entry.user_id != user and skeleton(entry.user_id) == skeleton(user):
            raise CommandError(
                _(
                    "{user} looks like {user_id}, who is on the roster already; "
                    "check the ID letter by letter"
                ).format(user=user, user_id=entry.user_id)
            )


# Letters that read alike in most fonts: a new member whose ID reads like a member's is
# refused (user IDs are ASCII already; see commands.types.user_id).
ALIKE = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("i", "l"), ("|", "l"), ("5", "s"))


def skeleton(user: str) -> str:
    text = user.casefold()
    for look, like in ALIKE:
        text = text.replace(look, like)
    return text


# Admins keep the national contacts (and the bot's own administration); every role that
# votes, reads the committee's records or acts for it is the chair's to give and take.
ADMINS_GRANT = frozenset({Role.CONTACT})


async def _one_role(ctx: Context, user: str, role: Role) -> None:
    """A person holds one role for one country: an NCPOC of one country who is a contact of
    another could act as NCPOC of the other; a chair who is an NCPOC votes twice."""
    held = await ctx.store.roster.member(user)
    if held is None or role not in ONE_PER_PERSON:
        return
    clash = [r for r in held.roles if r in ONE_PER_PERSON]
    if clash:
        raise CommandError(
            _(
                "{user} is {roles} already: a person holds one role for one country. "
                "Remove that role first (!roster remove {user} role=...)"
            ).format(user=user, roles=role_titles(clash))
        )


async def _check_room_for_ncpoc(ctx: Context, country: Country) -> None:
    limit = ctx.config.committee.max_ncpocs_per_country
    current = await ctx.store.roster.ncpocs(country.code)
    if len(current) >= limit:
        names = ", ".join(e.user_id for e in current)
        raise CommandError(
            _(
                "{name} already has {size} NCPOCs ({names}), the most "
                "allowed; remove one first with !roster remove"
            ).format(name=country.name, size=len(current), names=names)
        )


@router.command(
    "roster remove",
    summary="remove a member from the roster (all roles, or one with role=)",
    roles=ROSTER_KEEPERS,
    params=[
        Pos("user", directory.contact_id, "<@user:server|email>"),
        Opt("role", role, ROLE_METAVAR),
    ],
    example="!roster remove @jm1:example.org",
    aliases=["rm", "delete"],
)
async def roster_remove(ctx: Context, user: str, role: Role | None) -> str:
    store = ctx.store.roster
    member = await store.member(user)
    if member is None or (role is not None and role not in member.roles):
        held = f" with the role {role.value}" if role else ""
        raise CommandError(
            _("{user} is not on the roster{held}; nothing changed").format(user=user, held=held)
        )
    taking = member.roles if role is None else frozenset({role})
    if taking - ADMINS_GRANT and not ctx.has_role(Role.CHAIR):
        raise Refused(
            _(
                "{user} is {role_titles}: only the chair changes that entry, "
                "or the bot's configuration; admins manage national contacts"
            ).format(user=user, role_titles=role_titles(member.roles))
        )
    if Role.CHAIR in member.roles and role in (None, Role.CHAIR):
        chairs = [e for e in await store.entries() if e.role == Role.CHAIR]
        if len(chairs) == 1:
            raise CommandError(
                _("that would leave the committee without a chair; add the new chair first")
            )
    removed = await store.remove(user, role.value if role else None)
    roles = ", ".join(e.role for e in removed)
    ctx.audit_detail = f"removed {user} ({roles})"
    return await _announced(ctx, f"✅ Removed {directory.shown(user)} from the roster ({roles}).")


@router.command(
    "roster trust",
    summary="accept a member's new cross-signing identity by its fingerprint (admins: the "
    "chair's)",
    roles=ROSTER_KEEPERS,
    params=[Pos("user", user_id, "<@user:server>"), Text("fingerprint", "fingerprint")],
    example="!roster trust @jm1:example.org 8Hq2 Zx0c 1rTn ...",
    details="When a member's master key changes (a reset, or someone else with the password), "
    "the bot answers sessions under the new key only to help and whoami until this is run. "
    "Compare the new key with the member out of band first (`!whoami` shows it to them) and "
    "type the fingerprint you compared: spaces and case do not matter; another key is "
    "refused. The chair confirms members' identities; an admin confirms the chair's (or the "
    "config does, with master_key in its [[roster]] entry). `!roster distrust` refuses it.",
)
async def roster_trust(ctx: Context, user: str, fingerprint: str) -> str:
    await _may_confirm(ctx, user)
    pending = await ctx.store.identities.get(user)
    typed = _plain(fingerprint)
    waiting = pending.pending_key if pending else None
    if waiting is None:
        raise CommandError(
            _("{user} has no new identity waiting; nothing changed").format(user=user)
        )
    if _plain(waiting) != typed:
        raise Refused(
            _(
                "the key waiting for {user} is {waiting}, not the key you typed ({typed}): "
                "nothing changed. Compare again with {user}; if they did not reset their "
                "identity, refuse it with {command}"
            ).format(
                user=user,
                waiting=show_key(waiting),
                typed=show_key(fingerprint.replace(" ", "")),
                command=f"{ctx.config.committee.command_prefix}roster distrust {user}",
            )
        )
    await ctx.store.identities.confirm(user, waiting, now=ctx.now)
    ctx.audit_detail = f"trusted {user} {waiting}"
    return await _announced(
        ctx,
        _("✅ {user}'s cross-signing identity is confirmed: {key}.").format(
            user=user, key=show_key(waiting)
        ),
    )


@router.command(
    "roster distrust",
    summary="refuse a member's new cross-signing identity; the key pinned before stays",
    roles=ROSTER_KEEPERS,
    params=[Pos("user", user_id, "<@user:server>")],
    example="!roster distrust @jm1:example.org",
    details="For a new key the member did not make (someone else has their password): "
    "sessions under it stay answered only to help and whoami, and the member's sessions "
    "under the key pinned before keep working. Ask the member to change their password.",
)
async def roster_distrust(ctx: Context, user: str) -> str:
    await _may_confirm(ctx, user)
    refused = await ctx.store.identities.distrust(user, now=ctx.now)
    if refused is None:
        raise CommandError(
            _("{user} has no new identity waiting; nothing changed").format(user=user)
        )
    ctx.audit_detail = f"distrusted {user} {refused}"
    return await _announced(
        ctx,
        _(
            "⛔ {user}'s new cross-signing identity {key} is refused; the key pinned before "
            "stays. {user} should change their password now."
        ).format(user=user, key=show_key(refused)),
    )


async def _may_confirm(ctx: Context, user: str) -> None:
    """The chair confirms members' identities, an admin the chair's; nobody their own."""
    member = await ctx.store.roster.member(user)
    if member is None:
        raise CommandError(_("{user} is not on the roster").format(user=user))
    chair = Role.CHAIR in member.roles
    if chair and not ctx.has_role(Role.ADMIN):
        raise Refused(_("a chair's new identity is confirmed by an admin, or through the config"))
    if not chair and not ctx.has_role(Role.CHAIR):
        raise Refused(_("members' identities are confirmed by the chair"))
    if user == ctx.sender:
        raise Refused(_("nobody confirms their own identity"))


def _plain(key: str) -> str:
    """A fingerprint as compared: spaces and case do not matter."""
    return "".join(key.split()).casefold()


async def _check_exists(ctx: Context, user: str) -> None:
    """Nobody is added who does not exist: reminders and broadcasts would go to an empty DM."""
    found = await ctx.exists(user)
    if found is True:
        return
    if found is False:
        raise CommandError(
            _(
                "{user} does not exist on its homeserver: check the ID "
                "letter by letter, or add force=yes for an account about to "
                "be created"
            ).format(user=user)
        )
    raise CommandError(
        _(
            "{user} could not be checked on its homeserver just now; try "
            "again, or add force=yes if you are sure of the ID"
        ).format(user=user)
    )


async def _announced(ctx: Context, text: str) -> str:
    """Every roster change is said in the RCC room, whoever made it and wherever."""
    rcc = ctx.rooms.get(RoomKind.RCC)
    if rcc is not None and rcc != ctx.room_id:
        await ctx.reply(
            _("📋 Roster: {change} (by {sender})").format(
                change=text.removeprefix("✅ "), sender=ctx.sender
            ),
            room_id=rcc,
        )
    return text
