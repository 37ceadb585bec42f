"""SVG geometry for the console's charts: line, horizontal bars, funnel, bubble grid.

Each function takes already-aggregated numbers (a dozen points, not rows) and returns a
frozen description the templates in ``templates/campaigns/partials/chart_*.html`` draw
as ``<svg>`` with a ``<title>``/``<desc>`` and a data table beside it for screen readers
and for anyone who would rather read numbers. No JavaScript, no library, no CDN: the
numbers are computed here so templates only place them.

Coordinates are in the SVG's own units (``viewBox``); the SVG scales to its container.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# A card is ~300–520 px wide: a 360-unit viewBox keeps 11-unit labels readable on phones.
WIDTH = 360


def nice_step(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k not below ``value`` (1 for 0 or less)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return int(candidate) if float(candidate).is_integer() else candidate
    return 10 ** (exponent + 1)  # pragma: no cover - the loop ends at 10


def nice_axis(maximum: float, *, intervals: int = 4) -> tuple[float, int]:
    """A round step and how many of them reach ``maximum`` (at most ``intervals``).

    2,400 → steps of 1,000, 3 of them (0, 1k, 2k, 3k); 8 → steps of 2, 4 of them.
    """
    step = nice_step(maximum / intervals)
    return step, max(math.ceil(maximum / step), 1)


def short_number(value: float) -> str:
    """1234 → "1.2k", 2_500_000 → "2.5M": axis labels that fit."""
    for limit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= limit:
            text = f"{value / limit:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def percent(part: float, whole: float) -> int | None:
    return round(100 * part / whole) if whole else None


# --- Line ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class LinePoint:
    x: float
    y: float
    label: str
    value: int | float


@dataclass(frozen=True)
class LineSeries:
    name: StrOrPromise
    css: str  # a class from console.css: the colour of the line
    points: list[LinePoint]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    series: list[LineSeries]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    labels: list[str]  # one per point, for the data table
    maximum: float

    @property
    def y_label_x(self) -> float:
        return self.plot_left - 6

    @property
    def x_label_y(self) -> float:
        return self.height - 6

    @property
    def rows(self) -> list[tuple[str, list[int | float]]]:
        """The data table: one row per label, one value per series."""
        return [
            (label, [s.points[i].value for s in self.series]) for i, label in enumerate(self.labels)
        ]


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[StrOrPromise, str, Sequence[int | float]]],
    *,
    width: int = WIDTH,
    height: int = 180,
    every: int = 2,
) -> LineChart:
    """Series of equal length over ``labels``, sharing a y axis from 0 to a nice top.

    ``series`` is ``(name, css class, values)``; every ``every``-th label is drawn.
    """
    left, right, top, bottom = 38.0, width - 10.0, 10.0, height - 24.0
    step, intervals = nice_axis(max((v for _, _, values in series for v in values), default=0))
    maximum = step * intervals
    count = len(labels)

    def x_at(index: int) -> float:
        if count == 1:
            return (left + right) / 2
        return left + index * (right - left) / (count - 1)

    def y_at(value: float) -> float:
        return bottom - (value / maximum) * (bottom - top)

    drawn = [
        LineSeries(
            name=name,
            css=css,
            points=[
                LinePoint(x=x_at(i), y=y_at(v), label=labels[i], value=v)
                for i, v in enumerate(values)
            ],
        )
        for name, css, values in series
    ]
    y_ticks = [
        Tick(position=y_at(step * k), label=short_number(step * k)) for k in range(intervals + 1)
    ]
    # The last label is always drawn (the current week), then every ``every``-th back.
    x_ticks = [
        Tick(position=x_at(i), label=labels[i])
        for i in range(count)
        if (count - 1 - i) % every == 0
    ]
    return LineChart(
        width=width,
        height=height,
        plot_left=left,
        plot_right=right,
        plot_top=top,
        plot_bottom=bottom,
        series=drawn,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        labels=list(labels),
        maximum=maximum,
    )


# --- Horizontal bars -------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: StrOrPromise
    value: int | float
    value_label: str
    y: float
    width: float
    text_y: float
    css: str = ""


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bar_x: float
    bar_height: float
    bar_max_width: float
    bars: list[Bar]

    @property
    def label_x(self) -> float:
        return self.bar_x - 8

    @property
    def value_x(self) -> float:
        return self.bar_x + self.bar_max_width + 6


def bar_chart(
    items: Sequence[tuple[StrOrPromise, int | float]],
    *,
    width: int = WIDTH,
    label_width: float = 110,
    row: float = 26,
    value_format: str = "{:,}",
    maximum: float | None = None,
    css: Sequence[str] = (),
) -> BarChart:
    """One horizontal bar per ``(label, value)``, label on the left, value at the bar's end."""
    bar_x = label_width
    bar_max_width = width - label_width - 48  # room for the value after the bar
    top = maximum if maximum is not None else max((v for _, v in items), default=0)
    top = top or 1
    bar_height = row - 8
    bars = [
        Bar(
            label=label,
            value=value,
            value_label=value_format.format(value),
            y=4 + i * row,
            width=max(bar_max_width * value / top, 0),
            text_y=4 + i * row + bar_height / 2 + 4,
            css=css[i] if i < len(css) else "",
        )
        for i, (label, value) in enumerate(items)
    ]
    return BarChart(
        width=width,
        height=int(8 + row * len(items)),
        bar_x=bar_x,
        bar_height=bar_height,
        bar_max_width=bar_max_width,
        bars=bars,
    )


# --- Funnel ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStep:
    label: StrOrPromise
    value: int
    x: float
    y: float
    width: float
    text_y: float
    of_first: int | None  # percent of the first step
    of_previous: int | None  # percent of the step before (None for the first)


@dataclass(frozen=True)
class Funnel:
    width: int
    height: int
    step_height: float
    center: float
    steps: list[FunnelStep]


def funnel(
    steps: Sequence[tuple[StrOrPromise, int]], *, width: int = WIDTH, row: float = 46
) -> Funnel:
    """Centered bars, each as wide as its share of the first step, its label above it."""
    first = steps[0][1] if steps else 0
    usable = width - 20
    step_height = row - 26  # the label takes the top of the row
    drawn = []
    previous: int | None = None
    for i, (label, value) in enumerate(steps):
        share = value / first if first else 0
        bar = max(usable * share, 2 if value else 0)
        drawn.append(
            FunnelStep(
                label=label,
                value=value,
                x=(width - bar) / 2,
                y=4 + i * row + 20,
                width=bar,
                text_y=4 + i * row + 14,
                of_first=percent(value, first),
                of_previous=None if previous is None else percent(value, previous),
            )
        )
        previous = value
    return Funnel(
        width=width,
        height=int(8 + row * len(steps)),
        step_height=step_height,
        center=width / 2,
        steps=drawn,
    )


# --- Bubble grid (a scatter aggregated into cells) -----------------------------------


@dataclass(frozen=True)
class Bubble:
    x: float
    y: float
    r: float
    count: int
    column: str
    row: str
    css: str


@dataclass(frozen=True)
class BubbleGrid:
    width: int
    height: int
    plot_left: float
    plot_top: float
    plot_right: float
    plot_bottom: float
    cell_width: float
    cell_height: float
    columns: list[Tick]
    rows: list[Tick]
    bubbles: list[Bubble]
    matrix: list[tuple[str, list[int]]] = field(default_factory=list)  # rows, top first
    column_labels: list[str] = field(default_factory=list)
    maximum: int = 0

    @property
    def row_label_x(self) -> float:
        return self.plot_left - 4

    @property
    def column_label_y(self) -> float:
        return self.plot_bottom + 12

    @property
    def axis_title_y(self) -> float:
        return self.height - 2


def bubble_grid(
    counts: dict[tuple[int, int], int],
    *,
    column_labels: Sequence[str],
    row_labels: Sequence[str],
    column_css: Sequence[str] = (),
    width: int = WIDTH,
    height: int = 300,
) -> BubbleGrid:
    """``counts[(column, row)]`` drawn as circles whose *area* is proportional to the count.

    Rows go bottom-up (row 0 at the bottom, like a y axis). A 100,000-point scatter would
    be an unreadable blot and a 100,000-element page; a grid of counts says the same.
    """
    left, right, top, bottom = 44.0, width - 6.0, 8.0, height - 30.0
    cell_w = (right - left) / len(column_labels)
    cell_h = (bottom - top) / len(row_labels)
    biggest = max(counts.values(), default=0)
    radius_max = min(cell_w, cell_h) / 2 - 1
    bubbles = []
    for (column, row), count in sorted(counts.items()):
        if not count:
            continue
        bubbles.append(
            Bubble(
                x=left + (column + 0.5) * cell_w,
                y=bottom - (row + 0.5) * cell_h,
                r=max(radius_max * math.sqrt(count / biggest), 1.5),
                count=count,
                column=column_labels[column],
                row=row_labels[row],
                css=column_css[column] if column < len(column_css) else "",
            )
        )
    matrix = [
        (row_labels[r], [counts.get((c, r), 0) for c in range(len(column_labels))])
        for r in reversed(range(len(row_labels)))
    ]
    return BubbleGrid(
        width=width,
        height=height,
        plot_left=left,
        plot_top=top,
        plot_right=right,
        plot_bottom=bottom,
        cell_width=cell_w,
        cell_height=cell_h,
        columns=[
            Tick(position=left + (i + 0.5) * cell_w, label=label)
            for i, label in enumerate(column_labels)
        ],
        rows=[
            Tick(position=bottom - (i + 0.5) * cell_h, label=label)
            for i, label in enumerate(row_labels)
        ],
        bubbles=bubbles,
        matrix=matrix,
        column_labels=list(column_labels),
        maximum=biggest,
    )
