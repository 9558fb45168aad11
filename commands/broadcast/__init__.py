"""Emergency broadcasts, in one folder: the commands (`!broadcast`, `!drill`, `!ack`,
`!relayed`, `!broadcast status`) and acknowledgement listeners (`send`), the delivery job
with its escalation chain, email fallback and relay chase (`deliver`, `escalation`), the
roll-call and drill report (`rollcall`), what counts as an acknowledgement in the region's
languages (`acks`), the `[broadcast]` config section (`send.BroadcastConfig`) and the
templates (`templates/broadcast/`). `commands.all_routers` registers it in one line."""

from __future__ import annotations

from commands.broadcast import deliver, live, send

routers = (send.router, deliver.router, live.router)
