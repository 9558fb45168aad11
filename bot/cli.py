"""The `rcc-bot` command line: run, check-config, db upgrade, audit verify, demo, and the
families' own verbs (digest, report, import-status), found on their routers."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Config, ConfigError, load_config
from bot.logs import configure as configure_logging
from commands.framework import Verb

if TYPE_CHECKING:
    from bot.rendering import Renderer
    from commands.framework import ParseEnv
    from commands.sections import Sections
    from storage.db import Database
    from storage.stores import Stores


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rcc-bot", description="Matrix chat-ops bot for the CARICOM Regional Cyber Committee"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", required=True, type=Path, metavar="PATH", help="config file")
        return p

    with_config("run", "run the bot").add_argument(
        "--standby", action="store_true", help="the standby of two sites on one PostgreSQL "
        "([ha] role = standby): it acts once the active node is silent for [ha] takeover_after",
    )  # fmt: skip
    check = with_config(
        "check-config",
        "validate a config file and what it names (database, store, homeserver, rooms); "
        "exit 0 (all good) or 1",
    )
    check.add_argument(
        "--offline", action="store_true", help="skip the homeserver and room checks"
    )
    for verb in _verbs():  # the families' own: digest, report, import-status, …
        declared = with_config(verb.name, verb.help)
        verb.arguments(declared)
        if verb.document:
            declared.add_argument(
                "--lang",
                metavar="CODE",
                help="the language to write it in (en, fr, nl, es …); default: [committee] "
                "language",
            )
    _maintenance(sub)
    return parser


def _maintenance(sub: Any) -> None:
    """The verbs beside running the bot: demo, audit verify, db upgrade."""
    demo = sub.add_parser(
        "demo", help="the whole mission on a throwaway homeserver (needs the demo extra)"
    )
    demo.add_argument("--once", action="store_true", help="exit after the scripted scenario")
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("demo-output"),
        metavar="DIR",
        help="where the digest and the bot's database go (default: demo-output)",
    )
    audit = sub.add_parser("audit", help="the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_sub.add_parser("verify", help="walk the audit log's hash chain")
    verify.add_argument("--config", required=True, type=Path, metavar="PATH", help="config file")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = db_sub.add_parser("upgrade", help="apply pending schema migrations")
    up.add_argument("--config", required=True, type=Path, metavar="PATH", help="config file")


def main(argv: Sequence[str] | None = None) -> int:
    # Everything the bot writes (database, store, exports, logs) is for its own user alone.
    os.umask(0o077)
    args = _parser().parse_args(argv)
    if args.command == "demo":
        try:
            from devkit.demo import main as demo
        except ImportError:
            print(
                "error: the demo is not installed here; install rcc-bot with its `demo` extra "
                "from a source checkout (the container has it only when built with "
                "--build-arg DEMO=yes)",
                file=sys.stderr,
            )
            return 1

        configure_logging("WARNING")
        # The demo's own clients are nio too; their key-exchange chatter is not the story.
        logging.getLogger("nio").setLevel(logging.ERROR)
        return demo(args.once, args.out)
    try:
        config = load_config(args.config, role="standby" if getattr(args, "standby", 0) else None)
    except ConfigError as exc:
        for line in str(exc).splitlines():  # every problem, a line each
            print(f"error: {line}", file=sys.stderr)
        return 1
    try:
        return _command(args, config)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # what a user can hit ends in one line, never a traceback
        from bot.preflight import reason, safe_url

        if isinstance(exc, OSError) and exc.filename:
            print(f"error: {exc.filename}: {exc.strerror or reason(exc)}", file=sys.stderr)
        elif isinstance(exc, OSError) or type(exc).__module__.startswith(
            ("sqlalchemy", "asyncpg", "sqlite3")
        ):  # the homeserver is waited for; what cannot be reached here is the database
            url = safe_url(config.storage.url)
            print(f"error: [storage] url {url}: {reason(exc)}", file=sys.stderr)
        else:
            raise
        return 1


def _command(args: argparse.Namespace, config: Config) -> int:
    if args.command == "check-config":
        return asyncio.run(_check_config(args.config, config, offline=args.offline))
    configure_logging(config.bot.log_level)
    if args.command == "db":
        return asyncio.run(_db_upgrade(config))
    if args.command == "audit":
        return asyncio.run(_audit_verify(config))
    verb = next((v for v in _verbs() if v.name == args.command), None)
    if verb is not None:
        return _offline(verb, args, config)
    from bot.runner import run  # the Matrix stack is imported only when the bot runs

    return asyncio.run(run(config, crash_at=os.environ.get("RCC_CRASH_AT")))


async def _check_config(path: Path, config: Config, *, offline: bool) -> int:
    from bot.preflight import checks

    ref = config.reference
    print(
        f"ok: {path} is valid ({len(config.roster)} roster entries, "
        f"{len(ref.countries)} countries, {len(ref.catalogue.scored)} items per country in "
        f"catalogue {ref.catalogue.label})"
    )
    found = await checks(config, offline=offline)
    for check in found:
        print(check.line, file=sys.stdout if check.ok else sys.stderr)
    return 0 if all(c.ok for c in found) else 1


async def _db_upgrade(config: Config) -> int:
    from storage.db import Database

    db = Database(config.storage.url)
    try:
        applied = await db.upgrade()
    finally:
        await db.close()
    print(f"database at the newest schema ({', '.join(applied) or 'nothing to apply'})")
    return 0


async def _audit_verify(config: Config) -> int:
    """Exit 0 when every entry matches its hash and the chain's recorded head."""
    from storage.db import Database

    db = Database(config.storage.url)
    try:
        async with db.unit(write=False) as store:
            checked, broken = await store.audit.verify()
            head_id, head_hash = await store.audit.head()
    finally:
        await db.close()
    if broken is not None:
        print(
            f"audit log BROKEN at entry #{broken}: it or what follows was changed, removed or "
            f"inserted behind the bot's back ({checked} entries before it match)",
            file=sys.stderr,
        )
        return 1
    print(f"audit log intact: {checked} entries, head #{head_id} {head_hash}")
    return 0


def _verbs() -> list[Verb]:
    from commands import all_routers

    return [verb for router in all_routers() for verb in router.verbs]


def _offline(verb: Verb, args: argparse.Namespace, config: Config) -> int:
    """Run a family's verb with the database at its newest schema and the config applied,
    in the language asked for (--lang) or the committee's."""
    from commands import i18n

    language = i18n.known(getattr(args, "lang", None) or config.committee.language)
    if language is None:
        choices = ", ".join(i18n.languages())
        print(f"error: --lang {args.lang}: not one of {choices}", file=sys.stderr)
        return 1
    with i18n.speaking(language):  # the task asyncio.run starts copies the context
        return asyncio.run(_run_offline(verb, args, config))


async def _run_offline(verb: Verb, args: argparse.Namespace, config: Config) -> int:
    from bot.app import prepare, read_only, system_clock
    from bot.rendering import Renderer
    from commands.framework import ParseEnv
    from storage.db import Database

    db = Database(config.storage.url)
    renderer = Renderer(config.committee.zone, config.templates_dir)

    try:
        if verb.writes:
            await prepare(db, config, system_clock)  # migrated, the config applied
        elif not await read_only(db, config):
            print(
                "error: [storage] url: the database is not at this version's schema (or has "
                "none); run rcc-bot db upgrade first (this command changes nothing)",
                file=sys.stderr,
            )
            return 1
        env = ParseEnv(config.reference, config.committee.zone, system_clock)
        return await verb.run(_OfflineRun(db, renderer, env, config), args)
    finally:
        await db.close()


class _OfflineRun:
    """What a verb works with (`commands.framework.Offline`), on this command line."""

    def __init__(self, db: Database, renderer: Renderer, env: ParseEnv, config: Config) -> None:
        self.db, self.renderer, self.env = db, renderer, env
        self.config: Sections = config.sections
        self.committee: str = config.committee.name

    def unit(self, *, write: bool = True) -> AbstractAsyncContextManager[Stores]:
        return self.db.unit(write=write)

    def render(self, name: str, data: dict[str, Any]) -> bytes:
        from bot.files import render_file

        return render_file(self.renderer, name, data)

    def say(self, line: str) -> None:
        print(line)

    def error(self, line: str) -> int:
        print(f"error: {line}", file=sys.stderr)
        return 1
