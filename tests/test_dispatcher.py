"""The dispatcher: roles before handlers, audit of everything, exactly-once per event."""

from __future__ import annotations

from functools import partial

from tests.helpers import CHAIR, JM1, OUTSIDER, STEERING, Postman, say, text_of


async def audit(app):
    async with app.db.unit(write=False) as store:
        return list(reversed(await store.audit.recent(limit=100)))


async def test_not_a_command_is_ignored(app):
    assert await say(app, JM1, "hello everyone") is None
    assert await say(app, JM1, "!!! urgent") is None
    assert await audit(app) == [] or all(e.actor == "config" for e in await audit(app))


async def test_same_event_is_handled_once(app):
    first = await say(app, CHAIR, "!roster add @x:test.org role=steering", event_id="$same")
    again = await say(app, CHAIR, "!roster add @x:test.org role=steering", event_id="$same")
    assert first.outcome == "accepted" and not first.duplicate
    assert again.duplicate and again.replies == []
    async with app.db.unit(write=False) as store:
        assert len(await store.outbox.pending()) == 1, "one reply, written once"
    entries = [e for e in await audit(app) if e.event_id == "$same"]
    assert len(entries) == 1


async def test_a_ciphertext_sent_again_under_a_new_event_id_is_not_handled_again(app):
    """A homeserver replaying an encrypted message under another event ID (bot.matrix.replay):
    neither a command, nor a refusal, nor a listener's input counts twice."""
    command = "!status set legal.strategy met Cabinet approved"
    first = await say(app, JM1, command, ciphertext="SESSION:4")
    assert first.outcome == "accepted" and not first.duplicate
    replayed = await say(app, JM1, command, ciphertext="SESSION:4")
    assert replayed.duplicate and replayed.replies == []
    outsider = partial(say, app, OUTSIDER, "!roster", room="!dm-outsider", kind="direct")
    assert (await outsider(ciphertext="OTHER:1")).outcome == "refused"
    assert (await outsider(ciphertext="OTHER:1")).duplicate
    # A listener's input: a file sent in reply to the confirmation is kept as evidence.
    confirmation = (await Postman(app).deliver_all())[0]
    file = '{"msgtype": "m.file", "body": "strategy.pdf", "url": "mxc://test.org/abc"}'
    evidence = partial(say, app, JM1, "strategy.pdf", reply_to=confirmation.event_id,
                       attachment=file)  # fmt: skip
    assert "Kept" in text_of(await evidence(ciphertext="FILE:0"))
    again = await evidence(ciphertext="FILE:0")
    assert again.duplicate and again.replies == []
    assert "Kept" in text_of(await evidence(ciphertext="FILE:1"))  # sent anew: a new message
    async with app.db.unit(write=False) as store:
        updates = await store.status.history("JM", "legal.strategy")
        refusals = [e for e in await store.audit.recent(limit=100) if e.actor == OUTSIDER]
    assert len(updates) == 1 and len(refusals) == 1


async def test_refusal_is_audited_and_changes_nothing(app):
    outcome = await say(app, OUTSIDER, "!roster add @x:test.org role=chair")
    assert outcome.outcome == "refused"
    assert "not on the roster" in text_of(outcome)
    async with app.db.unit(write=False) as store:
        assert await store.roster.member("@x:test.org") is None
    last = (await audit(app))[-1]
    assert (last.actor, last.action, last.outcome) == (OUTSIDER, "roster add", "refused")


async def test_role_is_checked_before_arguments(app):
    outcome = await say(app, STEERING, "!roster add nonsense")
    assert outcome.outcome == "refused"
    assert "is for: RCC chair, bot admin; you are Steering Committee member" in text_of(outcome)


async def test_argument_error_shows_usage_and_example(app):
    outcome = await say(app, CHAIR, "!roster add @x:test.org role=boss")
    body = text_of(outcome)
    assert outcome.outcome == "invalid"
    assert "role=: 'boss' is not one of: ncpoc, chair, steering, admin" in body
    usage = "Usage: !roster add <@user:server|email> role=<ncpoc|contact|chair|steering|admin>"
    assert usage in body
    assert "Example: !roster add @tt-cirt:example.org role=contact kind=cirt" in body
    assert (await audit(app))[-1].outcome == "invalid"


async def test_unknown_command_suggests_the_closest(app):
    outcome = await say(app, JM1, "!rostre")
    assert "unknown command !rostre. Did you mean !roster" in text_of(outcome)
    assert (await audit(app))[-1].action == "unknown"


async def test_a_failing_handler_rolls_back_and_says_so_without_details(app):
    from commands import roster

    async def broken(ctx, **kwargs):
        await ctx.store.roster.add(
            user_id="@ghost:test.org", role="chair", country=None, added_by="x", now=ctx.now
        )
        raise RuntimeError("secret TLP:RED detail")

    command = next(c for c in app.dispatcher.registry.commands if c.name == "roster")
    object.__setattr__(command, "handler", broken)
    try:
        outcome = await say(app, CHAIR, "!roster")
    finally:
        object.__setattr__(command, "handler", roster.roster_list)
    assert outcome.outcome == "failed"
    assert "TLP:RED" not in text_of(outcome) and "went wrong" in text_of(outcome)
    async with app.db.unit(write=False) as store:
        assert await store.roster.member("@ghost:test.org") is None
    assert "TLP:RED" not in (await audit(app))[-1].detail


async def test_replies_are_sanitised_html(app):
    outcome = await say(app, CHAIR, "!roster add @a<b>:test.org role=chair")
    html = outcome.replies[0].message.html
    assert "&lt;b&gt;" in html and "<b>" not in html  # user text is escaped, never markup


# --- what a hostile message costs ---------------------------------------------------------------


class CountingTokenizer:
    """Wraps the parser's tokenizer, to count the work every message cost."""

    def __init__(self, monkeypatch):
        from commands import parsing

        self.steps: list[int] = []
        real = parsing.Tokenizer
        outer = self

        class Counted(real):
            def tokens(self):
                found = super().tokens()
                outer.steps.append(self.steps)
                return found

        monkeypatch.setattr(parsing, "Tokenizer", Counted)


async def test_a_stranger_is_refused_by_the_commands_name_alone(app, monkeypatch):
    counted = CountingTokenizer(monkeypatch)
    hostile = "!incident new severity=high tlp=red " + "„ " * 1900  # under the limit
    outcome = await say(app, OUTSIDER, hostile)
    assert outcome.outcome == "refused" and "not on the roster" in text_of(outcome)
    assert sum(counted.steps) <= 3 * 200, counted.steps  # the first words only


async def test_a_command_over_the_limit_is_refused_in_one_line_before_it_is_read(app, monkeypatch):
    counted = CountingTokenizer(monkeypatch)
    for sender in (OUTSIDER, JM1):
        outcome = await say(app, sender, "!status note " + "„" * 16_000)
        assert outcome.outcome == "invalid"
        assert "too long for a command (over 4000 characters)" in text_of(outcome)
        assert len(text_of(outcome).splitlines()) == 1
    assert counted.steps == [], "nothing of it was tokenized"
    assert (await say(app, JM1, "!whoami")).outcome == "accepted"


async def test_the_limit_comes_from_the_config(make_app):
    app = await make_app("[limits]\nmax_command_chars = 200\n")
    outcome = await say(app, JM1, "!status note " + "x" * 300)
    assert "over 200 characters" in text_of(outcome)


async def test_a_flood_is_answered_once_then_costs_nothing(app):
    from datetime import timedelta

    from bot.flood import STRANGERS

    at = 5_000.0  # all typed at once
    burst = int(STRANGERS.burst) + 5
    answers = [await say(app, OUTSIDER, "!whoami", sent_at=at) for _ in range(burst)]
    read = [a for a in answers if a is not None and a.outcome == "accepted"]
    told = [a for a in answers if a is not None and a.outcome == "refused"]
    assert len(read) == STRANGERS.burst and len(told) == 1
    assert "Too many commands" in text_of(told[0])
    assert answers[-1] is None, "once told, the flood is not even recorded"
    mine = await say(app, JM1, "!whoami")  # a member is not held up by a stranger's flood
    assert mine.outcome == "accepted"
    later = at + timedelta(minutes=10).total_seconds()  # the bucket refilled meanwhile
    assert (await say(app, OUTSIDER, "!whoami", sent_at=later)).outcome == "accepted"


def test_members_have_a_generous_bucket_judged_by_when_they_typed():
    from bot.flood import Floods, Verdict

    floods = Floods()
    # 200 commands typed over 100 s while the bot was down, read in one burst: all read.
    verdicts = [floods.check("@jm", member=True, at=1000 + n / 2) for n in range(200)]
    assert set(verdicts) == {Verdict.ALLOW}
    burst = [floods.check("@jm", member=True, at=2000) for _ in range(70)]
    assert burst.count(Verdict.ALLOW) == 60 and burst.count(Verdict.NOTICE) == 1


async def test_a_role_taken_away_while_the_command_is_read_counts_at_once(app, monkeypatch):
    """The sender's roles are read again in the transaction that acts on them."""
    standing = app.dispatcher.senders.standing

    async def meanwhile(said, member, now):
        async with app.db.unit() as store:  # the chair removes them, between read and run
            await store.roster.remove(JM1)
        return await standing(said, member, now)

    monkeypatch.setattr(app.dispatcher.senders, "standing", meanwhile)
    outcome = await say(app, JM1, "!incident new severity=low tlp=green A phishing wave")
    assert outcome.outcome == "refused"
    async with app.db.unit(write=False) as store:
        assert await store.incidents.get(1) is None
