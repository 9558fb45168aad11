"""Drop the test databases named on stdin, one per line, on the server RCC_TEST_DATABASE_URL
names: run detached by the test session's end (tests/conftest.py), so that the suite does not
wait for it. Each DROP DATABASE forces a checkpoint; hundreds of them took up to two minutes
at the end of each worker."""

from __future__ import annotations

import asyncio
import os
import sys


async def drop(names: list[str]) -> None:
    import asyncpg

    url = os.environ["RCC_TEST_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    try:
        for name in names:
            if name.isidentifier():  # the suite's own names (t_..., rcc_template_...)
                await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


if __name__ == "__main__":
    asyncio.run(drop([line.strip() for line in sys.stdin if line.strip()]))
