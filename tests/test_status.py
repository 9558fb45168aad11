"""Status updates, scorecards, reports and gaps through the dispatcher (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.periods import quarter
from tests.helpers import CHAIR, JM1, OUTSIDER, STEERING, TT1, say, text_of


async def latest(app, country):
    async with app.db.unit(write=False) as store:
        return {u.item_id: u for u in await store.status.latest(country)}


async def test_ncpoc_sets_own_country_and_history_is_kept(app, clock):
    for state, note in (("not-started", ""), ("in-progress", "Draft with Cabinet"), ("met", "")):
        outcome = await say(app, JM1, f"!status set legal.strategy {state} {note}")
        assert outcome.outcome == "accepted", text_of(outcome)
        clock.advance(timedelta(days=1))
    now = await latest(app, "JM")
    assert now["legal.strategy"].state == "met"
    async with app.db.unit(write=False) as store:
        history = await store.status.history("JM", "legal.strategy")
    assert [(h.state, h.note, h.author) for h in history] == [
        ("not-started", "", JM1),
        ("in-progress", "Draft with Cabinet", JM1),
        ("met", "", JM1),
    ]
    assert all(h.event_id for h in history)


async def test_ncpoc_cannot_set_another_country_but_chair_can(app):
    refused = await say(app, JM1, "!status set coop.cert met country=TT")
    assert refused.outcome == "refused"
    assert "only the chair may do this for Trinidad and Tobago" in text_of(refused)
    assert await latest(app, "TT") == {}
    same = await say(app, JM1, "!status set coop.cert met country=JM")
    assert same.outcome == "accepted"
    chair = await say(app, CHAIR, "!status set coop.cert in-progress country=tt")
    assert chair.outcome == "accepted"
    assert (await latest(app, "TT"))["coop.cert"].author == CHAIR
    bare = await say(app, CHAIR, "!status set coop.cert met")
    assert "name the country with country=XX" in text_of(bare)
    steering = await say(app, STEERING, "!status set coop.cert met country=TT")
    assert steering.outcome == "refused"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "!status set legal.stratgy met",
            "unknown item 'legal.stratgy'; did you mean legal.strategy",
        ),
        ("!status set legal.strategy finished", "use one of: not-started, in-progress, met, n/a"),
        ("!status set legal.strategy", "missing <not-started|in-progress|met|n/a>"),
        ("!status set legal.strategy met country=Atlantis", "unknown country 'Atlantis'"),
        ("!status note", "missing text"),
        ("!status note country=JM", "missing text"),
        ("!status set legal.strategy met " + "x" * 2001, "the note is too long"),
        ("!standards nosuch", "unknown area 'nosuch'"),
        ("!gaps Narnia", "unknown country 'Narnia'"),
    ],
)
async def test_bad_inputs_change_nothing(app, command, expected):
    outcome = await say(app, JM1, command)
    assert outcome.outcome == "invalid"
    body = text_of(outcome)
    assert expected in body and "Usage: !" in body and "Example: !" in body
    assert await latest(app, "JM") == {}
    async with app.db.unit(write=False) as store:
        assert await store.status.notes(country="JM") == []


async def test_state_aliases_and_area_prefix(app):
    assert (await say(app, JM1, "!status set coop.cert DONE")).outcome == "accepted"
    assert (await latest(app, "JM"))["coop.cert"].state == "met"
    body = text_of(await say(app, STEERING, "!standards leg"))
    assert (
        "The Action Plan catalogue, version 1: 26 illustrative; 9 with a minimum standard." in body
    )
    assert "legal.strategy — National Cyber Security Strategy: Approved [illustrative]" in body
    assert "legal.cybercrime — Enactment of appropriate Cyber legislation: no minimum " in body
    assert "Partners: Cybercrime (T-CY) Committee of the Council of Europe; OAS/REMJA" in body
    assert "coop.cert" not in body
    overview = text_of(await say(app, STEERING, "!standards"))
    assert "coop.capacity-centre — Regional Capacity Centre" in overview
    assert "[illustrative, regional]" in overview and "Partners:" not in overview


async def test_only_items_with_a_standard_count_as_at_minimum_standard(app):
    """An item without a minimum standard is a need: meeting it is progress, and every count
    of "at minimum standard" (the reply, the scorecard, the gaps) leaves it out."""
    need = text_of(await say(app, JM1, "!status set coop.cert met"))
    assert "0 of 9 items with a minimum standard met; 1 of 26 items met in all" in need
    standard = text_of(await say(app, JM1, "!status set legal.strategy met"))
    assert "1 of 9 items with a minimum standard met; 2 of 26 items met in all" in standard
    aside = text_of(await say(app, JM1, "!status set legal.policy n/a"))
    assert "1 of 8 items with a minimum standard met; 2 of 25 items met in all" in aside
    for asked in ("!status", "!gaps jm"):
        assert "1 of 8 items with a minimum standard met; 2 of 25" in text_of(
            await say(app, JM1, asked)
        )
    filed = text_of(await say(app, JM1, "!status submit"))
    assert "1 of 8 items with a minimum standard met; 2 of 25 items met in all." in filed
    await say(app, JM1, "!lang fr", room="!dm-jm1", kind="direct")
    french = await say(app, JM1, "!status set coop.cert met", room="!dm-jm1", kind="direct")
    assert "1 éléments dotés d'une norme minimale atteints sur 8 ; 2 éléments atteints sur 25" in (
        text_of(french)
    )


async def test_scorecard_shows_latest_who_when_and_stale(app, clock):
    await say(app, JM1, "!status set legal.strategy met Approved in March")
    clock.advance(timedelta(days=200))
    await say(app, JM1, "!status set coop.cert in-progress")
    body = text_of(await say(app, JM1, "!status"))
    assert (
        "Scorecard — Jamaica (JM): 1 of 9 items with a minimum standard met; 1 of 26 items met "
        "in all, 1 in progress, 0 not started, 24 not reported"
    ) in body
    assert "● legal.strategy — met ⚠ stale · @jm1:test.org · 28w ago · “Approved in March”" in body
    assert "◐ coop.cert — in-progress · @jm1:test.org · just now" in body
    assert "1 stale (unchanged > 180 days)" in body
    steering = text_of(await say(app, STEERING, "!status Jamaica"))
    assert "Scorecard — Jamaica (JM)" in steering


async def test_submit_records_the_report_for_the_quarter(app, clock):
    first = await say(app, JM1, "!status submit Reviewed with the ministry")
    assert "report for 2026-Q4 (1 Oct 2026 – 31 Dec 2026) is filed" in text_of(first)
    again = await say(app, JM1, "!status submit")
    assert "an update: @jm1:test.org first filed on 2 Nov" in text_of(again)
    region = text_of(await say(app, CHAIR, "!status"))
    assert "JM Jamaica: 0/26 met, 26 not reported · no updates · report filed" in region
    assert (
        "TT Trinidad and Tobago: 0/26 met, 26 not reported · no updates · no report yet" in region
    )
    async with app.db.unit(write=False) as store:
        reports = await store.status.reports(
            start=datetime(2026, 10, 1, tzinfo=UTC), end=datetime(2027, 1, 1, tzinfo=UTC)
        )
    assert [(r.country, r.period, r.note) for r in reports] == [
        ("JM", "2026-Q4", "Reviewed with the ministry"),
        ("JM", "2026-Q4", ""),
    ]


async def test_gaps_for_a_country_and_the_region(app):
    await say(app, JM1, "!status set legal.strategy met")
    await say(app, JM1, "!status set legal.policy n/a")
    await say(app, TT1, "!status set coop.cert in-progress")
    gaps = text_of(await say(app, JM1, "!gaps jm"))
    assert (
        "Gaps — Jamaica (JM): 1 of 8 items with a minimum standard met; 1 of 25 items met in "
        "all (catalogue version 1: 26 illustrative; 9 with a minimum standard)." in gaps
    )
    assert "legal.strategy" not in gaps and "legal.policy" not in gaps
    assert "· legal.authority (unreported) — needs: Established [illustrative]" in gaps
    matrix = await say(app, STEERING, "!gaps")
    body = text_of(matrix)
    assert "JM ········  ·····     ···       –●·····   ···       1/25" in body
    assert "TT ········  ·····     ···       ·······   ◐··       0/26" in body
    html = matrix.replies[0].message.html
    assert "<table>" in html and "<td><code>◐··</code></td>" in html


async def test_outsider_cannot_read_status(app):
    assert (await say(app, OUTSIDER, "!status JM")).outcome == "refused"
    assert (await say(app, OUTSIDER, "!gaps")).outcome == "refused"


@pytest.mark.parametrize(
    ("moment", "key", "start"),
    [
        # 31 Dec 23:30 in Port of Spain is already 1 Jan in UTC: still Q4 locally.
        (datetime(2027, 1, 1, 3, 30, tzinfo=UTC), "2026-Q4", datetime(2026, 10, 1, 4, tzinfo=UTC)),
        (datetime(2027, 1, 1, 4, 0, tzinfo=UTC), "2027-Q1", datetime(2027, 1, 1, 4, tzinfo=UTC)),
        (datetime(2026, 6, 30, 12, tzinfo=UTC), "2026-Q2", datetime(2026, 4, 1, 4, tzinfo=UTC)),
    ],
)
def test_quarter_in_the_committee_zone(moment, key, start):
    period = quarter(moment, ZoneInfo("America/Port_of_Spain"))
    assert (period.key, period.start) == (key, start)
    assert period.end > moment >= period.start


async def test_the_scorecard_tells_the_whole_story(app, clock):
    empty = text_of(await say(app, JM1, "!status"))
    assert "No narrative update yet (!status note <text>)" in empty
    await say(app, JM1, "!status submit Reviewed with the ministry")
    await say(app, JM1, "!status note CIRT staffing approved by Cabinet")
    now = text_of(await say(app, STEERING, "!status JM", room="!st", kind="steering"))
    assert "Latest narrative update (@jm1:test.org, just now): “CIRT staffing approved" in now
    assert "Report note: “Reviewed with the ministry”" in now
    clock.advance(timedelta(days=92))  # into the next quarter: nothing filed for it yet
    later = text_of(await say(app, JM1, "!status"))
    assert "not filed yet" in later
    assert "The latest report: 2026-Q4, filed by @jm1:test.org" in later
    assert "“Reviewed with the ministry”" in later


async def test_evidence_a_link_a_source_and_a_file_sent_in_reply_are_kept(app):
    from tests.helpers import Postman

    outcome = await say(
        app,
        JM1,
        "!status set legal.strategy met evidence=https://gazette.gov.jm/strategy-2024 "
        "source=desk-review Approved by Cabinet",
    )
    assert "Evidence linked." in text_of(outcome) and "Reply to this message" in text_of(outcome)
    update = (await latest(app, "JM"))["legal.strategy"]
    assert (update.evidence, update.source, update.version) == (
        "https://gazette.gov.jm/strategy-2024",
        "desk-review",
        1,
    )
    sent = await Postman(app).deliver_all()
    confirmation = next(r for r in sent if r.ref == f"status:{update.id}")
    file = (
        '{"msgtype": "m.file", "body": "strategy.pdf", "file": {"url": "mxc://test.org/abc", '
        '"key": {"k": "secret-key"}, "iv": "x", "hashes": {"sha256": "y"}}}'
    )
    # A file named like a command is never one; from another country's NCPOC it is ignored.
    ignored = await say(app, TT1, "!status set legal.strategy n/a", reply_to=confirmation.event_id,
                        attachment=file)  # fmt: skip
    assert ignored is None
    kept = await say(app, JM1, "strategy.pdf", reply_to=confirmation.event_id, attachment=file)
    assert text_of(kept) == "📎 Kept “strategy.pdf” as evidence of JM legal.strategy met."
    update = (await latest(app, "JM"))["legal.strategy"]
    assert '"k": "secret-key"' in update.attachment  # the key lives with the row, as the rest
    assert (await latest(app, "TT")) == {}
    card = text_of(await say(app, JM1, "!status"))
    assert "desk review · evidence: https://gazette.gov.jm/strategy-2024 · 📎 file" in card
    bad = await say(app, JM1, "!status set legal.strategy met evidence=javascript:alert(1)")
    assert bad.outcome == "invalid" and "is not a web link" in text_of(bad)


async def test_a_regional_deliverable_is_not_scored_per_country(app):
    refused = await say(app, CHAIR, "!status set coop.capacity-centre met country=JM")
    assert refused.outcome == "invalid" and "tracked once for the region" in text_of(refused)


async def test_a_bill_climbs_its_ladder_with_its_champion_and_moves_the_items_state(app):
    tabled = await say(app, JM1, "!bill legal.cybercrime tabled champion=Hon. A. Minister "
                       "evidence=www.gov.jm/cybercrime-bill")  # fmt: skip
    assert "✅ Jamaica (JM): the bill for legal.cybercrime is tabled (in-progress)." in (
        text_of(tabled)
    )
    assert (await latest(app, "JM"))["legal.cybercrime"].state == "in-progress"
    passed = await say(app, JM1, "!bill cybercrime in-force")
    assert "is in-force (met)" in text_of(passed)
    assert (await latest(app, "JM"))["legal.cybercrime"].state == "met"
    card = text_of(await say(app, JM1, "!status"))
    assert "legal.cybercrime: in-force · champion Hon. A. Minister" in card  # the champion stays
    other = await say(app, JM1, "!bill coop.cert passed")
    assert other.outcome == "invalid" and "coop.cert is not a legal item" in text_of(other)
    wrong = await say(app, JM1, "!bill legal.cybercrime signed")
    assert wrong.outcome == "invalid" and "'signed' is not one of" in text_of(wrong)
