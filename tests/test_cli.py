"""The command line as a new operator meets it: every path ends in one line, never a
traceback; missing directories are made (for the bot's user alone); check-config catches what
`run` would fail on."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from tests.helpers import write_config

ROOT = Path(__file__).resolve().parents[1]
UNREACHABLE = "postgresql+asyncpg://rcc@127.0.0.1:1/rcc"  # nothing listens on port 1


@pytest.fixture
def cli(monkeypatch):
    from bot.cli import main

    monkeypatch.setattr("bot.cli.configure_logging", lambda level: None)
    return main


def test_the_example_config_starts_in_an_empty_directory(cli, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text((ROOT / "config.example.toml").read_text())
    assert cli(["check-config", "--config", "config.toml", "--offline"]) == 0
    assert cli(["db", "upgrade", "--config", "config.toml"]) == 0
    assert (tmp_path / "data" / "rcc.db").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert cli(["digest", "--config", "config.toml", "--out", "exports/q4/d.html"]) == 0
    assert (tmp_path / "exports" / "q4" / "d.png").exists()
    assert (tmp_path / "exports").stat().st_mode & 0o777 == 0o700
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [["db", "upgrade"], ["audit", "verify"], ["digest", "--out", "d.html"], ["run"]],
)
def test_an_unreachable_database_is_one_line(cli, tmp_path, capsys, command):
    path = write_config(tmp_path, UNREACHABLE)
    assert cli([*command, "--config", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: [storage] url postgresql+asyncpg://rcc@127.0.0.1:1/rcc: ")
    assert len(err.splitlines()) == 1, err


def test_a_file_that_cannot_be_written_is_one_line(cli, tmp_path, capsys):
    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
    blocked = tmp_path / "blocked"
    blocked.write_text("a file, not a directory")
    assert cli(["db", "upgrade", "--config", str(path)]) == 0
    capsys.readouterr()
    assert cli(["digest", "--config", str(path), "--out", str(blocked / "d.html")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {blocked}") and len(err.splitlines()) == 1, err


def test_check_config_names_each_problem(cli, tmp_path, capsys):
    path = write_config(
        tmp_path,
        UNREACHABLE,
        homeserver="http://127.0.0.1:1",
        store_path=str(tmp_path / "file" / "store"),
    )
    (tmp_path / "file").write_text("not a directory")
    assert cli(["check-config", "--config", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "is valid" in out
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: [storage] url postgresql+asyncpg://rcc@127.0.0.1:1/rcc")
    assert lines[1].startswith("error: [matrix] store_path") and "not writable" in lines[1]
    assert lines[2].startswith("error: [matrix] homeserver http://127.0.0.1:1 does not answer")
    assert "--offline skips this check" in lines[2]
    assert cli(["check-config", "--config", str(path), "--offline"]) == 1  # the rest remains
    assert "homeserver" not in capsys.readouterr().err


@pytest.mark.synapse
async def test_check_config_resolves_the_committee_rooms(world):
    async def check() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            Path(sys.executable).with_name("rcc-bot"),
            "check-config",
            "--config",
            str(world.config_path()),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=world.tmp,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 120)
        return process.returncode or 0, out.decode()

    code, out = await check()
    assert code == 1 and f"#{world.rcc_alias}:" in out and "no room has this alias" in out
    assert "ok: the homeserver answers" in out and "Traceback" not in out
    chair = await world.person("chair", "chair")
    room = await world.room(chair, [], alias=world.rcc_alias, bot=False)
    await world.room(chair, [], alias=world.steering_alias, bot=False)
    code, out = await check()
    assert code == 0, out
    assert f"rcc_room #{world.rcc_alias}:{world.hs.server_name} is {room}" in out


def test_import_status_stores_a_good_file_and_nothing_of_a_bad_one(cli, tmp_path, capsys):
    import sqlite3

    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
    good = tmp_path / "baseline.csv"
    good.write_text(
        "\ufeffcountry,item,state,note,evidence,source\n"
        "JM,legal.strategy,met,Approved 2024,https://mstem.gov.jm/strategy,desk-review\n"
        'Trinidad and Tobago,legal.cybercrime,in progress,"Bill before Parliament",,ncpoc\n'
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "country,item,state\n"
        "JM,legal.privacy,met\n"  # good, but not stored: another row is bad
        "XX,legal.strategy,met\n"
        "JM,legal.stratgy,met\n"
        "JM,coop.capacity-centre,met\n"
        "TT,legal.policy,maybe\n"
        "JM,legal.privacy,n/a\n"
    )
    assert cli(["import-status", "--config", str(path), "--csv", str(bad)]) == 1
    err = capsys.readouterr().err
    said = {
        int(e.split(": line ")[1].split(":")[0]): e for e in err.splitlines() if ": line " in e
    }
    assert sorted(said) == [3, 4, 5, 6, 7], err  # every bad row, each on its own line
    for line, words in (
        (3, "unknown country 'XX'"),
        (4, "did you mean legal.strategy"),
        (5, "regional deliverable"),
        (6, "'maybe' is not a state"),
        (7, "JM legal.privacy is on line 2 too"),
    ):
        assert words in said[line], (line, said[line])
    assert "5 bad row(s); nothing was stored" in err
    assert cli(["import-status", "--config", str(path), "--csv", str(good), "--dry-run"]) == 0
    assert "2 row(s) are good (catalogue version 1); nothing stored" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "rcc.db") as db:
        assert db.execute("SELECT count(*) FROM status_update").fetchone() == (0,)
    assert cli(["import-status", "--config", str(path), "--csv", str(good)]) == 0
    with sqlite3.connect(tmp_path / "rcc.db") as db:
        rows = db.execute(
            "SELECT country, item_id, state, source, evidence, version FROM status_update "
            "ORDER BY id"
        ).fetchall()
    assert rows == [
        ("JM", "legal.strategy", "met", "desk-review", "https://mstem.gov.jm/strategy", 1),
        ("TT", "legal.cybercrime", "in-progress", "ncpoc", None, 1),
    ]


def test_report_writes_each_audiences_report_as_html_csv_and_xlsx(cli, tmp_path, capsys):
    import csv
    import io

    from openpyxl import load_workbook

    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
    baseline = tmp_path / "baseline.csv"
    baseline.write_text("country,item,state\nJM,legal.strategy,met\nTT,legal.privacy,met\n")
    assert cli(["import-status", "--config", str(path), "--csv", str(baseline)]) == 0
    capsys.readouterr()

    def report(profile: str, out: Path, period: str = "last-30d") -> str:
        args = ["report", "--config", str(path), "--profile", profile, "--out", str(out)]
        assert cli([*args, "--period", period]) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    jm = tmp_path / "reports" / "jm.html"
    assert "the country:JM report for the last 30 days" in report("country:jm", jm)
    page = jm.read_text()
    assert "Gap analysis — Jamaica (JM)" in page and "Met by Trinidad and Tobago (TT)." in page
    assert "<code>legal.strategy</code>" not in page  # met: not a gap
    consle = tmp_path / "consle.html"
    said = report("consle", consle, "2026")
    assert "the consle report for the year 2026 (TLP:GREEN)" in said
    assert "Report of CARICOM IMPACS to CONSLE" in consle.read_text()
    book_path = tmp_path / "consle.xlsx"
    report("consle", book_path, "2026")
    book = load_workbook(book_path)
    assert book.sheetnames == [
        "Status matrix", "Compliance history", "Projects", "Actions", "Decisions",
    ]  # fmt: skip
    matrix = book["Status matrix"]
    assert matrix["A1"].value.endswith("Status matrix — the year 2026") and matrix["B1"].value == (
        "TLP:GREEN"
    )
    header = [c.value for c in matrix[3]]
    assert header[:3] == ["Country", "Code", "awareness.ministers"] and header[-4:] == [
        "Met",
        "Applicable",
        "With a standard met",
        "With a standard",
    ]
    rows = {r[1]: r for r in matrix.iter_rows(min_row=4, values_only=True)}
    assert rows["JM"][header.index("legal.strategy")] == "met" and rows["JM"][-2] == 1
    history = list(book["Compliance history"].iter_rows(min_row=4, values_only=True))
    assert {(r[1], r[2], r[3]) for r in history} == {
        ("JM", "legal.strategy", "met"), ("TT", "legal.privacy", "met"),
    }  # fmt: skip
    table = tmp_path / "matrix.csv"
    report("steering", table)
    parsed = list(csv.reader(io.StringIO(table.read_text("utf-8-sig"))))
    assert parsed[0][:2] == ["Country", "Code"] and len(parsed) == 21  # a header, 20 countries
    bad = ["report", "--config", str(path), "--out", str(jm)]
    assert cli([*bad, "--profile", "ministers"]) == 1
    assert "'ministers' is not a report: steering, consle, heads, csm, funding or country:XX" in (
        capsys.readouterr().err
    )
    assert cli(["report", "--config", str(path), "--profile", "csm", "--out", "x.docx"]) == 1
    assert "x.docx must end in .html, .pdf, .csv, .xlsx" in capsys.readouterr().err
    # A document in another language: --lang, else the committee's.
    french = tmp_path / "jm-fr.html"
    assert cli([*bad[:-1], str(french), "--profile", "country:JM", "--lang", "fr"]) == 0
    page = french.read_text()
    assert '<html lang="fr">' in page and "Analyse des écarts — Jamaica (JM)" in page
    assert "Atteint par Trinidad and Tobago (TT)." in page and "Gap analysis" not in page
    assert cli([*bad, "--profile", "csm", "--lang", "de"]) == 1
    assert "--lang de: not one of en, es, fr, nl" in capsys.readouterr().err


def test_an_offline_digest_or_report_changes_nothing(cli, tmp_path, capsys):
    """Read only: no migration, no roster seeded, no audit entry; a database at another
    schema is refused with the command that readies it."""
    import sqlite3

    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
    assert cli(["digest", "--config", str(path), "--out", str(tmp_path / "d.html")]) == 1
    assert "run rcc-bot db upgrade first" in capsys.readouterr().err
    assert cli(["db", "upgrade", "--config", str(path)]) == 0

    def tables() -> dict[str, int]:
        with sqlite3.connect(tmp_path / "rcc.db") as db:
            names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return {n: db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}

    before = tables()
    assert cli(["digest", "--config", str(path), "--out", str(tmp_path / "d.html")]) == 0
    report = ["report", "--profile", "steering", "--out", str(tmp_path / "r.html")]
    assert cli([*report, "--config", str(path)]) == 0
    assert tables() == before
    assert before["roster"] == 0 and before["audit_log"] == 0 and before["catalogue_version"] == 0


def test_export_writes_a_stix_bundle_and_misp_events(cli, tmp_path, capsys):
    import stix2

    path = write_config(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'rcc.db'}")
    assert cli(["db", "upgrade", "--config", str(path)]) == 0
    for kind in ("stix", "misp"):
        out = tmp_path / "out" / f"export.{kind}.json"
        args = ["export", "--config", str(path), "--format", kind, "--out", str(out)]
        assert cli([*args, "--period", "2026-11", "--audience", "rcc"]) == 0, capsys.readouterr()
        assert "0 incidents (November 2026)" in capsys.readouterr().out
        if kind == "stix":
            bundle = stix2.parse(out.read_text(), allow_custom=True)
            assert [o["type"] for o in bundle.objects] == ["marking-definition", "identity"]
        else:
            assert json.loads(out.read_text()) == {"response": []}
    bad = cli(["export", "--config", str(path), "--format", "stix", "--period", "2026-13",
               "--out", str(tmp_path / "x.json")])  # fmt: skip
    assert bad != 0 and "there is no month 13" in capsys.readouterr().err
