"""Short lists kept in one column as `,a,b,`, so `LIKE '%,a,%'` finds an exact member."""

from __future__ import annotations

from collections.abc import Iterable


def pack(values: Iterable[str]) -> str:
    return "," + "".join(f"{v}," for v in values if v)


def unpack(packed: str | None) -> list[str]:
    return [v for v in (packed or "").split(",") if v]


def member(value: str) -> str:
    """The LIKE pattern matching rows whose list holds `value`."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%,{escaped},%"
