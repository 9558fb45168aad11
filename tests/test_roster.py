"""`!roster`, `!roster add`, `!roster remove`, `!whoami` and `!help` through the dispatcher."""

from __future__ import annotations

import pytest

from tests.helpers import ADMIN, CHAIR, JM1, JM2, OUTSIDER, STEERING, TT1, say, text_of


async def member(app, user):
    async with app.db.unit(write=False) as store:
        return await store.roster.member(user)


async def test_config_roster_is_seeded(app):
    assert (await member(app, TT1)).country == "TT"
    assert (await member(app, CHAIR)).roles == {"chair"}


async def test_roster_lists_countries_and_roles(app):
    body = text_of(await say(app, STEERING, "!roster"))
    assert "Jamaica (JM): @jm1:test.org" in body
    assert "Barbados (BB): no NCPOC yet" in body
    assert f"RCC chair: {CHAIR}" in body and f"bot admin: {ADMIN}" in body
    assert "2/20 countries have at least one NCPOC" in body


async def test_chair_adds_second_ncpoc_and_third_is_refused(app):
    ok = await say(app, CHAIR, f"!roster add {JM2} role=ncpoc country=jamaica")
    assert ok.outcome == "accepted" and "NCPOC for Jamaica (JM)" in text_of(ok)
    assert (await member(app, JM2)).country == "JM"
    third = await say(app, CHAIR, "!roster add @jm3:test.org role=ncpoc country=JM")
    assert third.outcome == "invalid"
    assert "Jamaica already has 2 NCPOCs (@jm1:test.org, @jm2:test.org)" in text_of(third)
    assert await member(app, "@jm3:test.org") is None


async def test_the_chairs_roster_changes_are_said_in_the_chairs_language(app):
    await say(app, CHAIR, "!lang es", room="!dm-chair", kind="direct")
    added = await say(app, CHAIR, f"!roster add {JM2} role=ncpoc country=JM", room="!dm-chair",
                      kind="direct")  # fmt: skip
    assert "✅ @jm2:test.org añadido/a como NCPOC de Jamaica (JM)." in text_of(added)
    refused = await say(app, CHAIR, "!roster add @x:test.org role=ncpoc", room="!dm-chair",
                        kind="direct")  # fmt: skip
    assert "el rol NCPOC necesita un país: añada country=XX" in text_of(refused)


async def test_the_chair_manages_the_committee_an_ncpoc_may_not(app):
    assert (await say(app, CHAIR, "!roster add @s2:test.org role=steering")).outcome == "accepted"
    refused = await say(app, JM1, "!roster add @s3:test.org role=steering")
    assert refused.outcome == "refused" and await member(app, "@s3:test.org") is None


async def test_add_checks_country_rules(app):
    no_country = await say(app, CHAIR, "!roster add @x:test.org role=ncpoc")
    assert "the role NCPOC needs a country" in text_of(no_country)
    stray = await say(app, CHAIR, "!roster add @x:test.org role=chair country=JM")
    assert "country= applies to NCPOCs and contacts, not to the role chair" in text_of(stray)
    twice = await say(app, CHAIR, f"!roster add {JM1} role=ncpoc country=TT")
    assert "already has the role ncpoc" in text_of(twice)
    assert await member(app, "@x:test.org") is None


async def test_remove_member_and_last_chair_is_kept(app):
    removed = await say(app, CHAIR, f"!roster rm {TT1}")
    assert removed.outcome == "accepted" and await member(app, TT1) is None
    missing = await say(app, CHAIR, f"!roster remove {TT1}")
    assert "is not on the roster" in text_of(missing)
    last = await say(app, CHAIR, f"!roster remove {CHAIR}")
    assert "without a chair" in text_of(last) and await member(app, CHAIR)


async def test_whoami(app):
    assert "NCPOC for Trinidad and Tobago (TT)" in text_of(await say(app, TT1, "!whoami"))
    stranger = text_of(await say(app, OUTSIDER, "!whoami"))
    assert "not on the committee's roster" in stranger


async def test_help_lists_only_what_you_may_use(app):
    chair = text_of(await say(app, CHAIR, "!help"))
    stranger = text_of(await say(app, OUTSIDER, "!help"))
    assert "!roster add" in chair
    assert "!roster" not in stranger and "!whoami" in stranger and "!help" in stranger


async def test_help_for_one_command_and_a_family(app):
    one = text_of(await say(app, JM1, "!help roster add"))
    assert "Who: RCC chair, bot admin (not you)" in one
    assert "Example: !roster add @tt-cirt:example.org role=contact kind=cirt" in one
    family = text_of(await say(app, CHAIR, "!help roster"))
    assert "!roster remove" in family and "!roster add" in family
    unknown = await say(app, JM1, "!help nosuch")
    assert "unknown command !nosuch" in text_of(unknown)


async def test_whoami_bot_shows_the_device_and_whether_it_is_cross_signed(app):
    shown = text_of(await say(app, JM1, "!whoami bot"))
    assert "@rccbot:test.org, device RCCBOTTEST" in shown
    assert "not cross-signed" in shown


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("@\u0441hair:test.org", "outside printable ASCII"),  # a Cyrillic es for the c
        ("@tt\u200b1:test.org", "outside printable ASCII"),  # a zero-width space
        ("@tt1\u202e:test.org", "outside printable ASCII"),  # a right-to-left override
        ("@chalr:test.org", "looks like @chair:test.org"),  # l for i
        ("@TT1:test.org", "looks like @tt1:test.org"),
        ("@jrn1:test.org", "looks like @jm1:test.org"),  # rn for m
        ("@kx9:test.org", None),  # no member reads like it
    ],
)
async def test_look_alike_user_ids_are_refused(app, typed, why):
    outcome = await say(app, CHAIR, f"!roster add {typed} role=steering")
    if why is None:
        assert outcome.outcome == "accepted", text_of(outcome)
    else:
        assert outcome.outcome == "invalid" and why in text_of(outcome)


async def test_admins_manage_contacts_never_the_committee(app):
    contact = "!roster add @cirt:test.org role=contact kind=cirt country=JM"
    assert (await say(app, ADMIN, contact)).outcome == "accepted"
    for command in (
        "!roster add @admin:test.org role=chair",  # an admin taking the chair
        "!roster add @other:test.org role=admin",
        "!roster add @new:test.org role=steering",  # a vote on the Steering Committee
        "!roster add @jm2:test.org role=ncpoc country=JM",  # RCC clearance and a vote
        f"!roster remove {CHAIR}",
        f"!roster remove {ADMIN}",
        f"!roster remove {JM1}",
        f"!roster remove {STEERING}",
    ):
        outcome = await say(app, ADMIN, command)
        assert outcome.outcome == "refused", command
        assert "only the chair" in text_of(outcome)
    assert (await say(app, ADMIN, "!roster remove @cirt:test.org")).outcome == "accepted"
    handed = await say(app, CHAIR, "!roster add @next:test.org role=chair")  # a hand-over
    assert handed.outcome == "accepted"
    assert (await say(app, CHAIR, f"!roster remove {CHAIR}")).outcome == "accepted"


async def test_a_person_holds_one_role_for_one_country(app):
    for command, held in (
        (f"!roster add {JM1} role=contact kind=cirt country=TT", "NCPOC"),  # another country
        (f"!roster add {JM1} role=contact kind=cirt country=JM", "NCPOC"),
        (f"!roster add {JM1} role=steering", "NCPOC"),
        (f"!roster add {CHAIR} role=ncpoc country=JM", "RCC chair"),  # a second vote
        (f"!roster add {STEERING} role=ncpoc country=TT", "Steering Committee member"),
    ):
        outcome = await say(app, CHAIR, command)
        assert outcome.outcome == "invalid", command
        assert f"is {held} already" in text_of(outcome) and "one role for one country" in (
            text_of(outcome)
        )
    assert (await member(app, JM1)).roles == {"ncpoc"}
    admin_too = await say(app, CHAIR, f"!roster add {JM1} role=admin")
    assert admin_too.outcome == "accepted", text_of(admin_too)  # the operators' role goes along


async def test_the_config_gives_one_role_for_one_country(tmp_path):
    from bot.config import ConfigError, load_config
    from tests.helpers import DEFAULT_ROSTER, write_config

    twice = DEFAULT_ROSTER + f'\n[[roster]]\nuser_id = "{JM1}"\nrole = "contact"\n'
    twice += 'country = "TT"\nkind = "cirt"\n'
    path = write_config(tmp_path, "sqlite+aiosqlite:///x.db", roster=twice)
    with pytest.raises(ConfigError, match="one role for one country"):
        load_config(path)


async def test_roster_changes_are_announced_in_the_rcc_room(app):
    from commands.values import RoomKind

    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    outcome = await say(
        app, CHAIR, "!roster add @x:test.org role=steering", room="!dm", kind="direct"
    )
    rooms = [r.room_id for r in outcome.replies]
    assert rooms == ["!rcc:test.org", "!dm"]
    assert "📋 Roster: Added @x:test.org" in outcome.replies[0].message.body


async def test_the_roster_takes_only_people_who_exist(app):
    ghost = await say(app, CHAIR, "!roster add @ghost:nowhere.example role=ncpoc country=BB")
    assert ghost.outcome == "invalid"
    assert "does not exist on its homeserver" in text_of(ghost) and "force=yes" in text_of(ghost)
    unsure = await say(app, CHAIR, "!roster add @unsure:test.org role=steering")
    assert unsure.outcome == "invalid" and "could not be checked" in text_of(unsure)
    forced = await say(app, CHAIR, "!roster add @ghost:nowhere.example role=steering force=yes")
    assert forced.outcome == "accepted", text_of(forced)
    assert (await member(app, "@ghost:nowhere.example")).roles == {"steering"}


async def test_a_broadcasts_recipients_are_read_in_one_query_and_a_unit_sees_its_own_changes(db):
    from datetime import UTC, datetime

    from sqlalchemy import event

    NOW = datetime(2026, 12, 7, tzinfo=UTC)

    people = [f"@ncpoc{i}:test.org" for i in range(30)]
    async with db.unit() as store:
        for i, user in enumerate(people):
            country = ("JM", "TT", "BB", "GD", "LC")[i % 5]
            await store.roster.add(
                user_id=user, role="ncpoc", country=country, added_by=CHAIR, now=NOW
            )
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with db.unit() as store:
            await store.roster.warm([*people, OUTSIDER])
            warmed = len(statements)
            found = [await store.roster.member(user) for user in [*people, OUTSIDER]]
            assert len(statements) == warmed, "member() asked again after warm()"
            assert [m.country for m in found[:5] if m] == ["JM", "TT", "BB", "GD", "LC"]
            assert found[-1] is None
            await store.roster.add(
                user_id=OUTSIDER, role="steering", country=None, added_by=CHAIR, now=NOW
            )
            changed = await store.roster.member(OUTSIDER)  # this unit's own change
            assert changed is not None and changed.roles == {"steering"}
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert len([s for s in statements[:warmed] if "FROM roster" in s]) == 1
