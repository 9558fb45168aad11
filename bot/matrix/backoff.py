"""Retry pacing: exponential backoff with jitter, and the homeserver's own Retry-After."""

from __future__ import annotations

import random
from typing import Any

import aiohttp

# While the homeserver fails, at most about one request a second; once it is back, the
# longest wait before the next try is CAP * 1.3 (about 8 s).
# What a request to the homeserver raises when the network, not the homeserver, failed.
NETWORK_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)
BASE, CAP, JITTER = 1.0, 6.0, 0.3


class Backoff:
    def __init__(self, base: float = BASE, cap: float = CAP) -> None:
        self.base, self.cap = base, cap
        self.failures = 0

    def next_delay(self) -> float:
        """Seconds to wait after one more failure: never under `base`."""
        delay = min(self.cap, self.base * 2**self.failures)
        self.failures += 1
        return delay * random.uniform(1.0, 1.0 + JITTER)

    def reset(self) -> None:
        self.failures = 0


def retry_after(response: Any) -> float | None:
    """Seconds the homeserver asks us to wait (429), from the body or the Retry-After header."""
    status = getattr(response, "status_code", None)
    transport = getattr(response, "transport_response", None)
    http_status = getattr(transport, "status", None)
    if status not in ("M_LIMIT_EXCEEDED", 429) and http_status != 429:
        return None
    ms = getattr(response, "retry_after_ms", None)
    if ms:
        return max(ms / 1000, 0.05)
    header = transport.headers.get("Retry-After") if transport is not None else None
    if header:
        try:
            return max(float(header), 0.05)
        except ValueError:
            pass
    return 1.0


def is_transient(response: Any) -> bool:
    """True for errors worth retrying: 429, 5xx and gateway errors, timeouts."""
    transport = getattr(response, "transport_response", None)
    http_status = getattr(transport, "status", None) or 0
    return http_status == 429 or http_status >= 500 or http_status == 0
