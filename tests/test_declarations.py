"""What the routers declare is what the code does: every example parses to its own command,
declared parameters are the handler's, jobs and listeners have the shape the framework calls,
and the layers import only downwards."""

from __future__ import annotations

import ast
import inspect
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from commands import all_routers
from commands.framework import ParseEnv
from commands.parsing import Registry, find
from commands.reference import load_reference

ROOT = Path(__file__).resolve().parents[1]
ROUTERS = all_routers()
REGISTRY = Registry(ROUTERS)
ENV = ParseEnv(load_reference(), ZoneInfo("America/Port_of_Spain"), lambda: datetime.now(UTC))


@pytest.mark.parametrize("command", REGISTRY.commands, ids=lambda c: c.name)
def test_the_example_parses_to_its_own_command(command):
    found = find(command.example, REGISTRY, "!")
    assert found is not None and found.command is command, command.example
    found.bind(ENV)  # every argument of the example reads


@pytest.mark.parametrize("command", REGISTRY.commands, ids=lambda c: c.name)
def test_declared_parameters_are_the_handlers(command):
    handler = list(inspect.signature(command.handler).parameters)
    declared = [p.name for p in command.params]
    assert handler[0] == "ctx"
    assert sorted(handler[1:]) == sorted(declared), command.name


@pytest.mark.parametrize("job", [j for r in ROUTERS for j in r.jobs], ids=lambda j: j.name)
def test_jobs_take_a_context_and_a_key(job):
    first, key = list(inspect.signature(job.handler).parameters)[:2]
    assert first == "job" and key.endswith(("_id", "key")), job.name
    assert inspect.iscoroutinefunction(job.pending)
    assert len({j.name for r in ROUTERS for j in r.jobs}) == sum(len(r.jobs) for r in ROUTERS)


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def modules(package: str):
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("storage", ("commands", "bot", "devkit", "nio")),
        ("commands", ("bot", "devkit", "nio")),
        ("bot", ("devkit",)),
    ],
)
def test_layers_import_only_downwards(package, forbidden):
    for path in modules(package):
        if path.name == "cli.py":
            continue  # `rcc-bot demo` imports devkit when asked to, and says so if missing
        bad = {m for m in imports(path) if m.split(".")[0] in forbidden}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_the_matrix_layer_knows_no_domain():
    """It hands over neutral inputs and sends what it is given: only the framework's types."""
    for path in modules("bot/matrix"):
        domain = {m for m in imports(path) if m.startswith("commands.")}
        assert domain <= {"commands.framework", "commands.values"}, path.name


# What the Matrix side may use of the rest of `bot`: its own ports, and plumbing that knows
# nothing of storage or of the committee.
PLUMBING = {"bot.config", "bot.faults", "bot.logs", "bot.metrics", "bot.rendering"}


def test_the_matrix_layer_is_a_gateway():
    """It reads no storage (no roster, no audit log, no notices): what it keeps and what it
    reports goes through `bot/matrix/ports.py`, which the core implements. Nor does it reach
    into the core (the dispatcher, the jobs, the outbox writer)."""
    for path in modules("bot/matrix"):
        found = imports(path)
        assert not {m for m in found if m.split(".")[0] == "storage"}, path.name
        core = {m for m in found if m.startswith("bot.") and not m.startswith("bot.matrix")}
        assert core <= PLUMBING, f"{path.name} imports {sorted(core - PLUMBING)}"


def families() -> set[str]:
    """The modules of `commands` that declare a router: the families."""
    found = set()
    for path in modules("commands"):
        if re.search(r"^router = Router\(", path.read_text(), re.M):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found.add(".".join(parts))
            if len(parts) > 2:  # a family in its own folder: the package names it too
                found.add(".".join(parts[:2]))
    return found


def named_modules(path: Path) -> set[str]:
    """The modules a file imports, `from commands import x` counted as `commands.x`."""
    found = set(imports(path))
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "commands":
            found.update(f"commands.{alias.name}" for alias in node.names)
    return found


def test_the_core_names_no_family():
    """bot/ finds the families' commands, jobs, config sections, files, verbs and start-up
    work through their routers (`commands.all_routers`), so a new family touches no file of
    the core."""
    known = families()
    assert {"commands.status", "commands.broadcast", "commands.broadcast.send"} <= known
    for path in modules("bot"):
        named = named_modules(path) & known
        assert not named, f"{path.relative_to(ROOT)} names the families {sorted(named)}"


@pytest.mark.parametrize("package", ["bot", "commands", "storage"])
def test_no_function_in_production_is_over_fifty_lines(package):
    """A function that does one thing reads in one screen; longer ones were split into
    named steps (migrations, which are generated, aside)."""
    long = []
    for path in modules(package):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > 50:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({size})")
    assert not long, long
