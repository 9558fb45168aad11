"""Which labelled rows a reader sees in full, as a query condition.

The rule itself is the commands layer's (commands.audience); it hands the stores this plain
answer, so that filters, searches and limits only ever run over what the reader may see: a
withheld row can never decide whether something matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, func, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from storage.lists import member

# TLP 2.0's labels as rows carry them (commands.tlp.LEVELS decides; a test keeps them equal).
LEVELS = ("clear", "green", "amber", "amber+strict", "red")


@dataclass(frozen=True)
class InFull:
    """These labels in full; any row every one of `heard` heard said (RED among them only
    with `heard_red`); and, for rows kept before people were recorded with them, RED posted
    in `red_room`."""

    labels: frozenset[str]
    red_room: str | None = None
    heard: frozenset[str] | None = None
    heard_red: bool = False

    def clause(self, model: Any) -> ColumnElement[bool]:
        # The label as an expression no index serves: what a reader sees is most rows, and a
        # planner that took the label's index (SQLite, without statistics, does) would read
        # and sort all of them instead of walking the listing's order until it has enough.
        tlp = func.coalesce(model.tlp, "")
        shown: ColumnElement[bool] = tlp.in_(self.labels) if self.labels else false()
        if self.heard:
            everyone = and_(
                *(model.said_to.like(member(user), escape="\\") for user in sorted(self.heard))
            )
            if not self.heard_red:
                everyone = and_(everyone, tlp != "red")
            shown = or_(shown, everyone)
        if self.red_room is not None:
            legacy = and_(
                tlp == "red", model.said_to.is_(None), model.origin_room == self.red_room
            )
            shown = or_(shown, legacy)
        return shown

    def withheld(self, model: Any) -> ColumnElement[bool]:
        """Rows the reader does not see in full. Said as the labels they carry first (an
        index on `tlp` then reads only those rows: counting what is withheld must not read
        every row of ten years' history), then what `clause` would have let through."""
        hidden = [level for level in LEVELS if level not in self.labels]
        carried = model.tlp.in_(hidden) if hidden else false()
        return and_(carried, not_(self.clause(model)))
