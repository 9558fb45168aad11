"""An observer state (a country outside CARICOM the plan invites, section 2): it sees and
reports, and is neither scored nor counted as a voter (both backends)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import CHAIR, JM1, STEERING, TT1, say, text_of

DO1 = "@do1:test.org"
SHIPPED = Path(__file__).parent.parent / "commands" / "data" / "countries.toml"


@pytest.fixture
async def observed(make_app, tmp_path):
    countries = tmp_path / "countries.toml"
    countries.write_text(
        SHIPPED.read_text() + '\n[[country]]\ncode = "DO"\nname = "Dominican Republic"\n'
        'zone = "America/Santo_Domingo"\nmembership = "observer"\n'
    )
    extra = f'countries_file = "{countries}"\n\n[[roster]]\nuser_id = "{DO1}"\nrole = "ncpoc"\n'
    return await make_app(extra + 'country = "DO"\n')


async def test_an_observer_reports_and_is_not_scored_nor_a_voter(observed, clock):
    from tests.test_digest import digest_of

    app = observed
    reported = await say(app, DO1, "!status set legal.strategy met Adopted in 2025")
    assert reported.outcome == "accepted", text_of(reported)
    assert "Dominican Republic" in text_of(await say(app, STEERING, "!status DO"))
    region = text_of(await say(app, STEERING, "!status"))
    assert "JM Jamaica" in region and "DO " not in region  # not scored: not in the overview
    data = await digest_of(app, clock)
    assert "DO" not in {r["code"] for r in data["matrix"]["rows"]}
    assert data["summary"]["countries"] == 2  # JM and TT: the observer is not counted
    assert all(c["code"] != "DO" for c in data["short_of_ncpocs"])  # the rule is members'
    opened = await say(app, CHAIR, "!motion propose legal.cybercrime tlp=green Act enacted")
    assert "3 countries" not in text_of(opened)
    voted = await say(app, DO1, "!vote MO-1 yes")
    assert voted.outcome == "refused" and "observer states never" in text_of(voted)
    await say(app, JM1, "!vote MO-1 yes")
    done = text_of(await say(app, TT1, "!vote MO-1 yes"))
    assert "MO-1 adopted" in done  # two of the two member states: the observer was not counted
