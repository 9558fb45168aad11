"""The `rcc-bot` command line: run, check-config, db upgrade."""

from __future__ import annotations

import argparse
import asyncio
import logging
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
    check = with_config(
        "check-config",
        "validate a config file and what it names (database, store, homeserver, rooms); "
        "exit 0 (all good) or 1",
    )
    check.add_argument(
        "--offline", action="store_true", help="skip the homeserver and room checks"
    )
    offline = with_config("digest", "write the digest of a period as HTML (and a PNG beside it)")
    offline.add_argument("--period", default="last-30d", help="YYYY-MM, YYYY-Qn or last-30d")
    offline.add_argument("--out", required=True, type=Path, metavar="FILE", help="HTML file")
    offline.add_argument(
        "--audience",
        choices=("steering", "rcc"),
        default="steering",
        help="who the file is for: the Steering Committee (the default) or the RCC",
    )
    report = with_config(
        "report",
        "write a report for one audience (steering, consle, heads, csm, or country:XX, a "
        "country's gap analysis); the format follows --out: .html, .pdf, .csv or .xlsx",
    )
    report.add_argument(
        "--profile", required=True, metavar="PROFILE", help="steering|consle|heads|csm|country:XX"
    )
    report.add_argument("--period", default="last-30d", help="YYYY, YYYY-Qn, YYYY-MM or last-30d")
    report.add_argument("--out", required=True, type=Path, metavar="FILE", help="the file")
    for documents in (offline, report):
        documents.add_argument(
            "--lang",
            metavar="CODE",
            help="the language to write it in (en, fr, nl, es …); default: [committee] language",
        )
    imports = with_config(
        "import-status",
        "load a baseline of status from a CSV file (country,item,state[,note,evidence,source]) "
        "with the checks of !status set; nothing is stored if any row is bad",
    )
    imports.add_argument("--csv", required=True, type=Path, metavar="FILE", help="CSV file")
    imports.add_argument(
        "--dry-run", action="store_true", help="check the file and say what would be stored"
    )
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
    return parser


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
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
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
    if args.command in ("digest", "report"):
        from commands import i18n

        language = i18n.known(args.lang or config.committee.language)
        if language is None:
            choices = ", ".join(i18n.languages())
            print(f"error: --lang {args.lang}: not one of {choices}", file=sys.stderr)
            return 1
        with i18n.speaking(language):  # the task asyncio.run starts copies the context
            if args.command == "digest":
                return asyncio.run(_digest(config, args.period, args.out, args.audience))
            return asyncio.run(_report(config, args.profile, args.period, args.out))
    if args.command == "import-status":
        return asyncio.run(_import_status(config, args.csv, dry_run=args.dry_run))
    from bot.runner import run  # the Matrix stack is imported only when the bot runs

    return asyncio.run(run(config, crash_at=os.environ.get("RCC_CRASH_AT")))


async def _check_config(path: Path, config: Config, *, offline: bool) -> int:
    from bot.preflight import checks

    ref = config.reference
    print(
        f"ok: {path} is valid ({len(config.roster)} roster entries, "
        f"{len(ref.countries)} countries, {len(ref.catalogue.items)} catalogue items)"
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


async def _report(config: Config, profile_text: str, period_text: str, out: Path) -> int:
    from bot.app import prepare, system_clock
    from bot.files import render_file
    from bot.rendering import Renderer
    from commands.audience import Viewer
    from commands.digest_data import digest_period
    from commands.framework import ArgumentError, ParseEnv
    from commands.reports import audience_for, profile, report_data, to_csv
    from storage.db import Database

    formats = (".html", ".pdf", ".csv", ".xlsx")
    if out.suffix.lower() not in formats:
        print(f"error: --out: {out.name} must end in {', '.join(formats)}", file=sys.stderr)
        return 1
    env = ParseEnv(config.reference, config.committee.zone, system_clock)
    try:
        kind, country = profile(profile_text, env)
        period = digest_period(period_text, env)
    except ArgumentError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    db = Database(config.storage.url)
    try:
        await prepare(db, config, system_clock)  # the catalogue in force, from the database
        async with db.unit(write=False) as store:
            data = await report_data(
                store, env, config.sections, kind, country, period,
                Viewer(audience_for(kind, None)), system_clock(),
            )  # fmt: skip
    finally:
        await db.close()
    out.parent.mkdir(parents=True, exist_ok=True)  # private, by the umask
    suffix = out.suffix.lower()
    if suffix == ".csv":
        content = to_csv(data)
    else:
        renderer = Renderer(config.committee.zone, config.reports.templates_dir)
        content = render_file(
            renderer,
            {".xlsx": "report-xlsx", ".pdf": "report-pdf"}.get(suffix, "report-html"),
            data,
        )
    await asyncio.to_thread(out.write_bytes, content)
    print(f"wrote {out}: the {data['profile']} report for {period.label} ({data['label']})")
    return 0


async def _import_status(config: Config, path: Path, *, dry_run: bool) -> int:
    from bot.app import prepare, system_clock
    from commands.framework import ParseEnv
    from commands.status_import import read, store_rows
    from storage.db import Database

    # A spreadsheet's export may start with a BOM.
    text = await asyncio.to_thread(path.read_text, "utf-8-sig")
    db = Database(config.storage.url)
    try:
        await prepare(db, config, system_clock)  # the catalogue in force, from the database
        env = ParseEnv(config.reference, config.committee.zone, system_clock)
        rows, problems = read(text, env)
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        if problems:
            print(f"error: {len(problems)} bad row(s); nothing was stored", file=sys.stderr)
            return 1
        version = config.reference.catalogue.version
        if dry_run:
            print(f"{len(rows)} row(s) are good (catalogue version {version}); nothing stored")
            return 0
        async with db.unit() as store:
            await store_rows(
                store, rows, author=f"import:{path.name}", now=system_clock(), version=version
            )
    finally:
        await db.close()
    print(f"stored {len(rows)} status update(s) against catalogue version {version}")
    return 0


async def _digest(config: Config, period_text: str, out: Path, audience: str) -> int:
    from bot.app import prepare, system_clock
    from bot.rendering import Renderer
    from commands.audience import FILE_AUDIENCES, Viewer
    from commands.digest_data import build, digest_period
    from commands.framework import ArgumentError, ParseEnv
    from storage.db import Database

    env = ParseEnv(config.reference, config.committee.zone, system_clock)
    try:
        period = digest_period(period_text, env)
    except ArgumentError as exc:
        print(f"error: --period: {exc.message}", file=sys.stderr)
        return 1
    db = Database(config.storage.url)
    try:
        await prepare(db, config, system_clock)
        async with db.unit(write=False) as store:
            data = await build(
                store,
                period,
                env=env,
                config=config.sections,
                committee=config.committee.name,
                now=system_clock(),
                viewer=Viewer(FILE_AUDIENCES[audience]),
            )
    finally:
        await db.close()
    picture = out.with_suffix(".png")
    out.parent.mkdir(parents=True, exist_ok=True)  # private, by the umask
    renderer = Renderer(config.committee.zone)
    await asyncio.to_thread(_write_files, renderer, data, out, picture)
    print(f"wrote {out} and {picture} ({data['label']})")
    return 0


def _write_files(renderer, data: dict, out: Path, picture: Path) -> None:
    from bot.files import render_file

    out.write_bytes(render_file(renderer, "digest-html", data))
    picture.write_bytes(render_file(renderer, "digest-png", data))
