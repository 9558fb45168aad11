"""The `rcc-bot` command line: run, check-config, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from bot.logs import configure as configure_logging


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rcc-bot", description="Matrix chat-ops bot for the CARICOM Regional Cyber Committee"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", required=True, type=Path, metavar="PATH", help="config file")
        return p

    with_config("run", "run the bot")
    with_config("check-config", "validate a config file and exit 0 (valid) or 1")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="apply pending schema migrations")
    up.add_argument("--config", required=True, type=Path, metavar="PATH", help="config file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.command == "check-config":
        ref = config.reference
        print(
            f"ok: {args.config} is valid ({len(config.roster)} roster entries, "
            f"{len(ref.countries)} countries, {len(ref.catalogue.items)} catalogue items)"
        )
        return 0
    configure_logging(config.bot.log_level)
    if args.command == "db":
        return asyncio.run(_db_upgrade(config))
    from bot.runner import run  # the Matrix stack is imported only when the bot runs

    return asyncio.run(run(config, crash_at=os.environ.get("RCC_CRASH_AT")))


async def _db_upgrade(config: Config) -> int:
    from storage.db import Database

    db = Database(config.storage.url)
    try:
        applied = await db.upgrade()
    finally:
        await db.close()
    print(f"database at the newest schema ({', '.join(applied) or 'nothing to apply'})")
    return 0
