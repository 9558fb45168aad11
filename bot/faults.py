"""Named crash points for the fault tests: `RCC_CRASH_AT=after-commit` kills the process
with SIGKILL the first time that point is reached (`after-commit:3` on the third time). A job's
points may name the job: `after-job-commit@broadcast:2` is the second run of that job only.
`after-send:5!stop` stops the process there instead (SIGSTOP), as a frozen host would be.

Read once in `main`; with the variable unset every `hit` is a dictionary lookup and nothing else.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "before-commit",  # a command's unit, before it commits
    "after-commit",  # a command committed, its replies not handed to the sender yet
    "after-send",  # a message sent, its delivery not recorded yet
    "before-job-commit",  # a job's unit, before it commits
    "after-job-commit",  # a job committed, its messages not handed to the sender yet
)


class CrashPoints:
    def __init__(self, spec: str | None = None) -> None:
        self._armed: dict[str, int] = {}
        self._signal: dict[str, signal.Signals] = {}
        for part in (spec or "").split(","):
            name, _, count = part.strip().partition(":")
            count, _, how = count.partition("!")
            if name:
                if name.partition("@")[0] not in POINTS:
                    raise ValueError(f"unknown crash point {name!r}; known: {', '.join(POINTS)}")
                self._armed[name] = int(count or 1)
                self._signal[name] = signal.SIGSTOP if how == "stop" else signal.SIGKILL

    def hit(self, name: str, job: str | None = None) -> None:
        if job is not None and self._armed:
            self.hit(f"{name}@{job}")
        left = self._armed.get(name)
        if left is None:
            return
        if left <= 1:
            del self._armed[name]  # once: a stopped process may be let go on
            os.kill(os.getpid(), self._signal[name])
            return
        self._armed[name] = left - 1
