"""Dates kept: a project's target reminds before and flags after, once each across a
restart; `!timeline` lists every target, soonest first (both backends)."""

from __future__ import annotations

import json
from datetime import timedelta

from commands.projects.targets import projects_with_targets
from tests.helpers import CHAIR, JM1, STEERING, TT1, say, text_of


async def ok(app, sender, text):
    outcome = await say(app, sender, text)
    assert outcome.outcome == "accepted", text_of(outcome)
    return outcome


async def _told(app) -> list[tuple[str, str]]:
    """Every DM written so far: (to whom, its words)."""
    async with app.db.unit(write=False) as store:
        rows = await store.outbox.pending(limit=1000)
    return [(r.to_user, json.loads(r.content)["body"]) for r in rows if r.to_user]


async def test_a_projects_target_reminds_once_before_and_flags_once_after_a_restart(
    make_app, clock
):
    app = await make_app()
    await ok(app, JM1, "!project add Cybercrime bill drafting lead=JM countries=JM "
             "target=2026-11 tlp=green")  # fmt: skip
    async with app.db.unit(write=False) as store:  # found again at every start
        assert await projects_with_targets(store, app.config, clock()) == [1]
    await app.jobs.run("project target", 1)  # 2 Nov: within 30 days of 1 Dec
    reminders = await _told(app)
    assert reminders == [(JM1, "📅 PR-1 “Cybercrime bill drafting” has its target at the end "
                               "of 2026-11. Say where it stands: !project update PR-1 "
                               "status=<under-way|completed|stalled> <note>")]  # fmt: skip
    await app.jobs.run("project target", 1)
    assert len(await _told(app)) == 1  # once
    clock.advance(timedelta(days=30))  # 2 Dec: the month has ended
    restarted = await make_app()  # a new process, the same database: nothing said twice
    await restarted.jobs.run("project target", 1)
    told = await _told(restarted)
    late = [(to, body) for to, body in told if body.startswith("⚠️")]
    assert sorted(to for to, _ in late) == [CHAIR, JM1]
    assert (
        "PR-1 “Cybercrime bill drafting” is past its target (2026-11) and still planned."
        in (late[0][1])
    )
    await restarted.jobs.run("project target", 1)
    assert len(await _told(restarted)) == 3
    async with restarted.db.unit(write=False) as store:
        project = await store.projects.get(1)
    assert project.reminded_at and project.overdue_at


async def test_a_completed_project_is_not_chased(app, clock):
    await ok(app, JM1, "!project add Awareness week lead=JM target=2026-11 tlp=green")
    await ok(app, JM1, "!project update PR-1 status=completed held in October")
    clock.advance(timedelta(days=40))
    await app.jobs.run("project target", 1)
    assert await _told(app) == []


async def test_the_timeline_lists_items_and_projects_soonest_first(app, clock):
    await ok(app, CHAIR, "!motion propose legal.cybercrime by=2027-06 tlp=green Act enacted")
    await ok(app, JM1, "!vote MO-1 yes")
    await ok(app, TT1, "!vote MO-1 yes")  # two of two: adopted, the item's target is set
    await ok(app, JM1, "!status set legal.cybercrime in-progress Bill at Cabinet")
    await ok(app, JM1, "!project add Bill drafting lead=JM items=legal.cybercrime target=2026-11 "
             "tlp=green")  # fmt: skip
    await ok(app, TT1, "!project add SOC build lead=TT items=technical.networks target=2027-01 "
             "tlp=green")  # fmt: skip
    await ok(app, TT1, "!project add Quiet one lead=TT target=2027-02 tlp=red")
    clock.advance(timedelta(days=35))
    every = text_of(await ok(app, STEERING, "!timeline"))
    lines = [line for line in every.splitlines() if line[:4].isdigit()]
    assert lines[0].startswith("2026-11 ⚠️ PR-1 “Bill drafting” (JM) · planned · overdue")
    assert lines[1].startswith("2027-01 PR-2 “SOC build” (TT) · planned")
    assert lines[2].startswith("2027-06 legal.cybercrime — Enactment of appropriate Cyber "
                               "legislation: Act enacted")  # fmt: skip
    assert "Quiet one" not in every  # RED: for those who heard it
    legal = text_of(await ok(app, STEERING, "!timeline legal"))
    assert "PR-1" in legal and "PR-2" not in legal
    jamaica = text_of(await ok(app, STEERING, "!timeline JM"))
    assert "legal.cybercrime" in jamaica and "· in-progress" in jamaica and "PR-2" not in jamaica


async def test_an_items_target_reminds_countries_behind_and_tells_the_chair_after(app, clock):
    await ok(app, CHAIR, "!motion propose legal.cybercrime by=2026-11 tlp=green Act enacted")
    await ok(app, JM1, "!vote MO-1 yes")
    await ok(app, TT1, "!vote MO-1 yes")
    await ok(app, JM1, "!status set legal.cybercrime met Act in force")
    before = len(await _told(app))
    await app.jobs.run("item targets", 0)
    reminded = (await _told(app))[before:]
    assert sorted(to for to, _ in reminded) == [TT1, "@tt2:test.org"]  # JM met it: not asked
    assert reminded[0][1] == (
        "📅 The minimum standard of legal.cybercrime is due by the end of 2026-11; TT is "
        "unreported. When it is met: !status set legal.cybercrime met"
    )
    await app.jobs.run("item targets", 0)
    assert len(await _told(app)) == before + 2  # once
    clock.advance(timedelta(days=30))
    await app.jobs.run("item targets", 0)
    await app.jobs.run("item targets", 0)
    late = (await _told(app))[before + 2 :]
    assert late == [
        (CHAIR, "⚠️ The minimum standard of legal.cybercrime was due by 2026-11; not met in: "
                "TT (unreported).")
    ]  # fmt: skip


async def test_the_reports_carry_a_timeline_picture_of_what_their_readers_may_see(app, clock):
    from bot.files import render_file

    await ok(app, CHAIR, "!motion propose legal.cybercrime by=2027-06 tlp=green Act enacted")
    await ok(app, JM1, "!vote MO-1 yes")
    await ok(app, TT1, "!vote MO-1 yes")
    await ok(app, JM1, "!project add Bill drafting lead=JM target=2026-11 tlp=green")
    await ok(app, TT1, "!project add Grid hardening lead=TT target=2027-03 tlp=amber")
    clock.advance(timedelta(days=35))
    outcome = await ok(app, CHAIR, "!report consle period=2026-11")
    (spec,) = [f for f in outcome.replies[0].files if f.renderer == "timeline-png"]
    rows = [(r["what"], r["overdue"]) for r in spec.data["timeline"]]
    assert rows == [("PR-1", True), ("legal.cybercrime", False)]  # CONSLE: AMBER not shown
    picture = render_file(app.renderer, "timeline-png", spec.data)
    assert picture.startswith(b"\x89PNG")
    from io import BytesIO

    from PIL import Image

    with Image.open(BytesIO(picture)) as image:
        assert image.size[0] > 2 * image.size[1]  # a wide time axis, a row per target
        assert image.convert("L").getextrema()[0] < 100  # ink on it
