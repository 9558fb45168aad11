"""Files the bot attaches, rendered from data at send time: the digest report and heatmap.

matplotlib is imported here only, when a heatmap is drawn (in a worker thread): it is heavy,
and nothing on the command path needs it.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from bot.rendering import Renderer

STATES = ("unreported", "not-started", "in-progress", "met", "n/a")
COLOURS = ("#e0e0e0", "#d9534f", "#f0ad4e", "#5cb85c", "#9fb6cd")
LABELS = ("not reported", "not started", "in progress", "met", "n/a")


def render_file(renderer: Renderer, name: str, data: dict[str, Any]) -> bytes:
    if name == "digest-html":
        return renderer.document("digest/report", data).encode("utf-8")
    if name == "digest-png":
        return heatmap(data)
    raise ValueError(f"no file renderer named {name!r}")


def heatmap(data: dict[str, Any]) -> bytes:
    """The countries x items status matrix as a PNG picture."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    matrix = data["matrix"]
    rows, items = matrix["rows"], matrix["items"]
    grid = [[STATES.index(cell) for cell in row["cells"]] for row in rows]
    figure = Figure(figsize=(max(8, 0.32 * len(items) + 3), max(4, 0.3 * len(rows) + 3)), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.imshow(grid, cmap=ListedColormap(COLOURS), vmin=0, vmax=len(STATES) - 1, aspect="auto")
    short = [item.split(".", 1)[-1] for item in items]  # the area is written above
    axes.set_xticks(range(len(items)), labels=short, rotation=90, fontsize=7)
    axes.set_yticks(
        range(len(rows)),
        labels=[f"{r['code']}  {r['met']}/{r['applicable']}" for r in rows],
        fontsize=8,
    )
    edge = -0.5
    for area in matrix["areas"]:
        axes.text(edge + area["size"] / 2, -0.9, area["id"], ha="center", fontsize=8)
        edge += area["size"]
        axes.axvline(edge, color="white", linewidth=2)
    axes.set_title(
        f"{data['committee']} — status against the minimum standards\n"
        f"{data['period']['label']} · {data['label']}",
        fontsize=10,
        pad=24,
    )
    axes.legend(
        handles=[Patch(color=c, label=lab) for c, lab in zip(COLOURS, LABELS, strict=True)],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.28),
        ncol=5,
        fontsize=8,
        frameon=False,
    )
    buffer = BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
