"""Parse time of hostile input, 1 KB to 64 KB: it must grow linearly with the length.

Each input is built to make a quote-pairing tokenizer work hard (unpaired quotes of every
kind, escapes, one long token, options full of quotes). The limit on a command's length
(`[limits] max_command_chars`) is lifted here, to measure the parser itself: the bot never
reads more than the limit. Prints, for each kind, the median time at each size and its growth
against the 1 KB time (64x the text should be about 64x the time), with the tokenizer's step
count beside it; writes bench/results/parse.json.

    .venv/bin/python -m bench.parse [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import machine, write_result
from commands import all_routers
from commands.parsing import Registry, Tokenizer, find_in

SIZES = (1_000, 4_000, 16_000, 64_000)
PATTERNS = {
    "unpaired „": "„",
    "unpaired “ and spaces": "“ ",
    "every quote": '"“”„',
    "openings, then a closing": "„" * 50 + '"',
    "escapes": '\\"\\„\\',
    "one long token": "x",
    "options with quotes": "title=„b ",
}


def hostile(pattern: str, size: int) -> str:
    return "status note " + (pattern * (size // len(pattern) + 1))[:size]


def measure(registry: Registry, pattern: str, size: int, runs: int) -> dict:
    text = hostile(pattern, size)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        find_in(text, registry, limit=len(text))
        times.append(time.perf_counter() - started)
    tokenizer = Tokenizer(text)
    tokenizer.tokens()
    return {"size": size, "median_s": statistics.median(times), "steps": tokenizer.steps}


def main(runs: int) -> None:
    registry = Registry(all_routers())
    results = {}
    print(
        f"{'input':<26} " + " ".join(f"{s // 1000:>5} KB" for s in SIZES) + "   growth  steps/char"
    )
    for name, pattern in PATTERNS.items():
        rows = [measure(registry, pattern, size, runs) for size in SIZES]
        results[name] = rows
        growth = rows[-1]["median_s"] / rows[0]["median_s"]
        per_char = rows[-1]["steps"] / SIZES[-1]
        times = " ".join(f"{r['median_s'] * 1000:>6.2f}ms" for r in rows)
        print(f"{name:<26} {times}   {growth:>5.1f}x  {per_char:>6.2f}")
    print(f"(the text grows {SIZES[-1] // SIZES[0]}x from the first column to the last)")
    write_result("parse", {"machine": machine(), "runs": runs, "results": results})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)
