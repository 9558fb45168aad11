"""Full-text search over one table: FTS5 on SQLite, tsvector with a GIN index on PostgreSQL.

Both use English stemming, so "phishing" finds "phished". The PostgreSQL expression must stay
the one the index in migration 0004 was built on, or the index is not used.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

WORD = re.compile(r"\w+", re.UNICODE)


def words_of(query: str) -> list[str]:
    return WORD.findall(query)[:20]


async def search(
    session: AsyncSession, model: Any, columns: tuple[str, ...], query: str, *, limit: int
) -> list[Any]:
    """Rows of `model` matching every word of `query`, best match first."""
    words = words_of(query)
    if not words:
        return []
    table = model.__tablename__
    if session.get_bind().dialect.name == "sqlite":
        match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        ids = list(
            await session.scalars(
                text(
                    f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH :q ORDER BY rank "
                    "LIMIT :n"
                ),
                {"q": match, "n": limit},
            )
        )
        rows = {r.id: r for r in await session.scalars(select(model).where(model.id.in_(ids)))}
        return [rows[i] for i in ids if i in rows]
    document = " || ' ' || ".join(f"coalesce({c}, '')" for c in columns)
    vector = f"to_tsvector('english', {document})"
    tsquery = "plainto_tsquery('english', :q)"
    statement = (
        select(model)
        .where(text(f"{vector} @@ {tsquery}"))
        .order_by(text(f"ts_rank({vector}, {tsquery}) DESC"))
        .limit(limit)
        .params(q=" ".join(words))
    )
    return list(await session.scalars(statement))
