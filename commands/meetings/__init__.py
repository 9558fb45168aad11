"""Meetings, minutes and actions, in one folder: the commands (`!meeting add`, `!meetings`,
`!minutes start|stop`, `!agreed`, `!action`, `!info`, `!actions`, `!action done`), the
agenda, reminder and action follow-up jobs and the `[meetings]` config section (`minutes`),
and the templates (`templates/meetings/`). `commands.all_routers` registers it in one line."""

from __future__ import annotations

from commands.meetings import minutes

routers = (minutes.router,)
