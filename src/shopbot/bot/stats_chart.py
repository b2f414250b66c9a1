"""The admin's stats chart: revenue (bars) and orders (line) per UTC day, as a PNG.

Drawn by matplotlib's object-oriented API on the Agg canvas: no pyplot, so no global
figure registry and no GUI backend, and each render owns its figure. matplotlib does not
promise thread safety, so renders (rare: an admin's press) run one at a time per process.

matplotlib is imported only inside `draw`, on the first chart a process renders: the
import costs about 0.6 s (bench/stats_chart.py), which the bot must not pay at start or
on any other update.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from threading import Lock
from typing import TYPE_CHECKING

from shopbot.domain.stats import DayFigures

if TYPE_CHECKING:
    from matplotlib.figure import Figure

WIDTH_PX = 1200
HEIGHT_PX = 675
"""16:9 within Telegram's 1280 px photo side, so the client shows it without rescaling."""
DPI = 150
TICK_EVERY = 5
"""Days between date labels: six labels over 30 days stay legible on a phone."""

_RENDERING = Lock()

REVENUE_COLOUR = "#4c78a8"
ORDERS_COLOUR = "#f58518"


@dataclass(frozen=True, slots=True)
class ChartSeries:
    """What the chart plots, in the database's exact figures; one entry per day."""

    days: tuple[date, ...]
    revenue: tuple[Decimal, ...]
    orders: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """Plain text (no HTML) in the admin's language."""

    title: str
    revenue: str
    orders: str


def chart_series(figures: Sequence[DayFigures]) -> ChartSeries:
    """The figures of `StatsRepository.daily`, oldest day first, as the chart's series."""
    return ChartSeries(
        days=tuple(f.day for f in figures),
        revenue=tuple(f.revenue for f in figures),
        orders=tuple(f.orders for f in figures),
    )


def draw(series: ChartSeries, labels: ChartLabels) -> "Figure":
    """The chart as a matplotlib `Figure` of WIDTH_PX x HEIGHT_PX pixels at DPI, with an
    Agg canvas. Revenue becomes float only here, for pixel positions; the caption next to
    the picture carries the exact sums."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    revenue_axes = figure.add_subplot()
    # Day n of the series sits at x = n; ticks are labelled with the dates below.
    positions = list(range(len(series.days)))
    revenue_axes.bar(
        positions,
        [float(amount) for amount in series.revenue],
        color=REVENUE_COLOUR,
        label=labels.revenue,
    )
    revenue_axes.set_ylabel(labels.revenue, color=REVENUE_COLOUR)
    revenue_axes.axhline(0, color="#888888", linewidth=0.6)
    orders_axes = revenue_axes.twinx()
    orders_axes.plot(
        positions,
        series.orders,
        color=ORDERS_COLOUR,
        marker="o",
        markersize=3,
        label=labels.orders,
    )
    orders_axes.set_ylabel(labels.orders, color=ORDERS_COLOUR)
    revenue_limits, orders_limits = _limits(series)
    revenue_axes.set_ylim(*revenue_limits)
    orders_axes.set_ylim(*orders_limits)
    # Whole orders only, and none below zero where a refund day lowered the axis.
    order_ticks = MaxNLocator(integer=True).tick_values(0, orders_limits[1])
    orders_axes.set_yticks([tick for tick in order_ticks if 0 <= tick <= orders_limits[1]])
    ticks = positions[::-TICK_EVERY][::-1]  # counted back from today, so today has a label
    revenue_axes.set_xticks(ticks, labels=[series.days[n].strftime("%d.%m") for n in ticks])
    revenue_axes.set_title(labels.title)
    revenue_axes.grid(axis="y", alpha=0.3)
    return figure


def describe(series: ChartSeries) -> str:
    """The plotted figures as text, one `YYYY-MM-DD orders=N revenue=D.DD` line per day:
    the PNG's `Description` (a tEXt chunk), so the exact numbers travel with the picture
    and a reader (or a test) can check what was drawn."""
    return "\n".join(
        f"{day.isoformat()} orders={orders} revenue={revenue}"
        for day, orders, revenue in zip(series.days, series.orders, series.revenue, strict=True)
    )


def _limits(series: ChartSeries) -> tuple[tuple[float, float], tuple[float, float]]:
    """Both axes from their zero line up to 15 % above the highest value (an empty month
    included), with zero at the same height on both: a day of net refunds (negative
    revenue) lowers the revenue axis, and the orders axis with it."""
    high = max(1.0, *(float(amount) for amount in series.revenue)) * 1.15
    low = min(0.0, *(float(amount) for amount in series.revenue)) * 1.15
    orders_high = max(1, *series.orders) * 1.15
    return (low, high), (orders_high * low / high, orders_high)


def render_png(series: ChartSeries, labels: ChartLabels) -> bytes:
    """The chart as PNG bytes, WIDTH_PX x HEIGHT_PX, with `Title` and `Description`
    (`describe`) text chunks. CPU-bound (about 0.3 s here): call it in a worker thread
    from async code."""
    buffer = BytesIO()
    metadata = {"Title": labels.title, "Description": describe(series)}
    with _RENDERING:
        draw(series, labels).savefig(buffer, format="png", dpi=DPI, metadata=metadata)
    return buffer.getvalue()
