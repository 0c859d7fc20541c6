"""Small inline SVG line charts for the PDF packet (a PDF has no JavaScript, so uPlot cannot draw there).

Pure: points in, an SVG string out. Values are escaped; an empty series draws an empty frame with "no data".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape


def _fmt(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"


def line_chart_svg(
    points: Sequence[tuple[dt.datetime, float]],
    *,
    start: dt.datetime,
    end: dt.datetime,
    title: str,
    marker_at: dt.datetime | None = None,
    marker_label: str = "event",
    tick_labels: Sequence[tuple[dt.datetime, str]] = (),
    width: int = 640,
    height: int = 150,
) -> str:
    """A line chart of ``points`` between ``start`` and ``end`` with a vertical marker (the event) and labelled
    time ticks; y runs from the series' minimum to its maximum (padded 5 %)."""
    left, right, top, bottom = 48, 10, 20, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max((end - start).total_seconds(), 1.0)

    def x(at: dt.datetime) -> float:
        return left + max(0.0, min(1.0, (at - start).total_seconds() / span)) * plot_w

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{left}" y="13" font-size="11" font-weight="bold">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999" stroke-width="0.5"/>',
    ]
    inside = [(at, v) for at, v in points if start <= at <= end]
    if inside:
        values = [v for _, v in inside]
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad

        def y(value: float) -> float:
            return top + (1 - (value - lo) / (hi - lo)) * plot_h

        path = " ".join(f"{x(at):.1f},{y(v):.1f}" for at, v in sorted(inside))
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f5fa8" stroke-width="1.5"/>')
        for at, v in inside if len(inside) <= 60 else ():
            parts.append(f'<circle cx="{x(at):.1f}" cy="{y(v):.1f}" r="1.8" fill="#1f5fa8"/>')
        parts.append(f'<text x="{left - 4}" y="{top + 9}" font-size="9" text-anchor="end">{_fmt(hi)}</text>')
        parts.append(
            f'<text x="{left - 4}" y="{top + plot_h}" font-size="9" text-anchor="end">{_fmt(lo)}</text>'
        )
    else:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" font-size="10" text-anchor="middle" '
            f'fill="#666">no data in this window</text>'
        )
    for at, label in tick_labels:
        if start <= at <= end:
            tx = x(at)
            # A label at either edge is anchored inwards so that it is not cut off.
            anchor = "start" if tx - left < 30 else "end" if left + plot_w - tx < 30 else "middle"
            parts.append(
                f'<text x="{tx:.1f}" y="{height - 6}" font-size="9" text-anchor="{anchor}">{escape(label)}</text>'
            )
    if marker_at is not None and start <= marker_at <= end:
        mx = x(marker_at)
        parts.append(
            f'<line x1="{mx:.1f}" y1="{top}" x2="{mx:.1f}" y2="{top + plot_h}" stroke="#b3261e" stroke-width="1.2" '
            'stroke-dasharray="4 2"/>'
        )
        parts.append(
            f'<text x="{mx + 3:.1f}" y="{top + 10}" font-size="9" fill="#b3261e">{escape(marker_label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
