"""Which labelled rows a reader sees in full, as a query condition.

The rule itself is the commands layer's (commands.audience); it hands the stores this plain
answer, so that filters, searches and limits only ever run over what the reader may see: a
withheld row can never decide whether something matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, not_, or_
from sqlalchemy.sql.elements import ColumnElement


@dataclass(frozen=True)
class InFull:
    """These labels in full; and RED too, for rows posted in `red_room`."""

    labels: frozenset[str]
    red_room: str | None = None

    def clause(self, model: Any) -> ColumnElement[bool]:
        shown = model.tlp.in_(self.labels) if self.labels else false()
        if self.red_room is not None:
            shown = or_(shown, and_(model.tlp == "red", model.origin_room == self.red_room))
        return shown

    def withheld(self, model: Any) -> ColumnElement[bool]:
        return not_(self.clause(model))
