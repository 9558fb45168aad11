"""The documentation says what the code does: the README stays short, every test it cites
exists, and every command a guide teaches is one the bot knows, in each of the four languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from commands import all_routers

ROOT = Path(__file__).resolve().parent.parent
GUIDES = ROOT / "docs" / "guides"
ROLES = ("ncpoc", "chair", "steering", "contact")
LANGUAGES = ("", ".fr", ".nl", ".es")


def known_commands() -> set[str]:
    names: set[str] = set()
    for router in all_routers():
        for command in router.commands:
            names.add(command.name)
            names.update(command.aliases)
    return names


def test_the_readme_is_for_its_readers():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; the detail goes to docs/"


@pytest.mark.parametrize("doc", ["README.md", "docs/security.md", "docs/operations.md"])
def test_every_test_the_documentation_cites_exists(doc):
    text = (ROOT / doc).read_text()
    files = set(re.findall(r"\b(test_[a-z0-9_]+\.py)", text))
    assert files, doc
    for name in files:
        assert (ROOT / "tests" / name).exists(), f"{doc} cites tests/{name}, which is gone"
    for name, test in re.findall(r"\b(test_[a-z0-9_]+\.py)::(test_[a-z0-9_]+)", text):
        assert f"def {test}(" in (ROOT / "tests" / name).read_text(), f"{doc}: {name}::{test}"


def test_every_link_between_documents_leads_somewhere():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.relative_to(ROOT)} links to {target}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_its_guide_in_the_four_languages(role):
    for lang in LANGUAGES:
        assert (GUIDES / f"{role}{lang}.md").exists(), f"docs/guides/{role}{lang}.md"


@pytest.mark.parametrize("guide", sorted(GUIDES.glob("*.md")), ids=lambda p: p.name)
def test_every_command_a_guide_teaches_is_one_the_bot_knows(guide):
    known = known_commands()
    families = {name.split()[0] for name in known}
    taught = re.findall(r"`!([a-z-]+)(?: ([a-z-]+))?", guide.read_text())
    for word, sub in taught:
        assert f"{word} {sub}" in known or word in known or (word in families and not sub), (
            f"{guide.name} teaches !{word} {sub}".strip()
        )


MENTION = re.compile(r"!([a-z][a-z-]*)((?: [a-z]+(?:\|[a-z]+)*)?)")


def readme_commands() -> tuple[set[str], set[str]]:
    """The commands the README's "Commands by role" names (`!lesson add|list` is two), and
    the words written as commands that are none."""
    text = (ROOT / "README.md").read_text().replace("\\|", "|")
    section = text.split("## Commands by role", 1)[1].split("\n## ", 1)[0]
    registered = {c.name for router in all_routers() for c in router.commands}
    named, strangers = set(), set()
    for family, following in MENTION.findall(section):
        subs = (
            [f"{family} {word}" for word in following.split()[0].split("|")] if following else []
        )
        found = {s for s in subs if s in registered}
        if found:
            named |= found
        elif family in registered:
            named.add(family)
        else:
            strangers.add(f"!{family}{following}")
    return named, strangers


def test_the_readmes_commands_by_role_are_every_command_and_nothing_else():
    named, strangers = readme_commands()
    registered = {c.name for router in all_routers() for c in router.commands}
    assert not strangers, f"not commands: {sorted(strangers)}"
    assert not registered - named, f"missing from the README: {sorted(registered - named)}"
