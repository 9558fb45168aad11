"""Decisions by country: motions change the catalogue by one vote per member state, and the
scorecards follow the version in force (both backends, through the dispatcher)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from commands.motions.votes import MotionsConfig, Tally, outcome, settled
from commands.sections import Sections
from commands.values import RoomKind
from tests.helpers import CHAIR, JM1, STEERING, TT1, TT2, Postman, body_of, say, text_of

BB1, GD1, AI1 = "@bb1:test.org", "@gd1:test.org", "@ai1:test.org"
MORE = f'''
[[roster]]
user_id = "{BB1}"
role = "ncpoc"
country = "BB"

[[roster]]
user_id = "{GD1}"
role = "ncpoc"
country = "GD"

[[roster]]
user_id = "{AI1}"
role = "ncpoc"
country = "AI"
'''


@pytest.fixture
async def four(make_app):
    """Four member states with NCPOCs (JM, TT, BB, GD; quorum 3) and one associate (AI)."""
    app = await make_app(MORE)
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    return app


async def in_force(app):
    async with app.db.unit(write=False) as store:
        return (await store.catalogue.in_force()).version


async def motion(app, number=1):
    async with app.db.unit(write=False) as store:
        return await store.motions.get(number)


async def accepted(app, sender, text, **kwargs):
    outcome_ = await say(app, sender, text, **kwargs)
    assert outcome_.outcome == "accepted", text_of(outcome_)
    return text_of(outcome_)


async def test_a_motion_adopted_by_quorum_makes_version_2_and_scorecards_follow(four, make_app):
    app = four
    assert await in_force(app) == 1
    opened = await accepted(
        app, CHAIR, "!motion propose legal.cybercrime by=2027-06 tlp=green Cybercrime Act enacted"
    )
    assert "MO-1 is open: adopt legal.cybercrime — Cybercrime Act enacted (by 2027-06)" in opened
    assert "One vote per member state" in opened
    await accepted(app, JM1, "!vote MO-1 yes")
    second = await accepted(app, TT1, "!vote MO-1 yes")
    assert "decided" not in second  # two of four voted: short of the quorum of three yet
    third = await accepted(app, BB1, "!vote MO-1 yes Cabinet agrees")
    # GD's vote can no longer change it: decided at once, announced in the RCC room.
    assert "🗳️ MO-1 adopted: adopt legal.cybercrime" in third
    assert (await motion(app)).state == "adopted"
    assert await in_force(app) == 2
    catalogue = app.env.reference.catalogue
    assert catalogue.version == 2
    item = catalogue.item("legal.cybercrime")
    assert (item.status, item.standard, item.target) == (
        "adopted",
        "Cybercrime Act enacted",
        "2027-06",
    )
    sent = await Postman(app).deliver_all()
    announced = [body_of(r) for r in sent if r.room_id == "!rcc:test.org"]
    assert any("MO-1 adopted" in b and "catalogue is now version 2" in b for b in announced)
    # Scorecards and standards count against the version in force, and say which.
    await accepted(app, JM1, "!status set legal.cybercrime met")
    card = await accepted(app, JM1, "!status")
    # legal.cybercrime had no standard: adopting one makes it count "at minimum standard".
    assert "catalogue version 2: 1 adopted, 25 illustrative; 10 with a minimum standard" in card
    assert "1 of 10 items with a minimum standard met; 1 of 26 items met in all" in card
    standards = await accepted(app, STEERING, "!standards legal")
    assert "Cybercrime Act enacted [adopted, by 2027-06]" in standards
    late = await say(app, GD1, "!vote MO-1 no")
    assert late.outcome == "invalid" and "MO-1 is closed (adopted)" in text_of(late)
    log = await accepted(app, STEERING, "!decisions")
    assert (
        "MO-1 [TLP:GREEN] adopted" in log and "3 yes, 0 no, 0 abstaining; 3 of 4 countries" in log
    )
    # A restart reads the version in force from the database, not the file.
    again = await make_app(MORE)
    assert again.env.reference.catalogue.version == 2
    assert again.env.reference.catalogue.item("legal.cybercrime").status == "adopted"


async def test_a_motion_short_of_quorum_fails_when_its_window_closes(four, clock):
    app = four
    await accepted(app, CHAIR, "!motion propose legal.policy Law enacted/Approval Obtained")
    await accepted(app, JM1, "!vote MO-1 yes")
    await accepted(app, TT1, "!vote MO-1 yes")
    assert await app.jobs.run("motion", 1) is not None  # still open: it looks again later
    clock.advance(timedelta(days=14, minutes=1))
    assert await app.jobs.run("motion", 1) is None
    found = await motion(app)
    assert found.state == "failed" and "2 of 4 countries voted (quorum 3)" in found.result
    assert await in_force(app) == 1
    assert app.env.reference.catalogue.item("legal.policy").status == "illustrative"
    sent = await Postman(app).deliver_all()
    assert any("MO-1 failed" in body_of(r) for r in sent if r.room_id == "!rcc:test.org")


async def test_a_motion_is_rejected_as_soon_as_the_noes_cannot_be_outvoted(four):
    app = four
    await accepted(app, CHAIR, "!motion retire awareness.schools covered by awareness.society")
    for ncpoc in (JM1, TT1):
        await accepted(app, ncpoc, "!vote MO-1 no")
    decided = await accepted(app, BB1, "!vote MO-1 no")
    assert "🗳️ MO-1 rejected: retire awareness.schools" in decided
    assert await in_force(app) == 1


async def test_retiring_an_item_takes_it_out_of_every_count(four):
    app = four
    await accepted(app, CHAIR, "!motion retire awareness.schools covered by awareness.society")
    for ncpoc in (JM1, TT1, BB1):
        await accepted(app, ncpoc, "!vote MO-1 yes")
    catalogue = app.env.reference.catalogue
    assert catalogue.item("awareness.schools").status == "retired"
    assert len(catalogue.scored) == 25
    region = await accepted(app, CHAIR, "!status")
    assert "JM Jamaica: 0/25 met" in region
    refused = await say(app, CHAIR, "!motion amend awareness.schools anything")
    assert "awareness.schools is retired" in text_of(refused)
    late = await say(app, JM1, "!status set awareness.schools met")
    assert "awareness.schools was retired by the committee" in text_of(late)


async def test_one_vote_per_country_the_later_replaces_the_earlier(four, make_app):
    app = four
    await accepted(app, CHAIR, "!motion propose legal.authority tlp=green Established")
    await accepted(app, TT1, "!vote MO-1 no")
    replaced = await accepted(app, TT2, "!vote MO-1 yes after the ministry's review")
    assert "replacing TT's earlier no by @tt1:test.org" in replaced
    async with app.db.unit(write=False) as store:
        votes = await store.motions.votes(await store.motions.get(1))
    assert [(v.country, v.choice, v.voter) for v in votes] == [("TT", "yes", TT2)]
    # Associate members vote only where the config says so.
    refused = await say(app, AI1, "!vote MO-1 yes")
    assert refused.outcome == "refused" and "associate members only where" in text_of(refused)
    assert (await say(app, STEERING, "!vote MO-1 yes")).outcome == "refused"
    listed = await accepted(app, STEERING, "!motions")
    assert "MO-1 [TLP:GREEN] adopt legal.authority — Established" in listed
    assert "Votes: TT yes" in listed and "Not voted: BB, GD, JM" in listed


async def test_associates_vote_where_the_config_says_so(make_app):
    app = await make_app(MORE + "\n[motions]\nassociates_vote = true\n")
    await accepted(app, CHAIR, "!motion propose legal.authority tlp=green Established")
    voted = await accepted(app, AI1, "!vote MO-1 abstain")
    assert "Anguilla votes abstain on MO-1" in voted


async def test_an_ncpocs_motion_opens_once_another_country_seconds_it(four):
    app = four
    made = await accepted(app, JM1, "!motion propose legal.privacy Data Privacy Act in force")
    assert "!motion second MO-1" in made
    early = await say(app, TT1, "!vote MO-1 yes")
    assert "MO-1 is not open yet" in text_of(early)
    own = await say(app, JM1, "!motion second MO-1")
    assert own.outcome == "refused"
    opened = await accepted(app, TT1, "!motion second MO-1")
    assert "MO-1 is open" in opened
    assert (await motion(app)).seconder == TT1
    twice = await say(app, CHAIR, "!motion propose legal.privacy Something else")
    assert "MO-1 on legal.privacy is still open" in text_of(twice)


async def test_a_new_item_is_proposed_in_an_area_and_joins_the_catalogue(four):
    app = four
    await accepted(
        app, CHAIR, "!motion propose legal.cyber-insurance Cyber insurance: Guidance published"
    )
    for ncpoc in (JM1, TT1, BB1):
        await accepted(app, ncpoc, "!vote MO-1 yes")
    item = app.env.reference.catalogue.item("legal.cyber-insurance")
    assert (item.name, item.standard, item.source) == (
        "Cyber insurance",
        "Guidance published",
        "MO-1",
    )
    assert len(app.env.reference.catalogue.scored) == 27
    unknown = await say(app, CHAIR, "!motion propose nowhere.thing X")
    assert "unknown item 'nowhere.thing'" in text_of(unknown)


async def test_countries_yet_to_vote_are_reminded_once_before_the_window_closes(four, clock):
    app = four
    postman = Postman(app)
    await accepted(app, CHAIR, "!motion propose legal.authority tlp=green Established")
    await accepted(app, JM1, "!vote MO-1 yes")
    await postman.deliver_all()
    following = await app.jobs.run("motion", 1)
    assert following == clock() + timedelta(days=11)  # three days before the close
    clock.advance(timedelta(days=11, minutes=1))
    await app.jobs.run("motion", 1)
    reminded = await postman.deliver_all()
    assert sorted(r.to_user for r in reminded) == sorted([TT1, TT2, BB1, GD1])
    assert all("has not voted on MO-1" in body_of(r) for r in reminded)
    await app.jobs.run("motion", 1)
    assert await postman.deliver_all() == []  # once


@pytest.mark.parametrize(
    ("tally", "expected"),
    [
        (Tally(4, 3, 0, 0, 3), "adopted"),  # the last vote cannot outweigh three
        (Tally(4, 2, 0, 0, 3), None),  # without two more votes, short of quorum
        (Tally(4, 0, 3, 0, 3), "rejected"),
        (Tally(4, 2, 1, 0, 3), None),  # 2-1: the fourth could tie it (a tie is not a majority)
        (Tally(4, 2, 1, 1, 3), "adopted"),  # everyone voted
        (Tally(3, 1, 1, 1, 2), "rejected"),  # a tie of the votes cast
        (Tally(0), "failed"),
    ],
)
def test_a_motion_is_settled_only_when_the_remaining_votes_cannot_change_it(tally, expected):

    assert settled(tally, Sections()) == expected
    if expected:
        assert outcome(tally, Sections()) == expected


async def test_the_electorate_and_quorum_are_fixed_when_the_motion_opens(four):
    app = four
    await accepted(app, CHAIR, "!motion propose legal.cybercrime Cybercrime Act enacted")
    opened = await motion(app)
    assert sorted(opened.electorate.strip(",").split(",")) == ["BB", "GD", "JM", "TT"]
    assert opened.quorum == 3
    # The roster changes during the vote: a country drops out, another comes in.
    await accepted(app, CHAIR, f"!roster remove {BB1}")
    await accepted(app, CHAIR, "!roster add @lc1:test.org role=ncpoc country=LC force=yes")
    newcomer = await say(app, "@lc1:test.org", "!vote MO-1 yes")
    assert newcomer.outcome == "refused" and "fixed when it opened" in text_of(newcomer)
    await accepted(app, JM1, "!vote MO-1 yes")
    shown = await accepted(app, TT1, "!motions")
    assert "1 of 4 countries voted (quorum 3)" in shown, shown
    assert (await motion(app)).state == "open"


async def test_a_vote_after_the_window_closed_is_refused(four, clock):
    app = four
    await accepted(app, CHAIR, "!motion propose legal.cybercrime Cybercrime Act enacted")
    clock.advance(
        app.sections[MotionsConfig].window + timedelta(minutes=1)
    )  # the job has not run yet
    late = await say(app, JM1, "!vote MO-1 yes")
    assert late.outcome == "invalid" and "closed at" in text_of(late)
    async with app.db.unit(write=False) as store:
        assert await store.motions.votes(await store.motions.get(1)) == []


async def test_member_states_endorse_an_adopted_standard_nationally(four):
    app = four
    early = await say(app, JM1, "!endorse legal.cybercrime")
    assert early.outcome == "invalid" and "no standard the committee adopted yet" in text_of(early)
    await accepted(app, CHAIR, "!motion propose legal.cybercrime tlp=green Cybercrime Act enacted")
    for voter in (JM1, TT1, BB1):
        await accepted(app, voter, "!vote MO-1 yes")
    done = await accepted(app, JM1, "!endorse legal.cybercrime evidence=www.gov.jm/cabinet-2027")
    assert (
        "✅ Jamaica (JM) endorsed the standard of legal.cybercrime (“Cybercrime Act enacted”)"
        in (done)
    )
    assert "endorsed by 1 of 15 member states" in done
    again = await accepted(app, JM1, "!endorse legal.cybercrime")
    assert "endorsed by 1 of 15" in again  # once per country
    await accepted(app, CHAIR, "!endorse legal.cybercrime country=TT")
    standards = await accepted(app, STEERING, "!standards legal")
    assert "adopted regionally, endorsed by 2 of 15 member states (JM, TT)" in standards


async def test_a_motion_amends_an_items_partners_and_need_as_a_new_version(four):
    """The plan's lists are "not a conclusive list": a motion changes an item's need,
    solutions or partners, adopted by vote into the next catalogue version."""
    app = four
    bad = await say(app, CHAIR, "!motion amend awareness.strategy part=partners ;  ; ")
    assert bad.outcome == "invalid" and "say the partners, separated by semicolons" in text_of(bad)
    opened = await accepted(
        app, CHAIR,
        "!motion amend awareness.strategy part=partners tlp=green CoE; OAS/CICTE; CARICOM "
        "IMPACS; ITU",
    )  # fmt: skip
    assert "MO-1 is open: amend awareness.strategy (partners) — CoE; OAS/CICTE" in opened
    for who in (JM1, TT1, BB1):
        await accepted(app, who, "!vote MO-1 yes")
    item = app.env.reference.catalogue.item("awareness.strategy")
    assert item.partners == ("CoE", "OAS/CICTE", "CARICOM IMPACS", "ITU")
    assert item.status == "illustrative" and not item.standard  # its standard is untouched
    assert await in_force(app) == 2
    need = await accepted(
        app, CHAIR, "!motion amend awareness.strategy part=need tlp=green A strategy per "
        "member state, published and reviewed every three years",
    )  # fmt: skip
    assert "amend awareness.strategy (need)" in need
    for who in (JM1, TT1, BB1):
        await accepted(app, who, "!vote MO-2 yes")
    assert await in_force(app) == 3
    shown = await accepted(app, STEERING, "!standards awareness")
    assert "Partners: CoE; OAS/CICTE; CARICOM IMPACS; ITU" in shown
    assert "Need: A strategy per member state, published and reviewed every three years" in shown
    log = await accepted(app, STEERING, "!decisions")
    assert (
        "amend awareness.strategy (partners)" in log and "amend awareness.strategy (need)" in log
    )
    async with app.db.unit(write=False) as store:  # what a restart reads back
        stored = json.loads((await store.catalogue.in_force()).data)
    (kept,) = [i for i in stored["item"] if i["id"] == "awareness.strategy"]
    assert kept["partners"] == ["CoE", "OAS/CICTE", "CARICOM IMPACS", "ITU"]
    assert kept["need"].startswith("A strategy per member state")


async def test_a_motions_poll_answer_from_an_ncpoc_is_the_countrys_vote(four):
    """Element's native poll mirrors the motion: an NCPOC's answer is their country's !vote,
    anyone else's is ignored, and the poll's end carries the official tally."""
    app = four
    await accepted(app, CHAIR, "!motion propose legal.cybercrime tlp=green Cybercrime Act enacted")
    sent = await Postman(app).deliver_all()
    (poll,) = [r for r in sent if r.event_type == "org.matrix.msc3381.poll.start"]
    assert poll.room_id == "!rcc:test.org" and poll.label == "green"
    start = json.loads(poll.content)["org.matrix.msc3381.poll.start"]
    assert [a["id"] for a in start["answers"]] == ["yes", "no", "abstain"]
    assert (
        "MO-1: adopt legal.cybercrime — Cybercrime Act enacted"
        in start["question"]["org.matrix.msc1767.text"]
    )
    ignored = await say(app, STEERING, poll="yes", reply_to=poll.event_id)
    assert ignored is None  # not an NCPOC: not a vote, nothing said or kept
    for who in (JM1, TT1):
        await say(app, who, poll="yes", reply_to=poll.event_id)
    told = [body_of(r) for r in await Postman(app).deliver_all() if r.room_id == f"!dm-{JM1}"]
    assert told == ["✅ Jamaica votes yes on MO-1."]
    changed = await say(app, JM1, poll="no", reply_to=poll.event_id)  # the later replaces
    assert changed.outcome == "accepted"
    await say(app, BB1, poll="no", reply_to=poll.event_id)  # 1 yes, 2 no: cannot be outvoted
    assert (await motion(app)).state == "rejected"
    await say(app, GD1, poll="yes", reply_to=poll.event_id)  # too late: told so, not counted
    sent = await Postman(app).deliver_all()
    assert [body_of(r) for r in sent if r.room_id == f"!dm-{GD1}"] == [
        "⚠️ MO-1 is closed (rejected)"
    ]
    ended = [r for r in sent if r.event_type == "org.matrix.msc3381.poll.end"]
    (end,) = ended
    content = json.loads(end.content)
    assert content["m.relates_to"] == {"rel_type": "m.reference", "event_id": poll.event_id}
    assert content["org.matrix.msc1767.text"] == (
        "MO-1 rejected: 1 yes, 2 no, 0 abstaining; 3 of 4 countries voted (quorum 3)"
    )
