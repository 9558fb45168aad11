"""Command families. `all_routers()` is the one place they are gathered."""

from __future__ import annotations

from commands.framework import Router


def all_routers() -> list[Router]:
    """Every command family, in the order `!help` lists them."""
    from commands import (
        broadcast,
        deadlines,
        digest,
        gaps,
        help,
        incidents,
        lessons,
        resources,
        roster,
        status,
    )

    return [
        help.router,
        status.router,
        gaps.router,
        incidents.router,
        lessons.router,
        resources.router,
        deadlines.router,
        digest.router,
        broadcast.router,
        roster.router,
    ]
