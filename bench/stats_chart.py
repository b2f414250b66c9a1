"""The admin stats chart's cost: importing matplotlib (paid once per process, on the first
Stats press, since the bot imports it lazily), the first and the steady render, and the
PNG's size. Each import is timed in a fresh interpreter; a fresh MPLCONFIGDIR shows the
one-off font cache build a new container pays.

    PYTHONPATH=src .venv/bin/python bench/stats_chart.py [--runs 5]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

PROBE = """
import json, time
from datetime import date, timedelta
from decimal import Decimal
started = time.perf_counter()
from shopbot.bot.stats_chart import ChartLabels, ChartSeries, render_png
ours = time.perf_counter()
import matplotlib.figure, matplotlib.backends.backend_agg
imported = time.perf_counter()
days = tuple(date(2026, 3, 1) + timedelta(days=n) for n in range(30))
series = ChartSeries(days, tuple(Decimal(n * 125).scaleb(-2) for n in range(30)),
                     tuple(n % 7 for n in range(30)))
labels = ChartLabels("Revenue and orders per day, last 30 days (UTC)", "Revenue, USD", "Orders")
png = render_png(series, labels)
first = time.perf_counter()
steady = []
for _ in range(5):
    begin = time.perf_counter()
    render_png(series, labels)
    steady.append(time.perf_counter() - begin)
print(json.dumps({"module": ours - started, "matplotlib": imported - ours,
                  "first": first - imported, "steady": min(steady), "bytes": len(png)}))
"""


def run(config_dir: str) -> dict[str, float]:
    env = {**os.environ, "MPLCONFIGDIR": config_dir}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as cold_dir:
        cold = run(cold_dir)  # empty font cache: what a new container's first chart pays
        warm = [run(cold_dir) for _ in range(runs)]
    print(f"{'measure':<44}{'cold cache':>12}{'warm (median)':>16}")
    rows = (
        ("import shopbot.bot.stats_chart (s)", "module"),
        ("import matplotlib Figure + Agg (s)", "matplotlib"),
        ("first render after import (s)", "first"),
        ("steady render, best of 5 (s)", "steady"),
        ("PNG size (bytes)", "bytes"),
    )
    for title, key in rows:
        median = statistics.median(w[key] for w in warm)
        digits = 0 if key == "bytes" else 3
        print(f"{title:<44}{cold[key]:>12.{digits}f}{median:>16.{digits}f}")


if __name__ == "__main__":
    main()
