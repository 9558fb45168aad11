"""`make i18n-check`: every message in the code, the templates, the catalogue and the
commands' help has an entry in every language's catalogue, and every translation has the
English message's placeholders; a message taken out of the code is reported too. A message
not translated yet is shown in English: the check counts those, it does not fail on them.

    python -m devkit.i18n_check            # fails (exit 1) on any problem
    python -m devkit.i18n_check --report   # per language: how many are translated
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "commands" / "locale"
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*(?:![rsa])?(?::[^}]*)?\}|%\([a-z_][a-z0-9_]*\)[sd]")


def extract(pot: Path) -> None:
    """What `make i18n` extracts, into `pot`."""
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "--add-location=file", "--sort-by-file", "--no-wrap", "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip


def _key(message) -> tuple[str | None, str]:  # type: ignore[no-untyped-def]
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    return message.context, msgid


def _strings(message) -> list[str]:  # type: ignore[no-untyped-def]
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def placeholders(text: str) -> set[str]:
    return {re.sub(r"[!:].*", "", p.strip("{}")) for p in PLACEHOLDER.findall(text)}


def check(pot: Path) -> list[str]:
    with pot.open("rb") as f:
        template = read_po(f)
    wanted = {_key(m): m for m in template if m.id}
    problems: list[str] = []
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/messages.po")):
        lang = po.parent.parent.name
        with po.open("rb") as f:
            catalog = read_po(f)
        have = {_key(m): m for m in catalog if m.id}
        for key in wanted.keys() - have.keys():
            problems.append(
                f"{lang}: no entry for {key[1]!r}" + (f" ({key[0]})" if key[0] else "")
            )
        for key, m in have.items():
            if key not in wanted:
                problems.append(f"{lang}: {key[1]!r} is no longer in the code (make i18n)")
                continue
            strings = _strings(m)
            if m.fuzzy or not all(strings):
                continue  # shown in English until translated (counted by --report)
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            expected = set().union(*(placeholders(i) for i in ids))
            for s in strings:
                found = placeholders(s)
                if found - expected or (found != expected and len(ids) == 1):
                    problems.append(
                        f"{lang}: {key[1]!r} has {sorted(found)}, not {sorted(expected)}"
                    )
    return problems


def report(pot: Path) -> None:
    with pot.open("rb") as f:
        total = sum(1 for m in read_po(f) if m.id)
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as f:
            done = sum(1 for m in read_po(f) if m.id and not m.fuzzy and all(_strings(m)))
        print(f"{po.parent.parent.name}: {done}/{total} translated")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        extract(pot)
        if "--report" in sys.argv:
            report(pot)
            return 0
        problems = check(pot)
        report(pot)
    for p in problems:
        print(p)
    print(
        f"i18n-check: {len(problems)} problem(s)"
        if problems
        else "i18n-check: every message has an entry in every catalogue"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
