"""The Steering Committee's digest, in one folder: the commands (`!digest`, `!digest
approve|hold|omit`), the draft's reminder and the schedule's jobs, the `[digest]` config
section and the `rcc-bot digest` verb (`compose`), the builder of its data (`data`), and its
templates (`templates/digest/`). `commands.all_routers` registers it in one line."""

from __future__ import annotations

from commands.digest import compose

routers = (compose.router,)
