"""Reading people's zones from their Matrix profiles: what is kept, what is left alone."""

from __future__ import annotations

import pytest
from nio import ProfileGetError, ProfileGetResponse

from bot.matrix.profiles import ProfileWatch, zone_in


class Answers:
    """A homeserver's answers to profile lookups, by user (an exception is raised)."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers

    async def get_profile(self, user: str):
        answer = self.answers[user]
        if isinstance(answer, Exception):
            raise answer
        return answer


class Core:
    def __init__(self, wanted: list[str]) -> None:
        self.people, self.told = wanted, []

    async def wanted(self) -> list[str]:
        return self.people

    async def zones(self, zones: dict[str, str | None]) -> None:
        self.told.append(zones)


def test_the_stable_field_comes_before_the_unstable_one():
    assert zone_in({"m.tz": "Europe/Paris", "us.cloke.msc4175.tz": "Asia/Tokyo"}) == "Europe/Paris"
    assert zone_in({"us.cloke.msc4175.tz": " Asia/Tokyo "}) == "Asia/Tokyo"
    assert zone_in({"m.tz": 3, "displayname": "x"}) is None
    assert zone_in({"m.tz": "  "}) is None


async def test_an_unreadable_profile_leaves_what_is_known():
    answers = Answers(
        {
            "@a:x": ProfileGetResponse("A", None, {"m.tz": "America/Jamaica"}),
            "@b:x": ProfileGetResponse("B", None, {}),
            "@c:x": ProfileGetError("not found", "M_NOT_FOUND"),
            "@d:x": ProfileGetError("forbidden", "M_FORBIDDEN"),
            "@e:x": OSError("network"),
        }
    )
    core = Core(["@a:x", "@b:x", "@c:x", "@d:x", "@e:x"])
    zones = await ProfileWatch(answers, core).read()  # type: ignore[arg-type]
    assert zones == {"@a:x": "America/Jamaica", "@b:x": None, "@c:x": None}
    assert core.told == [zones]


async def test_the_watch_reads_again_after_each_wait_and_survives_a_bad_round():
    rounds = []

    class Flaky(Core):
        async def zones(self, zones):
            rounds.append(zones)
            if len(rounds) == 1:
                raise RuntimeError("database gone for a moment")

    class Stop(Exception):
        pass

    async def sleep(seconds: float) -> None:
        assert seconds == 60
        if len(rounds) == 2:
            raise Stop

    answers = Answers({"@a:x": ProfileGetResponse("A", None, {"m.tz": "Europe/Paris"})})
    watch = ProfileWatch(answers, Flaky(["@a:x"]), every=60, sleep=sleep)  # type: ignore[arg-type]
    with pytest.raises(Stop):
        await watch.run()
    assert rounds == [{"@a:x": "Europe/Paris"}] * 2


async def test_the_core_wants_the_profiles_of_people_with_a_matrix_id_only(app):
    async with app.db.unit() as store:
        await store.roster.add(
            user_id="mailto:desk@cirt.example", role="contact", country="JM", added_by="t",
            now=app.clock(),
        )  # fmt: skip
        everyone = {e.user_id for e in await store.roster.entries()}
    wanted = await app.ledger.wanted()
    assert "mailto:desk@cirt.example" in everyone and "mailto:desk@cirt.example" not in wanted
    assert set(wanted) == {u for u in everyone if u.startswith("@")} and wanted
