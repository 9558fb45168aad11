"""The command line as a new operator meets it: every path ends in one line, never a
traceback; missing directories are made (for the bot's user alone); check-config catches what
`run` would fail on."""

from __future__ import annotations

import asyncio
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
