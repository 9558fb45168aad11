"""Motions and votes on the catalogue, in one folder: the commands (`!motion propose|amend|
retire|second`, `!vote`, `!motions`, `!decisions`), the job that closes motions and reminds
countries yet to vote, the `[motions]` config section (`votes`), and the templates
(`templates/motions/`). `commands.all_routers` registers it in one line."""

from __future__ import annotations

from commands.motions import votes

routers = (votes.router,)
