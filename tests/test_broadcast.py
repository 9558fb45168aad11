"""Emergency broadcasts: delivery records, the three ways to acknowledge, re-notification."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from commands.broadcast.acks import is_ack_reaction, is_ack_text
from commands.values import RoomKind
from tests.helpers import CHAIR, JM1, OUTSIDER, STEERING, TT1, TT2, Postman, body_of, say, text_of


@pytest.fixture
def hs(app):
    app.rooms[RoomKind.RCC] = "!rcc:test.org"
    return Postman(app)


async def recipients(app, number=1):
    async with app.db.unit(write=False) as store:
        found = await store.broadcasts.get(number)
        return {r.user_id: r for r in await store.broadcasts.recipients(found.id)}


async def start(app, hs, text="!broadcast severity=critical Patch VPN appliances now"):
    outcome = await say(app, CHAIR, text)
    assert outcome.outcome == "accepted", text_of(outcome)
    await app.jobs.run("broadcast", 1)
    return outcome, await hs.deliver_all()


async def test_only_the_chair_broadcasts(app, hs):
    assert (await say(app, JM1, "!broadcast Hello")).outcome == "refused"
    assert (await say(app, STEERING, "!broadcast Hello")).outcome == "refused"
    assert (await say(app, CHAIR, "!broadcast")).outcome == "invalid"


async def test_broadcast_reaches_the_room_and_each_ncpoc_once(app, hs):
    outcome, sent = await start(app, hs)
    body = text_of(outcome)
    assert "🚨 CRITICAL broadcast BC-1 [TLP:AMBER] from @chair:test.org" in body
    assert "Patch VPN appliances now" in body and "!ack BC-1" in body
    assert set(outcome.replies[0].mentions) == {JM1, TT1, TT2}
    rooms = sorted(row.room_id for row in sent)
    assert rooms == [
        "!dm-@jm1:test.org",
        "!dm-@tt1:test.org",
        "!dm-@tt2:test.org",
        "!rcc:test.org",
    ]
    people = await recipients(app)
    assert set(people) == {JM1, TT1, TT2} and all(r.dm_outbox_id for r in people.values())
    # Alerts ring: m.text (an m.notice is silenced by the default push rules); replies don't.
    assert {json.loads(row.content)["msgtype"] for row in sent} == {"m.text"}
    await app.jobs.run("broadcast", 1)  # run again: nothing twice
    assert await hs.deliver_all() == []
    quiet = await say(app, JM1, "!broadcast status")
    assert json.loads(quiet.outbox[0].content)["msgtype"] == "m.notice"


async def test_ack_by_command(app, hs):
    await start(app, hs)
    first = await say(app, JM1, "!ack")
    assert "BC-1 acknowledged" in text_of(first) and "1/2 countries so far" in text_of(first)
    again = await say(app, JM1, "!ack BC-1")
    assert "you acknowledged it already" in text_of(again)
    stranger = await say(app, CHAIR, "!ack BC-1")
    assert "BC-1 was not sent to you" in text_of(stranger)
    assert (await say(app, JM1, "!ack BC-9")).outcome == "invalid"
    assert (await recipients(app))[JM1].ack_via == "command"


async def acted(app, sender, *, body, target, via, event="$x", room="!rcc:test.org", kind="rcc"):
    """An acknowledgement by a reply (`body` answers `target`) or a ✅ reaction to `target`."""
    if via == "reaction":
        return await say(app, sender, room=room, kind=kind, event_id=event, reaction="✅",
                         reply_to=target)  # fmt: skip
    return await say(app, sender, body, room=room, kind=kind, event_id=event, reply_to=target)


async def test_ack_by_reply_and_reaction(app, hs):
    _, sent = await start(app, hs)
    dm_event = {row.room_id: row.event_id for row in sent}["!dm-@tt1:test.org"]
    by_reply = await acted(
        app,
        TT1,
        body="Ack.",
        target=dm_event,
        via="reply",
        event="$r1",
        room="!dm-@tt1:test.org",
        kind="direct",
    )
    assert "BC-1 acknowledged" in text_of(by_reply)
    room_event = {row.room_id: row.event_id for row in sent}["!rcc:test.org"]
    by_reaction = await acted(app, TT2, body="", target=room_event, via="reaction", event="$r2")
    assert "1/2 countries so far" in text_of(by_reaction)  # TT again
    # A reply that names BC-1 in its quoted fallback works when its target is not known.
    quoted = "> <@chair:test.org> 🚨 CRITICAL broadcast BC-1\n\nack"
    by_text = await acted(app, JM1, body=quoted, target="$elsewhere", via="reply", event="$r3")
    assert "2/2 countries so far" in text_of(by_text)
    people = await recipients(app)
    assert {u: r.ack_via for u, r in people.items()} == {
        TT1: "reply",
        TT2: "reaction",
        JM1: "reply",
    }
    # Second acknowledgements, strangers and unrelated replies leave no trace.
    assert await acted(app, TT1, body="ack", target=dm_event, via="reply", event="$r4") is None
    assert (
        await acted(app, OUTSIDER, body="ack", target=room_event, via="reply", event="$r5") is None
    )
    assert await acted(app, JM1, body="ack", target="$unrelated", via="reply", event="$r6") is None
    assert await acted(app, TT1, body="ack", target=dm_event, via="reply", event="$r1") is None


@pytest.mark.parametrize(
    ("key", "counts"), [("✅", True), ("👍", True), ("👍🏽", True), ("✔️", True), ("❤️", False)]
)
def test_ack_reactions(key, counts):
    assert is_ack_reaction(key) is counts


ACKS = [
    "ack",
    "Ack.",
    "ACK!",
    "acked",
    "Acknowledged",
    "received",
    "Received.",
    "roger",
    "reçu",
    "Reçu !",
    "bien reçu",
    "Accusé de réception",
    "ontvangen",
    "Goed ontvangen.",
    "bevestigd",
    "recibido",
    "¡Recibido!",
    "Bien recibido",
    "acuse de recibo",
    "confirmado",
    "✅",
    "👍🏽",
    "✔️",
    "ack ✅",
    "Recibido 👍",
    "ack BC-3",
    "BC-12 reçu",
]
NOT_ACKS = [
    # negations, in the four languages
    "not received",
    "Not acked",
    "I have not received it",
    "nothing received",
    "pas reçu",
    "Je n'ai rien reçu, pas reçu",
    "non reçu",
    "rien reçu",
    "niet ontvangen",
    "Niet ontvangen, graag opnieuw sturen",
    "nog niet ontvangen",
    "no recibido",
    "No lo he recibido",
    "nada recibido",
    # questions
    "Who hasn't acked yet?",
    "ack?",
    "received?",
    "reçu ?",
    "¿Recibido?",
    "ontvangen?",
    # sentences
    "Received, thanks",
    "ack — on it",
    "received, will check",
    "bien reçu, merci",
    "ack but the link is broken",
    "👍 but not yet",
    "ack ack ack " * 10,
    "",
    "   ",
    "acknowledge this please",
    "ontvangen maar onleesbaar",
]


@pytest.mark.parametrize("text", ACKS)
def test_an_acknowledgement_is_its_whole_text(text):
    assert is_ack_text(text), text


@pytest.mark.parametrize("text", NOT_ACKS)
def test_a_negation_a_question_or_a_sentence_is_never_an_acknowledgement(text):
    assert not is_ack_text(text), text


async def test_the_default_chain_escalates_only_dark_countries_tier_by_tier(app, hs, clock):
    await start(app, hs)
    await say(app, JM1, "!ack")
    await hs.deliver_all()  # the bot's answer to the ack
    clock.advance(timedelta(minutes=15))
    following = await app.jobs.run("broadcast", 1)
    sent = await hs.deliver_all()
    # Step 1: the primary NCPOC of each dark country (TT; Jamaica answered), and the chair.
    assert sorted(r.room_id for r in sent) == ["!dm-@chair:test.org", "!dm-@tt1:test.org"]
    bodies = {r.room_id: body_of(r) for r in sent}
    assert (
        "Reminder 1: nobody in Trinidad and Tobago has acknowledged yet"
        in bodies["!dm-@tt1:test.org"]
    )
    assert "1/2 countries acknowledged" in bodies["!dm-@chair:test.org"]
    assert "Trinidad and Tobago: @tt1:test.org, @tt2:test.org" in bodies["!dm-@chair:test.org"]
    assert following == clock() + timedelta(minutes=15)
    await app.jobs.run("broadcast", 1)
    assert await hs.deliver_all() == []  # the same step again: nothing
    clock.advance(timedelta(minutes=15))  # step 2: the alternate
    await app.jobs.run("broadcast", 1)
    assert sorted(r.room_id for r in await hs.deliver_all()) == [
        "!dm-@chair:test.org",
        "!dm-@tt2:test.org",
    ]
    clock.advance(timedelta(hours=2))  # step 3 (contacts: none here); the chair is told;
    assert await app.jobs.run("broadcast", 1) is None  # and Jamaica, which answered but
    sent = await hs.deliver_all()  # has not confirmed its relay, is asked once
    assert sorted(r.room_id for r in sent) == ["!dm-@chair:test.org", "!dm-@jm1:test.org"]
    assert "has it been passed on" in {r.room_id: body_of(r) for r in sent}["!dm-@jm1:test.org"]
    clock.advance(timedelta(hours=1))
    assert await app.jobs.run("broadcast", 1) is None
    assert await hs.deliver_all() == []


async def test_exercise_is_marked_everywhere_and_status_shows_the_roll_call(app, hs, clock):
    outcome, sent = await start(app, hs, "!broadcast exercise=yes severity=info Drill")
    assert all("EXERCISE" in body_of(row) for row in sent)
    assert "🧪 EXERCISE" in text_of(outcome)
    clock.advance(timedelta(seconds=95))
    assert "EXERCISE BC-1 acknowledged (1m 35s after it was sent)" in text_of(
        await say(app, TT1, "!ack")
    )
    status = text_of(await say(app, STEERING, "!broadcast status"))
    assert (
        "🧪 EXERCISE — BC-1 (info, TLP:AMBER, to every national contact): 1/2 countries "
        "acknowledged, 0 relayed; 1/3 people." in status
    )
    assert "Dark: Jamaica" in status
    # Countries first, the dark ones on top; then each person.
    assert status.index("🔴 Jamaica: no acknowledgement") < status.index(
        "✅ Trinidad and Tobago: @tt1:test.org after 1m 35s (command), not relayed yet"
    )
    assert "@tt1:test.org (primary) ✅ 1m 35s (command)" in status
    assert "@tt2:test.org (alternate) — silent" in status


async def test_a_refused_delivery_is_reported_to_the_chair_once(app, hs):
    await say(app, CHAIR, "!broadcast Patch the VPN appliances now")
    await app.jobs.run("broadcast", 1)
    people = await recipients(app)
    async with app.db.unit() as store:
        await store.outbox.mark_failed(people[JM1].dm_outbox_id, error="M_FORBIDDEN: banned")
    await app.jobs.run("delivery failures", 0)
    async with app.db.unit(write=False) as store:
        told = [r for r in await store.outbox.pending() if r.ref is None and r.to_user == CHAIR]
    (report,) = told
    body = body_of(report)
    assert "Not delivered: the broadcast BC-1 to @jm1:test.org" in body
    assert "M_FORBIDDEN: banned" in body and report.report_to is None  # not reported in turn
    await app.jobs.run("delivery failures", 0)  # once only
    async with app.db.unit(write=False) as store:
        assert len([r for r in await store.outbox.pending() if r.to_user == CHAIR]) == 1


async def test_every_country_is_reached_before_a_second_contact_of_any(app, hs):
    for user in ("@bb1:test.org", "@bb2:test.org"):
        added = await say(app, CHAIR, f"!roster add {user} role=ncpoc country=BB")
        assert added.outcome == "accepted", text_of(added)
    await start(app, hs)
    people = await recipients(app)
    order = sorted(people.values(), key=lambda r: r.dm_outbox_id)
    countries = [r.country for r in order]
    assert sorted(countries[:3]) == ["BB", "JM", "TT"], countries  # one of each first
    assert sorted(countries[3:]) == ["BB", "TT"]


async def test_a_rate_limited_bot_tells_the_chair_once_with_the_call_that_exempts_it(app, hs):
    await app.rate_limited(4.2)
    await app.rate_limited(3.0)  # within the hour: not again
    await app.jobs.run("room notices", 0)
    told = [r for r in await hs.deliver_all() if r.to_user == CHAIR]
    assert len(told) == 1
    body = body_of(told[0])
    assert "rate-limiting the bot's messages (it had to wait 4.2 s)" in body
    assert "/_synapse/admin/v1/users/@rccbot:test.org/override_ratelimit" in body
    assert '"messages_per_second": 0, "burst_count": 0' in body
    assert '"msgtype": "m.text"' in told[0].content  # it rings


@pytest.mark.parametrize(
    ("body", "counts"),
    [
        ("ack", True),
        ("Acknowledged.", True),
        ("reçu", True),
        ("Bien reçu, merci", False),  # a sentence: never, in a DM or in a reply
        ("Ontvangen!", True),
        ("recibido", True),
        ("Received, thanks", False),
        ("backlog", False),
    ],
)
def test_acknowledgement_words_in_the_regions_languages(body, counts):
    from commands.broadcast.send import _is_ack
    from commands.framework import Input

    bare = Input(event_id="$e", room_id="!dm", sender="@a:b", body=body, is_direct=True)
    assert _is_ack(bare) is counts
    replied = Input(event_id="$e", room_id="!r", sender="@a:b", body=body, reply_to="$x")
    assert _is_ack(replied) is counts


async def broadcasts(app):
    async with app.db.unit(write=False) as store:
        return [await store.broadcasts.get(n) for n in (1, 2) if await store.broadcasts.get(n)]


@pytest.mark.parametrize(
    "text",
    [
        "!broadcast test",
        "!broadcast Testing the bot",
        "!broadcast severity=critical this is a test of the channel",
        "!broadcast hello all",  # shorter than 15 characters
        "!broadcast essai de la chaîne d'alerte",
        "!broadcast prueba de la cadena de alerta",
    ],
)
async def test_a_broadcast_that_looks_like_a_test_is_held_and_points_at_drill(app, hs, text):
    held = await say(app, CHAIR, text)
    assert held.outcome == "accepted"
    assert "Nothing was sent" in text_of(held) and "!drill" in text_of(held)
    assert "!broadcast confirm" in text_of(held)
    assert await broadcasts(app) == []
    assert [body_of(r) for r in await hs.deliver_all()] == [text_of(held)], "its answer only"


async def test_a_held_broadcast_is_sent_as_typed_when_confirmed(app, hs):
    await say(app, CHAIR, "!broadcast severity=critical tlp=green test")
    confirmed = await say(app, CHAIR, "!broadcast confirm")
    assert confirmed.outcome == "accepted", text_of(confirmed)
    (sent,) = await broadcasts(app)
    assert (sent.message, sent.severity, sent.tlp, sent.exercise) == (
        "test", "critical", "green", False,
    )  # fmt: skip
    assert "🚨 CRITICAL broadcast BC-1" in text_of(confirmed)
    again = await say(app, CHAIR, "!broadcast confirm")
    assert again.outcome == "invalid", "confirmed once, sent once"


async def test_a_held_broadcast_waits_two_minutes_only(app, hs, clock):
    await say(app, CHAIR, "!broadcast test")
    clock.advance(timedelta(minutes=2, seconds=1))
    late = await say(app, CHAIR, "!broadcast confirm")
    assert late.outcome == "invalid" and "waiting to be confirmed" in text_of(late)
    assert await broadcasts(app) == []


async def test_a_tick_on_the_bots_answer_confirms_it(app, hs):
    held = await say(app, CHAIR, "!broadcast test")
    (notice,) = await hs.deliver_all()
    sent = await say(app, CHAIR, reaction="✅", reply_to=notice.event_id)
    assert held.outcome == "accepted" and sent is not None and sent.outcome == "accepted"
    assert [b.message for b in await broadcasts(app)] == ["test"]
    assert "HIGH broadcast BC-1" in text_of(sent)
    # A tick from someone else sends nothing; a second one is told there is nothing waiting.
    assert await say(app, JM1, reaction="✅", reply_to=notice.event_id) is None
    again = await say(app, CHAIR, reaction="✅", reply_to=notice.event_id)
    assert "waiting to be confirmed" in text_of(again)
    assert len(await broadcasts(app)) == 1


async def test_exercises_and_real_alerts_are_not_held(app, hs):
    drill = await say(app, CHAIR, "!drill test")
    exercise = await say(app, CHAIR, "!broadcast exercise=yes test")
    real = await say(app, CHAIR, "!broadcast Confirm receipt of the new VPN keys by noon")
    assert all(o.outcome == "accepted" for o in (drill, exercise, real))
    async with app.db.unit(write=False) as store:
        messages = [(await store.broadcasts.get(n)).message for n in (1, 2, 3)]
    assert messages == ["test", "test", "Confirm receipt of the new VPN keys by noon"]


async def test_a_held_broadcast_is_refused_first_for_what_would_refuse_it(app, hs):
    app.test_rooms.meet("!rcc:test.org", "rcc", STEERING, True)  # a Steering member joins
    refused = await say(app, CHAIR, "!broadcast tlp=amber+strict test")
    assert refused.outcome == "refused", "not held, only to be refused when confirmed"
    assert "may not show TLP:AMBER+STRICT" in text_of(refused)


async def test_an_exercise_says_so_once_and_the_relay_has_a_line_of_its_own(app, hs):
    _, sent = await start(app, hs, "!drill Quarterly check of the phone tree")
    assert sent
    for row in sent:
        body = body_of(row)
        assert body.count("EXERCISE") == 1, body
        assert "\nOnce passed on in your country: !relayed BC-1" in body, body


@pytest.mark.parametrize("lang", ["en", "fr", "nl", "es"])
async def test_a_dm_rendered_once_a_language_is_the_full_render_byte_for_byte(app, lang):
    """A broadcast's DMs are rendered once a language and zone, each recipient's ID put in
    after (ForPerson): the result must be what rendering each DM in full gives."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from commands.broadcast.send import announcement
    from commands.framework import ForPerson
    from storage.broadcasts import Broadcast

    sent = Broadcast(
        number=7, severity="critical", sender=CHAIR, room_id="!rcc:test.org", tlp="red",
        message="Patch <b>now</b> & \u202eevil\u202c: see https://example.org/?a=1&b=2",
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
    )  # fmt: skip
    view = announcement(sent, [])
    people = ["@jm1:test.org", "@a.b_c=d/e+f-9:hs.example.org:8448", "@x:Caribbean-CERT.gov",
              "@weird<b>\u202e:test.org", "@Upper:test.org"]  # fmt: skip
    for zone in (None, ZoneInfo("America/Jamaica")):
        for person in people:
            full = app.renderer.render(announcement(sent, [person], personal=person), lang, zone)
            once = app.renderer.render(ForPerson(view, "personal", person), lang, zone)
            assert once == full, person
            assert person.split(":")[0].lstrip("@")[:3] in full.body
    # The stand-in was rendered once per language and zone, not once per person, and found
    # equal to the full render (else every DM would be rendered in full).
    kept = app.renderer._personal.values()
    assert len(kept) == 2 and all(trusted is not None for _, trusted in kept)
