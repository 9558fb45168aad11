"""One figure from the latest results: docs/benchmarks.png, shown in the README.

.venv/bin/python -m bench.plot
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt

from bench.common import RESULTS

OUT = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.png"
BOT, FLOOR = "#1f5f8b", "#b0b0b0"


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def pair(ax, labels, bot, floor, *, unit: str, floor_name: str, title: str) -> None:
    """Side-by-side bars: the bot next to its floor, with the ratio above each pair."""
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], floor, 0.4, color=FLOOR, label=floor_name)
    ax.bar([x + 0.2 for x in xs], bot, 0.4, color=BOT, label="rcc-bot")
    for x, b, f in zip(xs, bot, floor, strict=True):
        ax.annotate(f"{b / f:.2f}x", (x + 0.2, b), ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, max([*bot, *floor]) * 1.3)  # room for the legend above the bars
    ax.set_xticks(list(xs), labels, fontsize=8)
    ax.set_ylabel(unit)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left")


def main() -> None:
    fig, axes = plt.subplots(2, 3, figsize=(13, 7))
    rt, rush, fan, digest = load("roundtrip"), load("rush"), load("broadcast"), load("digest")
    ax = axes[0][0]
    if rt:
        names = list(rt["round_trips"])
        labels = [f"{n}\nmedian" for n in names] + [f"{n}\np95" for n in names]
        trips = [rt["round_trips"][n] for n in names]
        bot = [t["bot"]["median_ms"] for t in trips] + [t["bot"]["p95_ms"] for t in trips]
        echo = [t["echo"]["median_ms"] for t in trips] + [t["echo"]["p95_ms"] for t in trips]
        pair(
            ax,
            labels,
            bot,
            echo,
            unit="ms",
            floor_name="nio echo bot",
            title=f"Command round trip ({rt['n']} sequential each)",
        )
    ax = axes[0][1]
    if rush:
        r = rush["results"]
        pair(
            ax,
            [f"{rush['ncpocs']} NCPOCs within 1 s"],
            [r["bot"]["seconds"]],
            [r["echo"]["seconds"]],
            unit="s, first send to last reply",
            floor_name="nio echo bot",
            title="Deadline rush",
        )
    ax = axes[0][2]
    if fan:
        rows = fan["results"]
        pair(
            ax,
            [f"{r['recipients']} recipients" for r in rows],
            [r["bot_s"] for r in rows],
            [r["floor_s"] for r in rows],
            unit="s, command to last DM",
            floor_name="bare nio send script",
            title="Emergency broadcast fan-out",
        )
    ax = axes[1][0]
    if digest:
        rows = digest["results"]
        scales = [r["scale"] for r in rows]
        ax.plot(scales, [r["median_s"] * 1000 for r in rows], "o-", color=BOT, label="median")
        ax.fill_between(
            scales,
            [r["min_s"] * 1000 for r in rows],
            [r["max_s"] * 1000 for r in rows],
            color=BOT,
            alpha=0.15,
            label="min-max",
        )
        ax.set_xscale("log", base=2)
        ax.set_xticks(scales, [f"{s}x" for s in scales])
        ax.set_ylim(bottom=0)
        ax.set_xlabel("ten-year history (1x = 50k status updates, 20k incidents)", fontsize=8)
        ax.set_ylabel("ms")
        ax.set_title("Digest compile time", fontsize=10)
        ax.legend(fontsize=7)
    if rt:
        pair(
            axes[1][1],
            ["idle", "after the runs"],
            [rt["memory_idle"]["bot_mb"], rt["memory_after"]["bot_mb"]],
            [rt["memory_idle"]["echo_mb"], rt["memory_after"]["echo_mb"]],
            unit="MB RSS",
            floor_name="nio echo bot",
            title="Memory",
        )
        pair(
            axes[1][2],
            ["start to first reply"],
            [rt["cold_start"]["bot_s"]],
            [rt["cold_start"]["echo_s"]],
            unit="s",
            floor_name="nio echo bot",
            title="Cold start (existing store and database)",
        )
    where = next((r["machine"] for r in (rt, rush, fan, digest) if r), {})
    fig.suptitle(
        f"rcc-bot against its floor on one Synapse - {where.get('cpu', '?')}, "
        f"{where.get('cores', '?')} cores, Python {where.get('python', '?')}, "
        f"{where.get('when', '')[:10]}",
        fontsize=11,
    )
    fig.tight_layout()
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT, dpi=90)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
