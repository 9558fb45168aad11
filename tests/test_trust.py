"""Trusting the sender: commands only from cross-signed devices, identities pinned on first
sight, a changed one waiting for the chair (`!roster trust`). Through the dispatcher; the
cross-signing chain itself is checked against Synapse in test_e2e_trust."""

from __future__ import annotations

import json

import pytest

from commands.values import RoomKind
from tests.helpers import ADMIN, CHAIR, JM1, TT1, Postman, body_of, say, text_of

NEW_KEY = "N" * 43  # a member's identity after a reset (or in someone else's hands)


@pytest.fixture
def hs(app):
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    return Postman(app)


async def audit(app, action):
    async with app.db.unit(write=False) as store:
        return [e for e in await store.audit.recent(limit=100) if e.action == action]


async def test_a_device_not_cross_signed_is_told_once_then_only_audited(app):
    first = await say(app, CHAIR, "!deadline list", master_key=None)
    assert first.outcome == "refused"
    assert "Verify this session" in text_of(first) and "Settings → Sessions" in text_of(first)
    again = await say(app, CHAIR, "!deadline list", master_key=None)
    assert again.outcome == "refused" and again.replies == []
    assert len(await audit(app, "deadline list")) == 2  # both are in the audit log
    signed = await say(app, CHAIR, "!deadline list")  # the same person, a verified session
    assert signed.outcome == "accepted"


async def test_help_and_whoami_answer_any_device_and_whoami_says_if_it_counts(app):
    assert (await say(app, JM1, "!help", master_key=None)).outcome == "accepted"
    unsigned = text_of(await say(app, JM1, "!whoami", master_key=None))
    assert "session TESTDEVICE is not verified, so the bot does not act" in unsigned
    signed = text_of(await say(app, JM1, "!whoami"))
    assert "session TESTDEVICE is verified" in signed
    assert "Your cross-signing master key: " in signed


async def test_unsigned_devices_count_when_the_config_says_so(make_app):
    app = await make_app("[security]\nexclude_insecure_devices = false\n")
    assert (await say(app, CHAIR, "!deadline list", master_key=None)).outcome == "accepted"


async def test_a_changed_identity_is_answered_like_an_unverified_session_until_confirmed(app, hs):
    assert (await say(app, JM1, "!status")).outcome == "accepted"  # pinned on first sight
    changed = await say(app, JM1, "!incident new severity=high tlp=red Breach", master_key=NEW_KEY)
    assert changed.outcome == "refused"
    assert "new cross-signing identity" in text_of(changed)
    assert "someone else has your password" in text_of(changed)
    ordinary = await say(app, JM1, "!status", master_key=NEW_KEY)
    assert ordinary.outcome == "refused" and ordinary.replies == []  # told once, then audited
    whoami = text_of(await say(app, JM1, "!whoami", master_key=NEW_KEY))
    assert "NNNN NNNN" in whoami and "does not accept it yet" in whoami
    mine = await say(app, JM1, "!status")  # the owner's session under the pinned key
    assert mine.outcome == "accepted", text_of(mine)
    await app.jobs.run("room notices", 0)
    told = [r for r in await hs.deliver_all() if "@jm1:test.org's cross-signing" in body_of(r)]
    assert [r.room_id for r in told] == ["!rcc:test.org"]
    assert "@jm1:test.org's cross-signing identity changed" in body_of(told[0])
    assert "NNNN NNNN" in body_of(told[0]) and "answers them only to help" in body_of(told[0])
    assert JM1 in json.loads(told[0].content)["m.mentions"]["user_ids"]

    own = await say(app, JM1, f"!roster trust {JM1} {NEW_KEY}", master_key=NEW_KEY)
    assert own.outcome == "refused"
    by_admin = await say(app, ADMIN, f"!roster trust {JM1} {NEW_KEY}", room="!dm:t", kind="direct")
    assert by_admin.outcome == "refused" and "confirmed by the chair" in text_of(by_admin)
    wrong = await say(app, CHAIR, f"!roster trust {JM1} {'M' * 43}")
    assert wrong.outcome == "refused", text_of(wrong)
    assert "NNNN NNNN" in text_of(wrong) and "MMMM MMMM" in text_of(wrong)
    spaced = " ".join(NEW_KEY[i : i + 4] for i in range(0, len(NEW_KEY), 4)).lower()
    confirmed = await say(app, CHAIR, f"!roster trust {JM1} {spaced}")
    assert confirmed.outcome == "accepted", text_of(confirmed)
    assert "NNNN NNNN" in text_of(confirmed)
    assert confirmed.replies[0].room_id == "!rcc:test.org"  # announced like roster changes
    again = await say(app, JM1, "!incident new severity=high tlp=red Breach", master_key=NEW_KEY)
    assert again.outcome == "accepted", text_of(again)
    nothing = await say(app, CHAIR, f"!roster trust {JM1} {NEW_KEY}")
    assert "no new identity waiting" in text_of(nothing)
    old = await say(app, JM1, "!status")  # the key pinned before is not the identity any more
    assert old.outcome == "refused"


async def test_a_refused_identity_stays_refused_and_the_pinned_one_works(app):
    assert (await say(app, JM1, "!status")).outcome == "accepted"
    assert (await say(app, JM1, "!status", master_key=NEW_KEY)).outcome == "refused"
    dropped = await say(app, CHAIR, f"!roster distrust {JM1}")
    assert dropped.outcome == "accepted", text_of(dropped)
    assert "is refused" in text_of(dropped) and "NNNN NNNN" in text_of(dropped)
    again = await say(app, JM1, "!status", master_key=NEW_KEY)
    assert again.outcome == "refused"
    async with app.db.unit(write=False) as store:
        row = await store.identities.get(JM1)
        notices = await store.notices.unsent()
    assert row.pending_key is None and row.refused_key == NEW_KEY
    assert len(notices) == 1, "a refused key seen again is not announced again"
    assert (await say(app, JM1, "!status")).outcome == "accepted"
    none = await say(app, CHAIR, f"!roster distrust {JM1}")
    assert none.outcome == "invalid" and "no new identity waiting" in text_of(none)


async def test_the_chairs_new_identity_is_confirmed_by_an_admin_not_the_chair(app):
    assert (await say(app, CHAIR, "!deadline list")).outcome == "accepted"
    refused = await say(app, CHAIR, "!broadcast Patch the VPN appliances now", master_key=NEW_KEY)
    assert refused.outcome == "refused" and "new cross-signing identity" in text_of(refused)
    # (From a DM: an admin in the RCC room would keep it from showing an AMBER broadcast.)
    confirmed = await say(
        app, ADMIN, f"!roster trust {CHAIR} {NEW_KEY}", room="!dm-admin", kind="direct"
    )
    assert confirmed.outcome == "accepted", text_of(confirmed)
    again = await say(app, CHAIR, "!broadcast Patch the VPN appliances now", master_key=NEW_KEY)
    assert again.outcome == "accepted", text_of(again)


async def test_the_config_vouches_for_a_chairs_new_identity(make_app):
    from tests.helpers import DEFAULT_ROSTER, master_key_of

    app = await make_app()
    await say(app, CHAIR, "!deadline list", master_key=master_key_of(CHAIR))  # pinned
    chair = f'role = "chair"\nmaster_key = "{NEW_KEY}"'
    vouched = await make_app(roster=DEFAULT_ROSTER.replace('role = "chair"', chair))
    outcome = await say(
        vouched, CHAIR, "!broadcast Patch the VPN appliances now", master_key=NEW_KEY
    )
    assert outcome.outcome == "accepted", text_of(outcome)
    async with vouched.db.unit(write=False) as store:
        assert (await store.identities.get(CHAIR)).master_key == NEW_KEY


async def test_a_changed_identity_gets_no_record_content(app):
    made = await say(app, JM1, "!incident new severity=high tlp=red Secret breach")
    assert made.outcome == "accepted", text_of(made)
    for command in ("!incident show INC-1", "!incident list all", "!lesson search breach"):
        outcome = await say(app, JM1, command, master_key=NEW_KEY)
        assert outcome.outcome == "refused", command
        assert "Secret breach" not in text_of(outcome) and "INC-1" not in text_of(outcome)
    assert "Secret breach" in text_of(await say(app, TT1, "!incident show INC-1"))


def test_a_quota_holds_back_what_is_over_it_per_key():
    from bot.logs import Quota

    quota = Quota(2, 3600, keys=3)
    assert [quota.allow("a") for _ in range(5)] == [True, True, False, False, False]
    assert quota.held("a") == 3 and quota.held("a") == 0
    assert quota.allow("b")  # another key has its own
    for key in "cdefg":  # at most `keys` are remembered
        quota.allow(key)
    assert len(quota._used) == 3


async def test_the_roster_cache_does_not_grow_with_every_stranger(app):
    from storage.roster import MOST_CACHED

    for n in range(MOST_CACHED + 50):
        async with app.db.unit(write=False) as store:
            assert await store.roster.member(f"@stranger{n}:evil.org") is None
    assert len(app.db._roster_cache) <= MOST_CACHED
    async with app.db.unit(write=False) as store:
        assert await store.roster.member(CHAIR) is not None
