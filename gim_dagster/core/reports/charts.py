"""The reports' charts: matplotlib figures rendered to inline SVG (no script, no font or image to fetch).

Text stays text in the SVG (``svg.fonttype: none``, escaped by matplotlib's SVG writer) and is never read as
mathtext, so a ``$`` in an agent's name is just a dollar sign. A fixed ``svg.hashsalt`` and no date in the
metadata make the same figures give the same bytes. Figures are built with ``Figure`` directly (no pyplot
state), so rendering is safe in any thread of a Dagster run.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib
from matplotlib.figure import Figure

STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "gim-reports",
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}
COLOURS = {
    "offered": "#4c72b0",
    "accepted": "#55a868",
    "abandoned": "#c44e52",
    "target": "#8172b2",
    "talk": "#4c72b0",
    "hold": "#dd8452",
    "ACW": "#937860",
}
_MAX_TICKS = 24


def _svg(fig: Figure, title: str) -> str:
    """The figure as an ``<svg>`` element (XML prolog and DOCTYPE dropped) with ``title`` as its label."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    return svg.replace("<svg ", f'<svg role="img" class="chart" data-title="{_attr(title)}" ', 1)


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _ticks(labels: Sequence[str]) -> tuple[list[int], list[str]]:
    """At most ``_MAX_TICKS`` evenly spaced tick labels, so long ranges stay legible."""
    step = max(1, -(-len(labels) // _MAX_TICKS))
    positions = list(range(0, len(labels), step))
    return positions, [labels[i] for i in positions]


def _empty(ax: object, text: str = "no data in this range") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)  # type: ignore[attr-defined]


def grouped_bars(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], ylabel: str
) -> str:
    """Bars per label, one per series side by side (e.g. offered / accepted / abandoned per interval)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(max(6.0, min(16.0, 0.35 * len(labels) * len(series))), 3.4))
        ax = fig.subplots()
        width = 0.8 / max(1, len(series))
        for n, (name, values) in enumerate(series.items()):
            xs = [i + (n - (len(series) - 1) / 2) * width for i in range(len(labels))]
            ax.bar(xs, values, width, label=name, color=COLOURS.get(name))
        if not labels:
            _empty(ax)
        positions, shown = _ticks(labels)
        ax.set_xticks(positions, shown, rotation=60, ha="right")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if series and labels:
            ax.legend(loc="upper left", frameon=False, ncols=len(series))
        return _svg(fig, title)


def line_against_target(
    title: str, labels: Sequence[str], values: Sequence[float | None], target: float, ylabel: str
) -> str:
    """A percentage per label (gaps where it is undefined) and the target as a horizontal line."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(max(6.0, min(16.0, 0.3 * len(labels))), 3.0))
        ax = fig.subplots()
        ys = [float("nan") if v is None else v for v in values]
        ax.plot(range(len(labels)), ys, marker="o", color=COLOURS["accepted"], label="service level")
        ax.axhline(target, color=COLOURS["target"], linestyle="--", label=f"target {target:g} %")
        if not labels:
            _empty(ax)
        positions, shown = _ticks(labels)
        ax.set_xticks(positions, shown, rotation=60, ha="right")
        ax.set_ylim(0, 105)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(loc="lower left", frameon=False)
        return _svg(fig, title)


def stacked_barh(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], xlabel: str
) -> str:
    """Horizontal stacked bars, one per label (e.g. talk + hold + ACW per agent)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(7.5, max(2.0, 0.32 * len(labels) + 1.2)))
        ax = fig.subplots()
        left = [0.0] * len(labels)
        palette = ["#4c72b0", "#dd8452", "#937860", "#55a868", "#c44e52", "#8172b2", "#da8bc3", "#8c8c8c"]
        for n, (name, values) in enumerate(series.items()):
            colour = COLOURS.get(name, palette[n % len(palette)])
            ax.barh(range(len(labels)), values, left=left, label=name, color=colour)
            left = [a + b for a, b in zip(left, values, strict=True)]
        if not labels:
            _empty(ax)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.set_title(title)
        if series and labels:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return _svg(fig, title)


def bars(title: str, labels: Sequence[str], values: Sequence[float], ylabel: str, colour: str) -> str:
    """One bar per label (e.g. abandoned per time-waited bucket)."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(max(6.0, 0.4 * len(labels)), 3.2))
        ax = fig.subplots()
        ax.bar(range(len(labels)), values, color=colour)
        if not labels:
            _empty(ax)
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        return _svg(fig, title)


def heat_map(title: str, rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[int]]) -> str:
    """A grid of counts (vector cells, each with its number), e.g. weekday x hour of day."""
    with matplotlib.rc_context({**STYLE, "axes.grid": False}):
        fig = Figure(figsize=(10.0, 3.4))
        ax = fig.subplots()
        mesh = ax.pcolormesh(cells, cmap="Blues", edgecolors="white", linewidth=0.5)
        top = max((v for row in cells for v in row), default=0)
        for y, row in enumerate(cells):
            for x, value in enumerate(row):
                if value:
                    colour = "white" if value > top / 2 else "black"
                    ax.text(x + 0.5, y + 0.5, str(value), ha="center", va="center", fontsize=7, color=colour)
        ax.set_xticks([i + 0.5 for i in range(len(columns))], columns)
        ax.set_yticks([i + 0.5 for i in range(len(rows))], rows)
        ax.invert_yaxis()
        ax.set_title(title)
        fig.colorbar(mesh, ax=ax, fraction=0.03)
        return _svg(fig, title)
