"""Command families. `all_routers()` is the one place they are gathered."""

from __future__ import annotations

from commands.framework import Router


def all_routers() -> list[Router]:
    """Every command family, in the order `!help` lists them, and every job's."""
    from commands import (
        broadcast,
        calendars,
        contacts,
        deadlines,
        digest,
        failures,
        gaps,
        help,
        incidents,
        languages,
        lessons,
        meetings,
        motions,
        notices,
        projects,
        reminders,
        reports,
        requests,
        resources,
        roster,
        status,
    )

    return [
        help.router,
        status.router,
        gaps.router,
        *motions.routers,
        *projects.routers,
        *meetings.routers,
        calendars.router,
        *reports.routers,
        *incidents.routers,
        lessons.router,
        resources.router,
        requests.router,  # before broadcast: a reply 'ack' to a request's ask is the request's
        deadlines.router,
        *digest.routers,
        *broadcast.routers,
        roster.router,
        contacts.router,
        languages.router,
        # Families of jobs only.
        reminders.router,
        failures.router,
        notices.router,
    ]
