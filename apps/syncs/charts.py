"""Small bar charts drawn on the server as inline SVG: the geometry is computed here, the template only
draws rectangles. Every bar carries its figures (a <title> shown on hover and read by screen readers) and
the caller offers the same figures as a table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Segment:
    series: str  # the CSS class of its colour
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    label: str  # the column's name: a day, a run
    x: float
    values: dict[str, int]  # series → value, as given
    title: str  # the figures in words
    segments: list[Segment] = field(default_factory=list)
    ref: int | None = None  # what the bar stands for (a run id), for a link


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    series: list[tuple[str, str]]  # (key, label) of the series drawn, in stacking order (bottom first)
    width: int
    height: int
    bar_width: float
    peak: int  # the tallest stack
    total: int

    @property
    def empty(self) -> bool:
        return self.peak == 0


def stacked_bars(
    columns: list[tuple[str, dict[str, int], int | None]],
    series: list[tuple[str, str]],
    *,
    width: int = 600,
    height: int = 120,
    gap: float = 0.2,
) -> BarChart:
    """One bar per column (label, {series: value}, ref), its series stacked bottom up.

    The SVG's y axis points down, so a segment starts at `height - (what is below it + itself)`.
    """
    peak = max((sum(values.get(key, 0) for key, _ in series) for _, values, _ in columns), default=0)
    slot = width / max(len(columns), 1)
    bar_width = slot * (1 - gap)
    bars, total = [], 0
    for index, (label, values, ref) in enumerate(columns):
        below = 0.0
        segments = []
        for key, _ in series:
            value = values.get(key, 0)
            if not value:
                continue
            segment_height = value / peak * height
            below += segment_height
            segments.append(Segment(series=key, y=round(height - below, 2), height=round(segment_height, 2)))
        figures = ", ".join(f"{values.get(key, 0):,} {name}" for key, name in series)
        total += sum(values.get(key, 0) for key, _ in series)
        bars.append(
            Bar(
                label=label,
                x=round(index * slot + (slot - bar_width) / 2, 2),
                values=values,
                title=f"{label}: {figures}",
                segments=segments,
                ref=ref,
            )
        )
    return BarChart(
        bars=bars,
        series=series,
        width=width,
        height=height,
        bar_width=round(bar_width, 2),
        peak=peak,
        total=total,
    )
