"""Files the bot attaches, rendered from data at send time: the digest report and heatmap,
and a drill's chart.

matplotlib is imported here only, when a heatmap is drawn (in a worker thread): it is heavy,
and nothing on the command path needs it.
"""

from __future__ import annotations

import textwrap
from io import BytesIO
from typing import Any

from bot.rendering import Renderer

STATES = ("unreported", "not-started", "in-progress", "met", "n/a")
# Okabe-Ito, safe for the common colour-vision deficiencies; the symbol is a second cue.
COLOURS = {
    "unreported": "#e6e6e6",
    "not-started": "#d55e00",
    "in-progress": "#e69f00",
    "met": "#009e73",
    "n/a": "#56b4e9",
}
INK = {s: "#000000" if s in ("unreported", "in-progress", "n/a") else "#ffffff" for s in STATES}
LABELS = {
    "unreported": "not reported",
    "not-started": "not started",
    "in-progress": "in progress",
    "met": "met",
    "n/a": "not applicable",
}
SYMBOLS = {"met": "●", "in-progress": "◐", "not-started": "○", "n/a": "–", "unreported": "·"}


def render_file(renderer: Renderer, name: str, data: dict[str, Any]) -> bytes:
    if name == "digest-html":
        return renderer.document("digest/report", data).encode("utf-8")
    if name == "digest-png":
        return heatmap(data)
    if name == "drill-png":
        return drill_chart(data)
    if name == "gaps-html":
        return renderer.document("reports/gaps", data).encode("utf-8")
    if name == "minutes-html":
        return renderer.document("reports/minutes", data).encode("utf-8")
    if name == "report-html":
        return renderer.document(data["template"], data).encode("utf-8")
    if name == "report-xlsx":
        from commands.reports import to_xlsx

        return to_xlsx(data)
    if name == "report-pdf":
        return pdf(renderer.document(data["template"], data))
    raise ValueError(f"no file renderer named {name!r}")


def pdf(html: str) -> bytes:
    """A report's HTML laid out as a PDF: A4, the committee, the label, the period and the page
    number in the margins of every page (the `@page` rules of its template)."""
    try:
        from weasyprint import HTML
    except ImportError as exc:  # the extra, or Pango under it, is missing
        raise RuntimeError(
            "PDF needs the pdf extra (pip install 'rcc-bot[pdf]') and Pango from the system"
        ) from exc
    return HTML(string=html).write_pdf()


def heatmap(data: dict[str, Any]) -> bytes:
    """The countries x items status matrix as a PNG picture a minister can read: country
    names, numbered items with their names printed in a key, bordered cells, a colour-blind
    safe palette (Okabe-Ito) with a symbol in every cell as a second cue, countries without
    an NCPOC hatched and said so, and a legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    matrix = data["matrix"]
    rows, items, names = matrix["rows"], matrix["items"], matrix.get("names", matrix["items"])
    labels = [
        f"{r['name']} ({r['code']})  {r['met']}/{r['applicable']}"
        + ("" if r.get("ncpoc", True) else "  · no NCPOC")
        for r in rows
    ]
    left = 0.3 + 0.07 * max((len(label) for label in labels), default=10)  # inches, 8 pt
    width = max(11.0, 0.42 * len(items) + left + 0.4)
    key_lines = (len(items) + 1) // 2
    line = 0.13  # inches per line of the key
    below = line * key_lines + 1.0  # inches under the grid: the legend, then the key
    above = 1.35  # inches over it: the title, the areas' names, the items' numbers
    height = 0.34 * len(rows) + below + above
    figure = Figure(figsize=(width, height), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_axes(
        (left / width, below / height, 1 - (left + 0.3) / width, 1 - (below + above) / height)
    )
    for y, row in enumerate(rows):
        for x, cell in enumerate(row["cells"]):
            staffed = row.get("ncpoc", True)
            colour = COLOURS[cell] if staffed or cell != "unreported" else "#ffffff"
            axes.add_patch(
                Rectangle(
                    (x, y), 1, 1, facecolor=colour, edgecolor="#555555", linewidth=0.6,
                    hatch=None if staffed or cell != "unreported" else "///",
                )
            )  # fmt: skip
            axes.text(
                x + 0.5, y + 0.5, SYMBOLS[cell], ha="center", va="center", fontsize=8,
                color=INK[cell],
            )  # fmt: skip
    axes.set_xlim(0, len(items))
    axes.set_ylim(len(rows), 0)
    axes.set_xticks(
        [x + 0.5 for x in range(len(items))],
        labels=[str(n + 1) for n in range(len(items))],
        fontsize=7,
    )
    axes.xaxis.tick_top()
    axes.set_yticks(
        [y + 0.5 for y in range(len(rows))],
        labels=labels,
        fontsize=8,
    )
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    edge = 0
    for area in matrix["areas"]:
        name = "\n".join(
            textwrap.wrap(area["name"], max(8, int(area["size"] * 4.2)), break_long_words=False)
        )
        axes.text(
            edge + area["size"] / 2, -0.85, name, ha="center", va="bottom",
            fontsize=7.5, fontweight="bold",
        )  # fmt: skip
        edge += area["size"]
        if edge < len(items):
            axes.axvline(edge, color="#000000", linewidth=1.6)
    figure.suptitle(
        f"{data['committee']} — status against the minimum standards · "
        f"{data['period']['label']} · {data['label']}",
        fontsize=11,
        y=1 - 0.12 / height,
        va="top",
    )
    legend = [
        Patch(facecolor=COLOURS[s], edgecolor="#555555", label=f"{SYMBOLS[s]}  {LABELS[s]}")
        for s in STATES
    ]
    legend.append(Patch(facecolor="#ffffff", edgecolor="#555555", hatch="///",
                        label="no NCPOC on the roster"))  # fmt: skip
    figure.legend(
        handles=legend, loc="lower center", ncol=len(legend), fontsize=8, frameon=False,
        bbox_to_anchor=(0.5, (line * key_lines + 0.45) / height),
    )  # fmt: skip
    half = (len(items) + 1) // 2
    for column, start in enumerate((0, half)):
        lines = [f"{n + 1:>2}  {names[n]}" for n in range(start, min(start + half, len(items)))]
        figure.text(
            0.03 + column * 0.49, (line * key_lines + 0.3) / height, "\n".join(lines),
            va="top", fontsize=7, family="DejaVu Sans",
        )  # fmt: skip
    buffer = BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def drill_chart(data: dict[str, Any]) -> bytes:
    """A drill's result as a PNG: minutes to each country's first acknowledgement, green when
    the country also confirmed onward dissemination, orange when not, a hatched grey bar for
    a country that stayed dark; a black tick at the previous drill's time."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    rows = list(reversed(data["drill"]))  # the first country on top
    minutes = [r["seconds"] / 60 for r in rows if r["seconds"] is not None]
    minutes += [r["previous_seconds"] / 60 for r in rows if r.get("previous_seconds") is not None]
    longest = max(minutes, default=1.0) * 1.15 or 1.0
    height = 0.42 * len(rows) + 1.9
    figure = Figure(figsize=(9.0, height), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.27, 1.25 / height, 0.68, 1 - 1.75 / height))
    for y, row in enumerate(rows):
        if row["seconds"] is None:
            axes.add_patch(
                Rectangle((0, y - 0.35), longest, 0.7, facecolor="#e6e6e6", edgecolor="#555555",
                          hatch="///", linewidth=0.6)
            )  # fmt: skip
            axes.text(
                longest * 0.02,
                y,
                "dark: no acknowledgement",
                va="center",
                fontsize=8,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
            )
        else:
            value = row["seconds"] / 60
            colour = COLOURS["met"] if row["relayed"] else COLOURS["in-progress"]
            axes.barh(y, value, height=0.7, color=colour, edgecolor="#555555", linewidth=0.6)
            beyond = max(value, (row.get("previous_seconds") or 0) / 60)  # clear of the tick
            axes.text(beyond + longest * 0.01, y, row["took"], va="center", fontsize=8)
        if row.get("previous_seconds") is not None:
            axes.plot([row["previous_seconds"] / 60] * 2, [y - 0.45, y + 0.45], color="black",
                      linewidth=2)  # fmt: skip
    axes.set_yticks(range(len(rows)), [f"{r['name']} ({r['code']})" for r in rows], fontsize=9)
    axes.set_ylim(-0.6, len(rows) - 0.4)
    axes.set_xlim(0, longest)
    axes.set_xlabel("minutes to the country's first acknowledgement", fontsize=9)
    axes.set_title(f"{data['id']} — EXERCISE: time to answer, by country", fontsize=11)
    figure.legend(
        handles=[
            Patch(facecolor=COLOURS["met"], edgecolor="#555555", label="answered and relayed"),
            Patch(facecolor=COLOURS["in-progress"], edgecolor="#555555",
                  label="answered, not relayed"),
            Patch(facecolor="#e6e6e6", edgecolor="#555555", hatch="///", label="dark"),
            Line2D([0], [0], color="black", linewidth=2, label="previous drill"),
        ],
        loc="lower center", ncol=4, fontsize=8, frameon=False,
    )  # fmt: skip
    buffer = BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()
