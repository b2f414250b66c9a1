"""The admin's stats chart: what it plots is the database's figures, the PNG is valid and
of the promised size, and matplotlib stays out of the bot until a chart is drawn."""

import json
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest

from shopbot.bot.stats_chart import (
    DPI,
    HEIGHT_PX,
    WIDTH_PX,
    ChartLabels,
    chart_series,
    draw,
    render_png,
)
from shopbot.domain.stats import DayFigures

LABELS = ChartLabels(title="Выручка и заказы", revenue="Выручка, USD", orders="Заказы")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def month() -> list[DayFigures]:
    first = date(2026, 3, 1)
    return [
        DayFigures(
            first + timedelta(days=n),
            orders=n % 4,
            revenue=Decimal("-10.00") if n == 9 else Decimal(n * 333).scaleb(-2),
        )
        for n in range(30)
    ]


def test_the_series_are_the_figures_in_order() -> None:
    figures = month()
    series = chart_series(figures)
    assert series.days == tuple(f.day for f in figures)
    assert series.revenue == tuple(f.revenue for f in figures)
    assert series.revenue[3] == Decimal("9.99")
    assert series.orders == tuple(f.orders for f in figures)


def test_the_figure_plots_revenue_as_bars_and_orders_as_a_line() -> None:
    import numpy as np
    from matplotlib.patches import Rectangle

    series = chart_series(month())
    figure = draw(series, LABELS)
    revenue_axes, orders_axes = figure.axes
    bars = [bar for bar in revenue_axes.patches if isinstance(bar, Rectangle)]
    assert len(bars) == len(revenue_axes.patches) == 30
    assert [round(bar.get_height(), 2) for bar in bars] == [float(r) for r in series.revenue]
    assert [bar.get_x() + bar.get_width() / 2 for bar in bars] == list(range(30))
    (line,) = orders_axes.get_lines()
    assert np.asarray(line.get_xdata()).tolist() == list(range(30))
    assert np.asarray(line.get_ydata()).tolist() == list(series.orders)
    ticks = revenue_axes.get_xticks().tolist()
    labels = [label.get_text() for label in revenue_axes.get_xticklabels()]
    assert ticks == [4, 9, 14, 19, 24, 29]  # today (the last day) is labelled
    assert labels == [series.days[int(n)].strftime("%d.%m") for n in ticks]
    assert labels[-1] == "30.03"
    order_ticks = orders_axes.get_yticks().tolist()
    assert order_ticks == sorted(order_ticks)
    assert order_ticks[0] == 0
    assert all(tick == int(tick) for tick in order_ticks)
    # A refund day (-10.00) lowers the revenue axis; zero stays level on both axes.
    (revenue_low, revenue_high), (orders_low, orders_high) = (
        revenue_axes.get_ylim(),
        orders_axes.get_ylim(),
    )
    assert revenue_low < 0
    assert revenue_low / revenue_high == pytest.approx(orders_low / orders_high)
    assert revenue_axes.get_title() == LABELS.title
    assert (revenue_axes.get_ylabel(), orders_axes.get_ylabel()) == ("Выручка, USD", "Заказы")
    assert tuple(figure.get_size_inches() * DPI) == (WIDTH_PX, HEIGHT_PX)


def test_the_png_is_valid_and_of_the_promised_size() -> None:
    from matplotlib.image import imread

    png = render_png(chart_series(month()), LABELS)
    assert png.startswith(PNG_SIGNATURE)
    pixels = imread(BytesIO(png), format="png")  # decoded by Pillow, not by our code
    assert pixels.shape[:2] == (HEIGHT_PX, WIDTH_PX)
    assert pixels.std() > 0.05  # not a blank canvas


def test_the_png_carries_the_exact_figures_it_plots() -> None:
    from PIL import Image

    series = chart_series(month())
    with Image.open(BytesIO(render_png(series, LABELS))) as image:
        chunks = dict(getattr(image, "text", {}))
    assert chunks["Title"] == LABELS.title
    lines = chunks["Description"].splitlines()
    assert len(lines) == 30
    assert lines[0] == "2026-03-01 orders=0 revenue=0.00"
    assert lines[3] == "2026-03-04 orders=3 revenue=9.99"
    assert lines[9] == "2026-03-10 orders=1 revenue=-10.00"


def test_an_empty_month_still_draws() -> None:
    empty = [
        DayFigures(date(2026, 3, 1) + timedelta(days=n), 0, Decimal("0.00")) for n in range(30)
    ]
    assert render_png(chart_series(empty), LABELS).startswith(PNG_SIGNATURE)


PROBE = """
import json, sys
import shopbot.bot.factory, shopbot.bot.routers.admin, shopbot.bot.routers.admin_stats
import shopbot.composition.bot
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] == "matplotlib")))
"""


def test_the_bot_starts_without_matplotlib() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
