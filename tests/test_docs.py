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
