"""The shipped catalogue (version 1) says what the Action Plan says, item by item.

Reads the plan from `../shared/seed/` (beside the checkout, as the project keeps it); where the
folder is absent, the test is skipped and says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from commands.reference import load_catalogue

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "caricom-cyber-action-plan.txt"
pytestmark = pytest.mark.skipif(
    not SEED.exists(), reason=f"the Action Plan's text is not at {SEED} (../shared/seed/)"
)


def _plain(text: str) -> str:
    """The words only: no markup, bullets or line breaks, case folded."""
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"[●•○*]", " ", text)
    return " ".join(text.split()).casefold()


def _words(text: str) -> str:
    """Plain words without the commas that separate a list's entries."""
    return " ".join(_plain(text).replace(",", " ").split())


def _plan() -> str:
    return SEED.read_text("utf-8")


def _section_5() -> dict[str, str]:
    """Specific area → minimum standard, from the table of section 5."""
    block = _plan().split("For example:", 1)[1].split("6. Update and Status Review", 1)[0]
    rows = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.split("\t") if c.strip()]
        if len(cells) >= 2 and cells[-2] != "Specific Areas":
            rows[_plain(cells[-2])] = _plain(cells[-1])
    return rows


def _table_rows(number: int) -> dict[int, tuple[str, str, str]]:
    """Row number → (needs, solution, partners): each column's whole text, its continuation
    lines after a page break included."""
    text = _plan()
    block = text[re.search(rf"Table {number} [–-]", text).start() :]  # type: ignore[union-attr]
    end = re.search(r"\n(7\.\d\.|8\. Monitoring)", block)
    block = block[: end.start()] if end else block
    rows: dict[int, list[str]] = {}
    current = None
    for line in block.splitlines()[2:]:
        cells = line.split("\t")
        if re.fullmatch(r"\d", cells[0].strip()):
            current = int(cells[0])
            rows[current] = ["", "", ""]
        if current is None or len(cells) < 2:
            continue
        for column, cell in enumerate(cells[1:4]):
            if not re.fullmatch(r"\s*-*\s*", cell):  # a row rule of the converted document
                rows[current][column] += " " + cell
    return {k: (_plain(a), _plain(b), _plain(c)) for k, (a, b, c) in rows.items()}


def _areas() -> list[str]:
    block = _plan().split("The priority areas are:", 1)[1].split("The following", 1)[0]
    return [_plain(re.sub(r"^\d\.\s*", "", line)).rstrip(";.") for line in block.splitlines()
            if re.match(r"^\d\.", line.strip())]  # fmt: skip


def test_the_areas_are_the_plans_five_priority_areas_in_order():
    areas = _areas()
    catalogue = load_catalogue()
    assert len(catalogue.areas) == len(areas) == 5
    for area, seed in zip(catalogue.areas, areas, strict=True):
        assert _plain(area.name) in seed, (area.id, seed)


def test_every_section_5_example_is_an_illustrative_item_in_its_words():
    examples = _section_5()
    assert len(examples) == 9
    catalogue = load_catalogue()
    found = {_plain(i.name): i for i in catalogue.items if "section 5" in i.source}
    assert set(found) == set(examples)
    for name, standard in examples.items():
        item = found[name]
        assert _plain(item.standard) == standard, item.id
        assert item.status == "illustrative" and item.scope == "national"


@pytest.mark.parametrize("table", [1, 2, 3, 4, 5])
def test_every_need_of_a_table_is_an_item_with_its_solution_and_partners(table):
    rows = _table_rows(table)
    catalogue = load_catalogue()
    items = {i.table_ref: i for i in catalogue.items if i.table_ref and i.table_ref[0] == table}
    assert sorted(items) == [(table, n) for n in sorted(rows)], "one item per row"
    for (_, number), item in items.items():
        needs, solutions, partners = rows[number]
        assert _plain(item.need) == needs, (item.id, "need")
        assert _plain(item.name) in _plain(item.need), (item.id, "name from the need's words")
        assert item.solution, item.id
        for solution in item.solution:
            assert _plain(solution) in solutions, (item.id, solution)
        for partner in item.partners:
            assert _plain(partner) in partners, (item.id, partner)
        # Nothing dropped: the column is the item's solutions and partners, in order.
        assert _words(" ".join(item.solution)) == _words(solutions), (item.id, "solution")
        assert _words(" ".join(item.partners)) == _words(partners), (item.id, "partners")
        assert not item.standard or "section 5" in item.source, (
            item.id,
            "a table gives needs, never standards",
        )
        assert item.status == "illustrative"


def test_the_partners_column_is_kept_whole():
    """Every partner the plan names in a row is on the item (the table's last column)."""
    catalogue = load_catalogue()
    named = {p for i in catalogue.items for p in i.partners}
    for partner in ("Canada Dept of Justice", "CDEMA", "EU/EEAS", "Telecommunication Regulators"):
        assert partner in named


def test_regional_deliverables_are_tracked_once_for_the_region():
    catalogue = load_catalogue()
    regional = {i.id for i in catalogue.items if i.scope == "regional"}
    assert regional == {"coop.forensic-pool", "coop.intelligence", "coop.capacity-centre"}
    assert not regional & {i.id for i in catalogue.scored}
    cert = catalogue.item("coop.cert")
    assert any("regional hub" in s for s in cert.solution)
