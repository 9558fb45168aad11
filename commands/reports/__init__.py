"""Reports for each audience of the Action Plan (section 8), in one folder: the profiles and
`!report`, `!feedback`, `!input csm` and the `rcc-bot report` verb (`profiles`); the cycles
that draft them on schedule for the chair and deliver them to a room or by email, with the
`[reports]` config section (`cycles`); and their templates (`templates/reports/`)."""

from __future__ import annotations

from commands.reports import cycles, profiles

routers = (profiles.router, cycles.router)
