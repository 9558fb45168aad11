"""Deadlines, reminders and escalation with a moved clock: who gets what, when, exactly once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.calendar import Schedule, occurrence, period_start, plan
from tests.helpers import CHAIR, JM1, STEERING, TT1, TT2, body_of, say, text_of

POS = ZoneInfo("America/Port_of_Spain")
NASSAU = ZoneInfo("America/Nassau")
DAY = timedelta(days=1)


def schedule(due, every=None, remind=(14, 7, 1), created=None, followups=3):
    return Schedule(
        due=due,
        every=every,
        remind=tuple(timedelta(days=d) for d in remind),
        created_at=created or due - timedelta(days=30),
        followup_every=timedelta(days=7),
        max_followups=followups,
    )


# --- calendar -------------------------------------------------------------------------------


def test_monthly_occurrences_keep_local_time_across_dst():
    first = datetime(2026, 2, 15, 17, tzinfo=NASSAU).astimezone(UTC)  # EST, 22:00 UTC
    s = schedule(first, every="month")
    march = occurrence(s, 1, NASSAU)  # after the switch to EDT on 8 March
    assert march.astimezone(NASSAU).hour == 17 and march.hour == 21
    november = occurrence(s, 9, NASSAU)  # back on EST after 1 November
    assert november.astimezone(NASSAU).hour == 17 and november.hour == 22


def test_month_end_is_clamped_and_the_anchor_day_kept():
    s = schedule(datetime(2027, 1, 31, 21, tzinfo=UTC), every="month")
    days = [occurrence(s, k, POS).astimezone(POS).day for k in range(4)]
    assert days == [31, 28, 31, 30]


def test_periods():
    one_off = schedule(
        datetime(2027, 1, 15, 21, tzinfo=UTC), created=datetime(2026, 11, 2, tzinfo=UTC)
    )
    assert period_start(one_off, 0, POS) == datetime(2026, 10, 1, 4, tzinfo=UTC)
    quarterly = schedule(datetime(2027, 1, 15, 21, tzinfo=UTC), every="quarter")
    assert period_start(quarterly, 0, POS).astimezone(POS).date().isoformat() == "2026-10-15"
    assert period_start(quarterly, 1, POS) == occurrence(quarterly, 0, POS)


def test_plan_drops_rounds_before_creation_and_stops_follow_ups_at_the_next_occurrence():
    due = datetime(2027, 1, 15, 21, tzinfo=UTC)
    late_set = schedule(due, created=due - timedelta(days=3))
    assert [(r.kind, r.seq) for r in plan(late_set, 0, POS)][:2] == [
        ("remind", 86400),
        ("overdue", 0),
    ]
    monthly = schedule(due, every="month", remind=(1,), followups=10)
    followups = [r for r in plan(monthly, 0, POS) if r.kind == "followup"]
    assert len(followups) == 4  # 7, 14, 21, 28 days: the next occurrence is 31 days later


# --- commands -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!deadline add 2026-10-01 Past report", "has already passed"),
        ("!deadline add 2026-11-02 09:00 Earlier today", "has already passed"),
        ("!deadline add 2026-13-01 Bad month", "is not a real date"),
        ("!deadline add next-friday Report", "is not a date like 2026-12-15"),
        ("!deadline add 2026-12-15 Report zone=Mars/Olympus", "is not an IANA time zone"),
        ("!deadline add 2026-12-15 Report remind=7d,soon", "'soon' is not a duration"),
        ("!deadline add 2026-12-15 Report remind=0d", "must be longer than zero"),
        ("!deadline add 2026-12-15 Report remind=400d", "too early"),
        ("!deadline add 2026-12-15 Report every=month remind=40d", "does not fit"),
        ("!deadline add 2026-12-15 Report every=week", "'week' is not one of: month"),
        ("!deadline add 2026-12-15", "missing title"),
        ("!deadline cancel DL-9", "there is no DL-9"),
    ],
)
async def test_bad_deadline_inputs(app, command, expected):
    outcome = await say(app, CHAIR, command)
    assert outcome.outcome == "invalid", text_of(outcome)
    assert expected in text_of(outcome) and "Usage: !deadline" in text_of(outcome)
    async with app.db.unit(write=False) as store:
        assert await store.deadlines.active() == []


async def test_only_the_chair_sets_deadlines(app):
    assert (await say(app, JM1, "!deadline add 2026-12-15 Report")).outcome == "refused"
    assert (await say(app, STEERING, "!deadline list")).outcome == "accepted"


async def test_add_list_cancel(app):
    added = await say(app, CHAIR, "!deadline add 2026-12-15 Q4 status report every=quarter")
    body = text_of(added)
    assert "DL-1 “Q4 status report” is due Tue 15 Dec 2026 17:00 (America/Port_of_Spain)" in body
    assert "Reminders 2w, 1w, 1d before" in body and "since 15 Sep 2026" in body
    with_time = await say(app, CHAIR, "!deadline add 2026-11-20 08:30-05:00 Early remind=30d")
    assert "due Fri 20 Nov 2026 09:30" in text_of(with_time)
    assert "(30d already past)" in text_of(with_time)
    await say(app, JM1, "!status submit")
    listed = text_of(await say(app, STEERING, "!deadline list"))
    assert "DL-1 “Q4 status report” — due Tue 15 Dec 2026 17:00" in listed
    assert "Reported since 15 Sep 2026: JM. Missing: TT." in listed
    cancelled = await say(app, CHAIR, "!deadline cancel dl-2")
    assert "DL-2 “Early” is cancelled" in text_of(cancelled)
    again = await say(app, CHAIR, "!deadline cancel DL-2")
    assert "already cancelled" in text_of(again)
    assert "DL-2" not in text_of(await say(app, STEERING, "!deadline list"))


async def test_submit_names_the_period_the_next_deadline_closes(app):
    await say(app, CHAIR, "!deadline add 2026-12-15 Q4 status report")
    body = text_of(await say(app, JM1, "!status submit"))
    assert "report for DL-1 “Q4 status report” (1 Oct – due 15 Dec 2026) is filed" in body


# --- the reminder job -----------------------------------------------------------------------


class Mailbox:
    """What the reminder job sent, read from the reminder log and the outbox."""

    def __init__(self, app) -> None:
        self.app = app
        self.seen: set[int] = set()
        self.rows: list = []  # the outbox rows of the latest take

    async def take(self) -> list[tuple[str, str, int]]:
        """(recipient, kind, round) of every notification sent since the last take."""
        async with self.app.db.unit(write=False) as store:
            logged = [
                r
                for d in await store.deadlines.all()
                for r in await store.deadlines.log_for(d.id)
                if r.state == "sent" and r.id not in self.seen
            ]
            rows = await store.outbox.pending(limit=1000)
        self.seen |= {r.id for r in logged}
        self.rows = [r for r in rows if r.ref and r.ref.startswith("deadline:")]
        assert sorted(r.to_user for r in self.rows) == sorted(r.recipient for r in logged)
        async with self.app.db.unit() as store:  # as if the sender had sent them
            await store.outbox.mark_all_sent([(r.id, f"$e{r.id}", self.app.clock()) for r in rows])
        return sorted((r.recipient, r.kind, r.seq) for r in logged)

    def bodies(self) -> dict[str, str]:
        """Recipient -> the message of the latest take."""
        return {r.to_user: body_of(r) for r in self.rows}


@pytest.fixture
def mailbox(app) -> Mailbox:
    return Mailbox(app)


async def run(app, deadline: int, started_at=None):
    """Run the reminder job for one deadline now, as the bot's job runner does."""
    if started_at is not None:
        app.jobs.started_at = started_at
    return await app.jobs.run("deadline", deadline)


async def add(app, command: str) -> int:
    outcome = await say(app, CHAIR, command)
    assert outcome.outcome == "accepted", text_of(outcome)
    async with app.db.unit(write=False) as store:
        return (await store.deadlines.active())[-1].id


async def test_reminders_reach_only_countries_that_have_not_reported(app, clock, mailbox):
    deadline = await add(app, "!deadline add 2026-12-15 Q4 report")  # 17:00 local = 21:00 UTC
    due = datetime(2026, 12, 15, 21, tzinfo=UTC)
    assert await run(app, deadline) == due - 14 * DAY
    assert await mailbox.take() == []
    clock.current = due - 14 * DAY
    await run(app, deadline)
    assert await mailbox.take() == [
        (JM1, "remind", 1209600),
        (TT1, "remind", 1209600),
        (TT2, "remind", 1209600),
    ]
    assert {json.loads(r.content)["msgtype"] for r in mailbox.rows} == {"m.text"}  # they ring
    await run(app, deadline)  # the same moment again: nothing twice
    assert await mailbox.take() == []
    await say(app, JM1, "!status submit")  # Jamaica reports: its reminders stop
    clock.current = due - 7 * DAY + timedelta(seconds=30)
    next_time = await run(app, deadline)
    assert await mailbox.take() == [(TT1, "remind", 604800), (TT2, "remind", 604800)]
    assert next_time == due - DAY
    clock.current = due
    await run(app, deadline)
    sent = await mailbox.take()
    assert (CHAIR, "escalation", 0) in sent and (TT1, "overdue", 0) in sent
    assert {s[0] for s in sent} == {CHAIR, TT1, TT2} and STEERING not in str(sent)
    clock.current = due + 7 * DAY
    await run(app, deadline)
    assert await mailbox.take() == [
        (CHAIR, "escalation", 1),
        (TT1, "followup", 1),
        (TT2, "followup", 1),
    ]
    await say(app, TT2, "!status submit")  # late, but it stops the chasing
    clock.current = due + 14 * DAY
    await run(app, deadline)
    assert await mailbox.take() == []


async def test_escalation_lists_the_missing(app, clock, mailbox):
    deadline = await add(app, "!deadline add 2026-12-15 Q4 report")
    await say(app, TT1, "!status submit")
    clock.current = datetime(2026, 12, 15, 21, tzinfo=UTC)
    await run(app, deadline)
    await mailbox.take()
    chair = mailbox.bodies()[CHAIR]
    assert "1/2 countries reported. Still missing:" in chair
    assert "- Jamaica (JM): @jm1:test.org" in chair
    assert "Trinidad" not in chair


async def test_missed_rounds_while_down_give_one_late_notice(app, clock, mailbox):
    deadline = await add(app, "!deadline add 2026-12-15 Q4 report")
    clock.current = datetime(2026, 12, 16, 9, tzinfo=UTC)  # every round until the deadline missed
    app.jobs.started_at = clock.current  # this run of the bot began after the deadline
    await run(app, deadline)
    assert await mailbox.take() == [
        (CHAIR, "escalation", 0),
        (JM1, "overdue", 0),
        (TT1, "overdue", 0),
        (TT2, "overdue", 0),
    ]
    async with app.db.unit(write=False) as store:
        rows = await store.deadlines.log_for(deadline)
    sent = [r for r in rows if r.state == "sent"]
    assert all(r.late for r in sent) and len(sent) == 4
    assert {r.kind for r in rows if r.state == "superseded"} == {"remind"}
    await run(app, deadline)  # a second start later: nothing again
    assert await mailbox.take() == []


async def test_late_notice_says_so(app, clock, mailbox):
    deadline = await add(app, "!deadline add 2026-12-15 Q4 report")
    clock.current = datetime(2026, 12, 1, 22, tzinfo=UTC)
    await run(app, deadline, started_at=clock.current)
    await mailbox.take()
    body = next(iter(mailbox.bodies().values()))
    assert "Sent late: this was due Tue 1 Dec 2026 17:00 (America/Port_of_Spain)" in body


async def test_cancel_stops_everything(app, clock, mailbox):
    deadline = await add(app, "!deadline add 2026-12-15 Q4 report")
    await say(app, CHAIR, "!deadline cancel DL-1")
    clock.current = datetime(2026, 12, 15, 21, tzinfo=UTC)
    assert await run(app, deadline) is None
    assert await mailbox.take() == []


async def test_reminder_shows_the_country_zone_where_it_differs(app, clock, mailbox):
    deadline = await add(app, "!deadline add 2026-12-15 Q4 report")
    clock.current = datetime(2026, 12, 14, 21, tzinfo=UTC)
    await run(app, deadline)
    await mailbox.take()
    bodies = mailbox.bodies()
    assert "In Jamaica that is Tue 15 Dec 2026 16:00 (America/Jamaica)" in bodies[JM1]
    assert "that is" not in bodies[TT1]  # Trinidad is the committee's own clock
    assert "!status submit" in bodies[JM1] and "is due Tue 15 Dec 2026 17:00" in bodies[JM1]


async def test_recurring_deadline_starts_a_new_period(app, clock, mailbox):
    deadline = await add(app, "!deadline add 2026-11-30 Monthly return every=month remind=1d")
    await say(app, JM1, "!status submit")
    await say(app, TT1, "!status submit")
    clock.current = datetime(2026, 11, 30, 21, tzinfo=UTC)
    await run(app, deadline)
    assert await mailbox.take() == [(CHAIR, "escalation", 0)]  # all reported: the chair hears so
    clock.current = datetime(2026, 12, 29, 21, tzinfo=UTC)  # 1 day before 30 Dec
    await run(app, deadline)
    assert await mailbox.take() == [
        (JM1, "remind", 86400),
        (TT1, "remind", 86400),
        (TT2, "remind", 86400),
    ]


@pytest.mark.parametrize(
    ("due", "shows"),
    [
        ("2026-12-15", True),  # Nassau is on EST (-5), Port of Spain on AST (-4)
        ("2027-06-15", False),  # Nassau on EDT (-4): the same clock, nothing extra shown
    ],
)
async def test_dst_in_the_country_zone(app, clock, mailbox, due, shows):
    async with app.db.unit() as store:
        await store.roster.add(
            user_id="@bs1:test.org", role="ncpoc", country="BS", added_by="t", now=clock()
        )
    deadline = await add(app, f"!deadline add {due} Report")
    clock.current = datetime.fromisoformat(due).replace(hour=21, tzinfo=UTC) - DAY
    await run(app, deadline)
    await mailbox.take()
    body = mailbox.bodies()["@bs1:test.org"]
    assert ("In The Bahamas that is" in body) is shows
    if shows:
        assert "16:00 (America/Nassau)" in body


async def test_config_deadlines_are_created_once(tmp_path, backend, clock):
    from bot.app import prepare
    from bot.config import load_config
    from storage.db import Database
    from tests.helpers import write_config

    extra = (
        '[[deadline]]\ntitle = "Annual report"\ndue = "2027-03-31"\nevery = "year"\n'
        '[[deadline]]\ntitle = "Old"\ndue = "2026-01-01"\n'
    )
    path = write_config(tmp_path, backend.url, extra=extra)
    for _ in range(2):
        db = Database(backend.url, connect_args=backend.connect_args)
        await prepare(db, load_config(path), clock)
        async with db.unit(write=False) as store:
            active = await store.deadlines.active()
        await db.close()
        assert [(d.title, d.every) for d in active] == [("Annual report", "year")]


async def test_a_reminder_is_in_the_zone_the_readers_profile_gives(app, clock, mailbox):
    await app.ledger.zones({JM1: "Europe/Amsterdam", TT1: "Not/AZone", TT2: None})
    async with app.db.unit(write=False) as store:
        assert (await store.roster.member(JM1)).tz == "Europe/Amsterdam"
        assert (await store.roster.member(TT1)).tz is None, "a zone no one has is not kept"
    deadline = await add(app, "!deadline add 2026-12-15 Q4 report")
    clock.current = datetime(2026, 12, 14, 21, tzinfo=UTC)
    await run(app, deadline)
    await mailbox.take()
    bodies = mailbox.bodies()
    # 17:00 in Port of Spain is 22:00 in Amsterdam; the country's own clock still shown.
    assert "is due Tue 15 Dec 2026 22:00 (Europe/Amsterdam)" in bodies[JM1]
    assert "In Jamaica that is Tue 15 Dec 2026 16:00 (America/Jamaica)" in bodies[JM1]
    assert "is due Tue 15 Dec 2026 17:00 (America/Port_of_Spain)" in bodies[TT1]
    assert "In Trinidad" not in bodies[TT1]


async def test_a_reminder_in_the_countrys_own_zone_does_not_repeat_it(app, clock, mailbox):
    await app.ledger.zones({JM1: "America/Jamaica"})
    deadline = await add(app, "!deadline add 2026-12-15 Q4 report")
    clock.current = datetime(2026, 12, 14, 21, tzinfo=UTC)
    await run(app, deadline)
    await mailbox.take()
    assert "is due Tue 15 Dec 2026 16:00 (America/Jamaica)" in mailbox.bodies()[JM1]
    assert "In Jamaica that is" not in mailbox.bodies()[JM1]


async def test_dates_in_a_dm_are_in_the_readers_zone_and_in_a_room_the_committees(app):
    await add(app, "!deadline add 2026-12-15 Q4 report")
    await app.ledger.zones({JM1: "Asia/Tokyo"})
    in_dm = text_of(await say(app, JM1, "!deadline list", room="!dm-jm1", kind="direct"))
    assert "due Wed 16 Dec 2026 06:00 (Asia/Tokyo)" in in_dm
    in_room = text_of(await say(app, JM1, "!deadline list"))
    assert "due Tue 15 Dec 2026 17:00 (America/Port_of_Spain)" in in_room
    await app.ledger.zones({JM1: None})  # the profile no longer gives one
    again = text_of(await say(app, JM1, "!deadline list", room="!dm-jm1", kind="direct"))
    assert "due Tue 15 Dec 2026 17:00 (America/Port_of_Spain)" in again
