"""The catalogue in force: version 1 seeded from the file, the next ones made by motions.

The bot holds the version in force in memory (`env.reference.catalogue`, what commands parse
item IDs against); a new version replaces it once the unit that wrote it commits.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime

from commands.reference import Catalogue, Item, Reference
from storage.motions import Motion
from storage.stores import Stores

log = logging.getLogger(__name__)


async def in_force(
    store: Stores, seed: Catalogue, now: datetime, *, read_only: bool = False
) -> Catalogue:
    """The version in force; at the first start, the seed (the file) becomes version 1
    (`read_only`: it is used as it is, nothing stored)."""
    row = await store.catalogue.in_force()
    if row is None and read_only:
        return seed
    if row is None:
        row = await store.catalogue.add(seed.to_data(), now=now, note="seeded from the file")
        log.info("catalogue version 1 seeded: %d items", len(seed.items))
    catalogue = Catalogue.from_data(json.loads(row.data), row.version, f"version {row.version}")
    if row.version == 1 and catalogue.to_data() != seed.to_data():
        log.warning(
            "the catalogue file differs from version 1 in the database; the database is kept "
            "(the catalogue changes by motion and vote)"
        )
    return catalogue


def changed(catalogue: Catalogue, motion: Motion) -> Catalogue:
    """The catalogue an adopted motion makes (the next version's content)."""
    items = list(catalogue.items)
    found = next((n for n, i in enumerate(items) if i.id == motion.target), None)
    target = motion.due
    if motion.kind == "retire":
        if found is None:
            raise ValueError(f"{motion.target} is not in the catalogue")
        items[found] = replace(items[found], status="retired")
    elif found is not None and motion.part != "standard":  # its need, solutions or partners
        items[found] = amended(items[found], motion.part, motion.text)
        if target:
            items[found] = replace(items[found], target=target)
    elif found is not None:  # propose or amend an item in the catalogue: its standard
        standard = motion.text or items[found].standard
        items[found] = replace(
            items[found], standard=standard, status="adopted", target=target or items[found].target
        )
    else:  # a new item: `<area>.<name>`, the text `Name: standard`
        area = motion.target.split(".", 1)[0]
        name, _sep, standard = motion.text.partition(":")
        if not standard.strip():
            name, standard = motion.target.split(".", 1)[1].replace("-", " ").capitalize(), name
        after = max((n for n, i in enumerate(items) if i.area == area), default=len(items) - 1)
        items.insert(
            after + 1,
            Item(
                motion.target, area, name.strip(), standard=standard.strip(),
                source=f"MO-{motion.number}", status="adopted", target=target,
            ),
        )  # fmt: skip
    return Catalogue(catalogue.areas, tuple(items), catalogue.version + 1)


PARTS = ("standard", "need", "solutions", "partners")  # what an amendment may change


def listed(text: str) -> tuple[str, ...]:
    """Solutions or partners as a motion gives them: separated by semicolons."""
    return tuple(p.strip() for p in text.split(";") if p.strip())


def amended(item: Item, part: str, text: str) -> Item:
    """An item with its need, solutions or partners replaced (the plan: "not a conclusive
    list"); its standard and status stay as they are."""
    if part == "need":
        return replace(item, need=text.strip())
    if part == "solutions":
        return replace(item, solution=listed(text))
    if part == "partners":
        return replace(item, partners=listed(text))
    raise ValueError(f"{part} is not a part of an item")


def install(reference: Reference, catalogue: Catalogue) -> None:
    """Put a version in force in memory (after its unit committed)."""
    if catalogue.version > reference.catalogue.version:
        reference.catalogue = catalogue
        log.info("catalogue version %d in force", catalogue.version)
