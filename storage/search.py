"""Full-text search over one table: FTS5 on SQLite, tsvector with a GIN index on PostgreSQL.

Both use English stemming, so "phishing" finds "phished". The PostgreSQL expression must stay
the one the index in migration 0004 was built on, or the index is not used.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from storage.visibility import InFull

WORD = re.compile(r"\w+", re.UNICODE)


_FTS = MetaData()


def table_fts(table: str) -> Table:
    """The FTS5 shadow table of one table (SQLite), for joining on its rowid."""
    name = f"{table}_fts"
    if name not in _FTS.tables:
        Table(name, _FTS, Column("rowid", Integer, primary_key=True))
    return _FTS.tables[name]


def words_of(query: str) -> list[str]:
    return WORD.findall(query)[:20]


async def search(
    session: AsyncSession,
    model: Any,
    columns: tuple[str, ...],
    query: str,
    in_full: InFull,
    *,
    limit: int,
) -> list[Any]:
    """Rows of `model` the reader sees in full matching every word of `query`, best first.

    What the reader may not see is left out inside the query, before ranking and the limit:
    a withheld row never takes a place among the results, nor tells that it matched.
    """
    words = words_of(query)
    if not words:
        return []
    table = model.__tablename__
    # A withdrawn record is found by nobody.
    live = model.withdrawn_at.is_(None) if hasattr(model, "withdrawn_at") else true()
    if session.get_bind().dialect.name == "sqlite":
        match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        fts = table_fts(table)
        ranked = (
            select(model)
            .join(fts, fts.c.rowid == model.id)
            .where(text(f"{table}_fts MATCH :q"), in_full.clause(model), live)
            .order_by(text(f"{table}_fts.rank"))
            .limit(limit)
            .params(q=match)
        )
        return list(await session.scalars(ranked))
    document = " || ' ' || ".join(f"coalesce({c}, '')" for c in columns)
    vector = f"to_tsvector('english', {document})"
    tsquery = "plainto_tsquery('english', :q)"
    statement = (
        select(model)
        .where(text(f"{vector} @@ {tsquery}"), in_full.clause(model), live)
        .order_by(text(f"ts_rank({vector}, {tsquery}) DESC"))
        .limit(limit)
        .params(q=" ".join(words))
    )
    return list(await session.scalars(statement))
