"""A small SVG line chart of the replay benchmark: seconds against run length, project beside baseline."""

from __future__ import annotations

from typing import Any

WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 640, 360, 64, 48, 24, 150


def replay_chart(results: list[dict[str, Any]]) -> str:
    """``results``: replay benchmark dicts (``days``, ``project_median_s``, ``baseline_median_s``)."""
    points = sorted((r["days"], r["project_median_s"], r["baseline_median_s"]) for r in results)
    max_days = max(p[0] for p in points)
    max_s = max(max(p[1], p[2]) for p in points) * 1.1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(days: float) -> float:
        return LEFT + days / max_days * plot_w

    def y(seconds: float) -> float:
        return TOP + plot_h - seconds / max_s * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="16" font-weight="bold">ecmo replay: time against run length (1 Hz × 12 parameters)</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#333"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>',
    ]
    for days, *_ in points:
        parts.append(
            f'<text x="{x(days):.0f}" y="{TOP + plot_h + 16}" text-anchor="middle">{days:g} d</text>'
        )
    step = max(1, round(max_s / 5))
    for tick in range(0, int(max_s) + 1, step):
        parts.append(f'<text x="{LEFT - 8}" y="{y(tick) + 4:.0f}" text-anchor="end">{tick} s</text>')
        parts.append(
            f'<line x1="{LEFT}" y1="{y(tick):.0f}" x2="{LEFT + plot_w}" y2="{y(tick):.0f}" stroke="#ddd"/>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle">run length (days)</text>'
    )
    for index, (label, colour) in enumerate(
        (("ecmo replay", "#b3161b"), ("Polars rolling floor", "#0b5cad"))
    ):
        line = " ".join(f"{x(p[0]):.1f},{y(p[1 + index]):.1f}" for p in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for p in points:
            parts.append(f'<circle cx="{x(p[0]):.1f}" cy="{y(p[1 + index]):.1f}" r="3" fill="{colour}"/>')
        legend_y = TOP + 20 + index * 20
        parts.append(
            f'<line x1="{LEFT + plot_w + 12}" y1="{legend_y}" x2="{LEFT + plot_w + 32}" y2="{legend_y}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(f'<text x="{LEFT + plot_w + 38}" y="{legend_y + 4}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
