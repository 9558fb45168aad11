"""Reports as records (RP-n) and their readers' feedback: kept under its label, shown in the
next digest and in meeting agendas (Action Plan, section 8.4) — both backends."""

from __future__ import annotations

from datetime import timedelta

from commands.values import RoomKind
from tests.helpers import CHAIR, JM1, STEERING, Postman, body_of, say, text_of
from tests.test_digest import all_outputs, digest_of

ST = "!steering:test.org"


async def test_feedback_on_a_report_reaches_the_next_digest_and_agenda(app, clock):
    app.rooms[RoomKind.STEERING] = ST
    made = await say(app, CHAIR, "!report heads period=2026-11", room=ST, kind="steering")
    assert "📄 RP-1: the heads report for November 2026" in text_of(made)
    assert "!feedback RP-1 <text>" in text_of(made)
    given = await say(app, STEERING, "!feedback RP-1 tlp=green The Heads ask for counts by "
                      "type of crime", room=ST, kind="steering")  # fmt: skip
    assert given.outcome == "accepted", text_of(given)
    assert "Feedback on RP-1 (heads, November 2026) kept" in text_of(given)
    secret = await say(app, CHAIR, "!feedback RP-1 tlp=red Source names for the Heads only",
                       room="!dm-chair", kind="direct")  # fmt: skip
    assert secret.outcome == "accepted", text_of(secret)
    assert (await say(app, JM1, "!feedback RP-1 Fine")).outcome == "refused"  # readers' say
    missing = await say(app, STEERING, "!feedback RP-9 Hello", room=ST, kind="steering")
    assert "there is no RP-9" in text_of(missing)
    text = all_outputs(app, await digest_of(app, clock))
    assert "The Heads ask for counts by type of crime" in text and "RP-1 (heads" in text
    assert "Source names" not in text  # RED: for the chair's DM, not the digest
    await say(app, CHAIR, "!meeting add 2026-11-05 10:00 Steering review room=steering",
              room=ST, kind="steering")  # fmt: skip
    clock.advance(timedelta(days=2))  # the agenda goes out two days ahead
    await app.jobs.run("meeting", 1)
    agenda = [body_of(r) for r in await Postman(app).deliver_all() if "Agenda" in body_of(r)]
    assert agenda and "5. Feedback on reports:" in agenda[0]
    assert "RP-1 (heads, November 2026) [TLP:GREEN] @steer:test.org" in agenda[0]


async def test_stakeholders_input_reaches_the_csm_report_and_becomes_a_motion(app, clock):
    from bot.files import render_file

    contact = "@jm-soc:test.org"
    await say(app, CHAIR, f"!roster add {contact} role=contact kind=cirt country=JM force=yes")
    given = await say(app, contact, "!input csm Small states need a model data protection bill",
                      room=f"!dm-{contact}", kind="direct")  # fmt: skip
    assert given.outcome == "accepted", text_of(given)
    assert "✅ IN-1 kept for the Caribbean Stakeholders Meeting" in text_of(given)
    hidden = await say(app, STEERING, "!input csm tlp=red Names of the drafters", room=ST,
                       kind="steering")  # fmt: skip
    assert hidden.outcome == "accepted", text_of(hidden)
    motion = await say(app, CHAIR, "!motion propose legal.privacy from=IN-1 tlp=green Model "
                       "bill adapted and tabled")  # fmt: skip
    assert motion.outcome == "accepted", text_of(motion)
    twice = await say(app, CHAIR, "!motion propose legal.cybercrime from=IN-1 Act")
    assert "IN-1 became MO-1 already" in text_of(twice)
    made = await say(app, CHAIR, "!report csm period=2026-11", room=ST, kind="steering")
    spec = next(f for f in made.replies[0].files if f.mimetype == "text/html")
    page = render_file(app.renderer, "report-html", spec.data).decode()
    assert "IN-1" in page and "model data protection bill" in page and "→ MO-1" in page
    assert "Names of the drafters" not in page and "1 more not shown" in page
