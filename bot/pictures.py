"""The pictures the bot attaches (a digest's heatmap, a drill's chart), drawn in a short-lived
child process: matplotlib's modules and working set (some 25 MB, more after a large drawing)
would otherwise stay in the long-running bot for good. `draw()` is what the bot calls; the
child reads {"kind", "data", "lang"} as JSON on stdin and writes the PNG to stdout.

    python -m bot.pictures < request.json > picture.png
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from io import BytesIO
from typing import Any

from commands import i18n
from commands.i18n import N_, _

CHILD_TIMEOUT = 300  # seconds: a drawing takes about one; a stuck child must not hang a send


def draw(kind: str, data: dict[str, Any], lang: str | None = None) -> bytes:
    """The PNG of `kind` ("digest-png", "drill-png") drawn from `data` in a child process,
    its words in `lang`. Blocking: the sender calls it in a worker thread."""
    request = json.dumps({"kind": kind, "data": data, "lang": lang or i18n.current()})
    done = subprocess.run(
        [sys.executable, "-m", "bot.pictures"],
        input=request.encode(),
        capture_output=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        last = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"drawing {kind} failed: {last[0]}")
    return done.stdout


def drawn_here(kind: str, data: dict[str, Any]) -> bytes:
    """The picture, drawn in this process (the child's work)."""
    if kind == "digest-png":
        return heatmap(data)
    if kind == "drill-png":
        return drill_chart(data)
    if kind == "timeline-png":
        return timeline_chart(data)
    raise ValueError(f"no picture named {kind!r}")


def _item(text: str) -> str:
    """A catalogue word (an area's or item's name) in the language being written."""
    return i18n.pgettext(i18n.CATALOGUE, text)


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
    "unreported": N_("not reported"),
    "not-started": N_("not started"),
    "in-progress": N_("in progress"),
    "met": N_("met"),
    "n/a": N_("not applicable"),
}
KEY_LINE = 0.13  # inches per line of the heatmap's key
SYMBOLS = {"met": "●", "in-progress": "◐", "not-started": "○", "n/a": "–", "unreported": "·"}


def heatmap(data: dict[str, Any]) -> bytes:
    """The countries x items status matrix as a PNG picture a minister can read: country
    names, numbered items with their names printed in a key, bordered cells, a colour-blind
    safe palette (Okabe-Ito) with a symbol in every cell as a second cue, countries without
    an NCPOC hatched and said so, and a legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matrix = data["matrix"]
    items, names = matrix["items"], matrix.get("names", matrix["items"])
    rows = [r for r in matrix["rows"] if r.get("listed", True)]  # the others in one line
    labels = [
        f"{r['name']} ({r['code']})  {r['met']}/{r['applicable']}"
        + ("" if r.get("ncpoc", True) else "  · " + _("no NCPOC"))
        for r in rows
    ]
    left = 0.3 + 0.07 * max((len(label) for label in labels), default=10)  # inches, 8 pt
    width = max(11.0, 0.42 * len(items) + left + 0.4)
    key = _key(names, matrix["areas"], width)
    bills = _bills(data.get("bills") or {}, items)
    if bills:
        key += [
            (_("Bills (legal items), the figure in a cell's corner:"), True),
            (_ladder(data["bills"]), False),
        ]
    half = _split(key)
    key_lines = max(half, len(key) - half)
    below = KEY_LINE * key_lines + 1.0  # inches under the grid: the legend, then the key
    above = 1.35  # inches over it: the title, the areas' names, the items' numbers
    height = 0.34 * len(rows) + below + above
    figure = Figure(figsize=(width, height), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_axes(
        (left / width, below / height, 1 - (left + 0.3) / width, 1 - (below + above) / height)
    )
    _cells(axes, rows, bills)
    _grid(axes, len(items), labels)
    _areas(axes, matrix["areas"], len(items))
    figure.suptitle(
        _("{committee} — status against the minimum standards · {period} · {label}").format(
            committee=data["committee"], period=data["period"]["label"], label=data["label"]
        ),
        fontsize=11,
        y=1 - 0.12 / height,
        va="top",
    )
    _legend_and_key(figure, key, half, (KEY_LINE * key_lines + 0.45) / height)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _grid(axes: Any, columns: int, labels: list[str]) -> None:
    """The items' numbers over the columns, the countries beside the rows, no frame."""
    axes.set_xlim(0, columns)
    axes.set_ylim(len(labels), 0)
    axes.set_xticks(
        [x + 0.5 for x in range(columns)], labels=[str(n + 1) for n in range(columns)], fontsize=7
    )
    axes.xaxis.tick_top()
    axes.set_yticks([y + 0.5 for y in range(len(labels))], labels=labels, fontsize=8)
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)


def _bills(bills: dict[str, Any], items: list[str]) -> dict[tuple[str, int], int]:
    """(country, column) -> the rung its bill stands at on the legal ladder the data names
    (`bills.ladder`: 1 drafted … 6 Budapest Convention), for a figure in the cell's corner."""
    ladder = [stage for stage, _words in bills.get("ladder", ())]
    columns = {item: x for x, item in enumerate(items)}
    found = {}
    for row in bills.get("rows", ()):
        for item, stage in zip(bills.get("items", ()), row["cells"], strict=False):
            if stage in ladder and item in columns:
                found[(row["code"], columns[item])] = ladder.index(stage) + 1
    return found


def _ladder(bills: dict[str, Any]) -> str:
    return " · ".join(f"{n} {_(words)}" for n, (_s, words) in enumerate(bills["ladder"], 1))


def _cells(
    axes: Any, rows: list[dict[str, Any]], bills: dict[tuple[str, int], int] | None = None
) -> None:
    """Each cell bordered, coloured and marked with its state's symbol; a country without an
    NCPOC hatched where nothing was reported; a legal item's bill, its rung in the corner."""
    from matplotlib.patches import Rectangle

    for y, row in enumerate(rows):
        staffed = row.get("ncpoc", True)
        for x, cell in enumerate(row["cells"]):
            blank = not staffed and cell == "unreported"
            axes.add_patch(
                Rectangle(
                    (x, y), 1, 1, facecolor="#ffffff" if blank else COLOURS[cell],
                    edgecolor="#555555", linewidth=0.6, hatch="///" if blank else None,
                )
            )  # fmt: skip
            axes.text(
                x + 0.5, y + 0.5, SYMBOLS[cell], ha="center", va="center", fontsize=8,
                color=INK[cell],
            )  # fmt: skip
            rung = (bills or {}).get((row["code"], x))
            if rung:
                axes.text(
                    x + 0.93, y + 0.1, str(rung), ha="right", va="top", fontsize=5.5,
                    color=INK[cell], fontweight="bold",
                )  # fmt: skip


def _areas(axes: Any, areas: list[dict[str, Any]], columns: int) -> None:
    """The priority areas over their columns, divided by a rule: each numbered, with its name
    where the whole of it fits in four lines as wide as its columns (a translated name may be
    twice as long as the English); else its number alone, the key below naming it. Nothing
    is cut short."""
    edge = 0
    for k, area in enumerate(areas, start=1):
        lines = textwrap.wrap(
            f"{k}. {_item(area['name'])}", max(8, int(area["size"] * 4.2)),
            break_long_words=False,
        )  # fmt: skip
        name = "\n".join(lines) if len(lines) <= 4 else _("{n}. (below)").format(n=k)
        axes.text(
            edge + area["size"] / 2, -0.85, name, ha="center", va="bottom",
            fontsize=7.5, fontweight="bold",
        )  # fmt: skip
        edge += area["size"]
        if edge < columns:
            axes.axvline(edge, color="#000000", linewidth=1.6)


def _split(lines: list[tuple[str, bool]]) -> int:
    """How many of the key's lines go in its first column: half, an area's name never left
    at the foot of the column without its items."""
    half = (len(lines) + 1) // 2
    while half > 1 and lines[half - 1][1]:
        half -= 1
    return half


def _legend_and_key(figure: Any, lines: list[tuple[str, bool]], half: int, top: float) -> None:
    """Under the grid: the legend of states, then the key in two columns (`half` lines in
    the first), the numbered items under their areas' names in bold (`top`: the legend's
    baseline, as a fraction of the figure's height)."""
    from matplotlib.patches import Patch

    legend = [
        Patch(facecolor=COLOURS[s], edgecolor="#555555", label=f"{SYMBOLS[s]}  {_(LABELS[s])}")
        for s in STATES
    ]
    legend.append(Patch(facecolor="#ffffff", edgecolor="#555555", hatch="///",
                        label=_("no NCPOC on the roster")))  # fmt: skip
    figure.legend(
        handles=legend, loc="lower center", ncol=len(legend), fontsize=8, frameon=False,
        bbox_to_anchor=(0.5, top),
    )  # fmt: skip
    step = KEY_LINE / figure.get_figheight()
    first = top - 0.15 / figure.get_figheight()
    for n, (text, bold) in enumerate(lines):
        column, row = (0, n) if n < half else (1, n - half)
        figure.text(
            0.03 + column * 0.49, first - row * step, text, va="top", fontsize=7,
            family="DejaVu Sans", fontweight="bold" if bold else "normal",
        )  # fmt: skip


def _key(names: list[str], areas: list[dict[str, Any]], width: float) -> list[tuple[str, bool]]:
    """The key's lines: each area's number and full name (bold, wrapped to half the picture's
    `width` in inches), then its items, numbered as the grid's columns."""
    chars = max(40, int(width / 2 / 0.058))
    lines: list[tuple[str, bool]] = []
    n = 0
    for k, area in enumerate(areas, start=1):
        heading = textwrap.wrap(f"{k}. {_item(area['name'])}", chars, break_long_words=False)
        lines += [(text, True) for text in heading]
        for _column in range(area["size"]):
            lines.append((f"{n + 1:>2}  {_item(names[n])}", False))
            n += 1
    return lines


def drill_chart(data: dict[str, Any]) -> bytes:
    """A drill's result as a PNG: minutes to each country's first acknowledgement, green when
    the country also confirmed onward dissemination, orange when not, a hatched grey bar for
    a country that stayed dark; a black tick at the previous drill's time."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    rows = list(reversed(data["drill"]))  # the first country on top
    minutes = [r["seconds"] / 60 for r in rows if r["seconds"] is not None]
    minutes += [r["previous_seconds"] / 60 for r in rows if r.get("previous_seconds") is not None]
    longest = max(minutes, default=1.0) * 1.15 or 1.0
    height = 0.42 * len(rows) + 1.9
    figure = Figure(figsize=(9.0, height), dpi=120)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.27, 1.25 / height, 0.68, 1 - 1.75 / height))
    for y, row in enumerate(rows):
        _drill_bar(axes, y, row, longest)
    axes.set_yticks(range(len(rows)), [f"{r['name']} ({r['code']})" for r in rows], fontsize=9)
    axes.set_ylim(-0.6, len(rows) - 0.4)
    axes.set_xlim(0, longest)
    axes.set_xlabel(_("minutes to the country's first acknowledgement"), fontsize=9)
    title = _("{id} — EXERCISE: time to answer, by country").format(id=data["id"])
    axes.set_title(title, fontsize=11)
    figure.legend(
        handles=[
            Patch(facecolor=COLOURS["met"], edgecolor="#555555", label=_("answered and relayed")),
            Patch(facecolor=COLOURS["in-progress"], edgecolor="#555555",
                  label=_("answered, not relayed")),
            Patch(facecolor="#e6e6e6", edgecolor="#555555", hatch="///", label=_("dark")),
            Line2D([0], [0], color="black", linewidth=2, label=_("previous drill")),
        ],
        loc="lower center", ncol=4, fontsize=8, frameon=False,
    )  # fmt: skip
    buffer = BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _drill_bar(axes: Any, y: int, row: dict[str, Any], longest: float) -> None:
    """One country's bar: minutes to its first answer (green relayed, orange not), or a
    hatched grey bar when it stayed dark; a tick at the previous drill's time."""
    from matplotlib.patches import Rectangle

    if row["seconds"] is None:
        axes.add_patch(
            Rectangle((0, y - 0.35), longest, 0.7, facecolor="#e6e6e6", edgecolor="#555555",
                      hatch="///", linewidth=0.6)
        )  # fmt: skip
        axes.text(
            longest * 0.02, y, _("dark: no acknowledgement"), va="center", fontsize=8,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
        )  # fmt: skip
    else:
        value = row["seconds"] / 60
        colour = COLOURS["met"] if row["relayed"] else COLOURS["in-progress"]
        axes.barh(y, value, height=0.7, color=colour, edgecolor="#555555", linewidth=0.6)
        beyond = max(value, (row.get("previous_seconds") or 0) / 60)  # clear of the tick
        axes.text(beyond + longest * 0.01, y, row["took"], va="center", fontsize=8)
    if row.get("previous_seconds") is not None:
        axes.plot([row["previous_seconds"] / 60] * 2, [y - 0.45, y + 0.45], color="black",
                  linewidth=2)  # fmt: skip


def _month(text: str) -> Any:
    """A `YYYY-MM` month as the date its last day ends on (a target falls due then)."""
    from datetime import date

    year, month = (int(p) for p in text.split("-"))
    return date(year + month // 12, month % 12 + 1, 1)


def timeline_chart(data: dict[str, Any]) -> bytes:
    """Every target the report's readers may see, on a time axis: a project as a bar from
    its registration to its target, an item's standard as a diamond at its month's end;
    overdue ones in vermillion, the rest in blue (Okabe-Ito), a line at the report's date."""
    from datetime import date

    from matplotlib import dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = list(reversed(data["timeline"]))  # the soonest on top
    labels = [
        textwrap.shorten(
            f"{r['what']} {r['name'] if r['kind'] == 'project' else _item(r['name'])}", 52,
            placeholder="…",
        )
        for r in rows
    ]  # fmt: skip
    height = 0.34 * len(rows) + 1.8
    figure = Figure(figsize=(10.0, height), dpi=120)
    FigureCanvasAgg(figure)
    left = min(0.45, 0.1 + 0.0075 * max((len(x) for x in labels), default=10))
    axes = figure.add_axes((left, 0.8 / height, 0.95 - left, 1 - 1.35 / height))
    moments = [date.fromisoformat(data["today"]), *_targets(axes, rows)]
    today = float(mdates.date2num(date.fromisoformat(data["today"])))
    axes.axvline(today, color="black", linewidth=1.2)
    axes.text(today, len(rows) - 0.3, " " + _("today"), fontsize=8, va="bottom")
    axes.set_yticks(range(len(rows)), labels, fontsize=8)
    axes.set_ylim(-0.7, len(rows) - 0.1)
    margin = 20  # days either side: nothing drawn on the frame
    axes.set_xlim(mdates.date2num(min(moments)) - margin, mdates.date2num(max(moments)) + margin)
    axes.xaxis_date()
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    axes.tick_params(axis="x", labelsize=8)
    title = _("{committee} — target dates · {label}").format(
        committee=data["committee"], label=data["label"]
    )
    axes.set_title(title, fontsize=11)
    figure.text(
        0.5,
        0.15 / height,
        _("◆ an item's standard due · ▬ a project, registered to target · vermillion: overdue"),
        ha="center",
        fontsize=8,
    )
    buffer = BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _targets(axes: Any, rows: list[dict[str, Any]]) -> list[Any]:
    """Each target on its row: a project's bar from registration to target, an item's
    diamond at its month's end (vermillion when overdue). Returns the dates drawn."""
    from datetime import date

    from matplotlib import dates as mdates

    moments = []
    for y, row in enumerate(rows):
        end = _month(row["target"])
        colour = "#d55e00" if row["overdue"] else "#0072b2"
        moments.append(end)
        if row["kind"] == "project":
            start = date.fromisoformat(f"{row['since']}-01")
            moments.append(start)
            axes.barh(y, (end - start).days, left=mdates.date2num(start), height=0.5, color=colour,
                      edgecolor="#555555", linewidth=0.6)  # fmt: skip
        else:
            axes.plot([mdates.date2num(end)], [y], marker="D", markersize=8, color=colour,
                      markeredgecolor="#333")  # fmt: skip
    return moments


def _main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    with i18n.speaking(i18n.known(request.get("lang")) or i18n.SOURCE):
        picture = drawn_here(request["kind"], request["data"])
    sys.stdout.buffer.write(picture)


if __name__ == "__main__":
    _main()
