"""Surveillance evaluation along a 3-day run of minute telemetry (8 parameters, ~35,000 samples).

Project: the live path — one indexed Timeline, then `evaluate` at each hourly moment (what the web layer and
`ecmo replay` do). Baseline: the obvious implementation — hand `evaluate` the raw sample list at each moment,
so every evaluation rebuilds its index from scratch. Both produce the same findings (checked).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.common import Result, best_of
from ecmo_core.surveillance import RunContext, evaluate
from ecmo_core.surveillance.synthetic import steady
from ecmo_core.surveillance.timeline import Timeline

START = datetime(2026, 1, 1, 10, tzinfo=UTC)
END = START + timedelta(days=3)
VALUES = {
    "blood_flow_l_min": 4.8,
    "pump_speed_rpm": 3400,
    "access_pressure_mmhg": -60,
    "pre_oxygenator_pressure_mmhg": 250,
    "post_oxygenator_pressure_mmhg": 234,
    "sweep_gas_l_min": 3.0,
    "fdo2": 1.0,
    "post_oxygenator_po2_mmhg": 480,
}


def _samples() -> list:  # type: ignore[type-arg]
    out = []
    for parameter, value in VALUES.items():
        out.extend(steady(parameter, value, start=START, end=END))
    return out


def run() -> Result:
    samples = _samples()
    context = RunContext(configuration="vv", oxygenator_installed_at=START, pump_head_installed_at=START)
    moments = [START + timedelta(hours=h) for h in range(1, 72)]

    def project() -> list[object]:
        timeline = Timeline(samples)
        return [evaluate(timeline, now=m, context=context) for m in moments]

    def baseline() -> list[object]:
        return [evaluate(samples, now=m, context=context) for m in moments]

    assert project() == baseline(), "project and baseline must agree"
    p, b = best_of(3, project, baseline)
    return Result("surveillance: 71 hourly evaluations, 3 days × 8 params", p, b, f"{len(samples)} samples")
