"""One time axis for a run: lanes of bars (configuration, cannulas, components, MCS) and point events.

Apps add their own lanes by declaring providers in ``AppConfig.contributions()`` (``timeline_lanes``): runs adds
configuration, cannulas, components and MCS; surveillance alerts and checks; decisions decisions, transports and
ambulation. Each provider returns ``Lane`` objects for a run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from ecmo_web.runs.models import EcmoRun

MINIMUM_SPAN = dt.timedelta(hours=1)


@dataclass
class Bar:
    label: str
    start: dt.datetime
    end: dt.datetime | None  # None: still in place
    tone: str = "neutral"  # css modifier: neutral, vv, va, hybrid, warning, critical, done
    detail: str = ""
    left_pct: float = 0.0
    width_pct: float = 0.0


@dataclass
class Point:
    label: str
    at: dt.datetime
    tone: str = "neutral"
    detail: str = ""
    url: str = ""
    left_pct: float = 0.0


@dataclass
class Lane:
    title: str
    bars: list[Bar] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    order: int = 50


Provider = Callable[[EcmoRun, dt.datetime], list[Lane]]


@dataclass
class Timeline:
    start: dt.datetime
    end: dt.datetime
    lanes: list[Lane]
    ticks: list[tuple[float, dt.datetime]]


def _pct(value: dt.datetime, start: dt.datetime, span: float) -> float:
    return max(0.0, min(100.0, (value - start).total_seconds() / span * 100.0))


def build(run: EcmoRun, now: dt.datetime) -> Timeline:
    start = run.started_at
    end = max(run.ended_at or now, start + MINIMUM_SPAN)
    span = (end - start).total_seconds()
    lanes: list[Lane] = []
    from ecmo_web import contributions

    for provider in contributions.timeline_lanes():
        lanes.extend(provider(run, now))
    lanes = [lane for lane in lanes if lane.bars or lane.points]
    lanes.sort(key=lambda lane: lane.order)
    for lane in lanes:
        for bar in lane.bars:
            bar.left_pct = _pct(bar.start, start, span)
            bar.width_pct = max(0.4, _pct(bar.end or end, start, span) - bar.left_pct)
        for point in lane.points:
            point.left_pct = _pct(point.at, start, span)
    days = max(1, int(span // 86400))
    step = (
        dt.timedelta(days=max(1, days // 8))
        if span >= 2 * 86400
        else dt.timedelta(hours=max(1, int(span // 3600) // 8))
    )
    ticks = []
    t = start
    while t <= end:
        ticks.append((_pct(t, start, span), t))
        t += step
    return Timeline(start=start, end=end, lanes=lanes, ticks=ticks)


_MODE_TONE = {"vv": "vv", "va": "va", "vav": "hybrid", "vva": "hybrid", "vpa": "hybrid"}


def run_lanes(run: EcmoRun, now: dt.datetime) -> list[Lane]:
    configs = list(run.configurations.all())
    config_lane = Lane("Configuration", order=10)
    for i, entry in enumerate(configs):
        nxt = configs[i + 1].started_at if i + 1 < len(configs) else run.ended_at
        config_lane.bars.append(
            Bar(
                entry.get_mode_display(),
                entry.started_at,
                nxt,
                tone=_MODE_TONE.get(entry.mode, "neutral"),
                detail=entry.reason,
            )
        )
    cannula_lanes = [
        Lane(
            f"Cannula · {c.get_purpose_display().lower()}",
            order=20,
            bars=[
                Bar(
                    f"{c.size_fr} Fr {c.get_site_display()}",
                    c.inserted_at,
                    c.removed_at,
                    detail=c.tip_position,
                )
            ],
        )
        for c in run.cannulas.all()
    ]
    component_lanes: dict[str, Lane] = {}
    for circuit in run.circuits.all():
        for comp in circuit.components.all():
            lane = component_lanes.setdefault(comp.kind, Lane(comp.get_kind_display(), order=30))
            lane.bars.append(
                Bar(
                    f"{comp.model} · lot {comp.lot or '—'}",
                    comp.installed_at,
                    comp.removed_at,
                    detail=comp.reason_removed,
                )
            )
    mcs_lane = Lane("MCS", order=40)
    for device in run.mcs_devices.all():
        mcs_lane.bars.append(
            Bar(device.model, device.inserted_at, device.removed_at, tone="hybrid", detail=device.site)
        )
        for s in device.settings.all():
            parts = [
                f"P{s.impella_p_level}" if s.impella_p_level is not None else "",
                f"{s.flow_l_min} L/min" if s.flow_l_min is not None else "",
                s.iabp_ratio,
                f"{s.vad_speed_rpm} rpm" if s.vad_speed_rpm else "",
            ]
            mcs_lane.points.append(Point(" ".join(p for p in parts if p) or "setting", s.at, detail=s.note))
    return [config_lane, *cannula_lanes, *component_lanes.values(), mcs_lane]
