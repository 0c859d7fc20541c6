"""Incremental live evaluation: a console streaming 12 parameters at 1 Hz into a run with a day of history.

Project: every second, ``timeline.extend`` the 12 new samples and ``evaluate`` the rules at that second — what an
in-process evaluator holding the run's timeline does. Reported per new sample, amortized (goal ≤ 1 ms).
Baseline: the same moments judged in one batch by the columnar engine (``changes``) on a timeline built with
all the samples at once — the replay way, the cheapest way to judge them all. Both agree on every finding.
"""

from __future__ import annotations

import numpy as np

from bench.common import Result, interleave
from bench.telemetry import PARAMETERS, START, day
from ecmo_core.surveillance import RunContext, Sample, evaluate
from ecmo_core.surveillance.engine import changes
from ecmo_core.surveillance.timeline import Series, Timeline, from_micros

CONTEXT = RunContext(configuration="vv", oxygenator_installed_at=START, pump_head_installed_at=START)


def _history(seconds: int) -> tuple[dict[tuple[str, bool], Series], list[list[Sample]]]:
    frame = day(0, 2)
    us = frame.get_column("observed_at").to_numpy()
    history = {
        (code, True): Series(us[:seconds], frame.get_column(code).to_numpy()[:seconds], "device")
        for code in PARAMETERS
    }
    stream = [
        [Sample(from_micros(int(us[i])), code, float(frame.get_column(code)[i])) for code in PARAMETERS]
        for i in range(seconds, seconds + 600)
    ]
    return history, stream


def run(quick: bool = False) -> Result:
    seconds = 6 * 3600 if quick else 86_400 - 600
    history, stream = _history(seconds)
    moments = [batch[0].observed_at for batch in stream]
    found: dict[str, object] = {}

    def project() -> None:
        timeline = Timeline.from_series(dict(history))
        last = []
        for batch, now in zip(stream, moments, strict=True):
            timeline.extend(batch)
            last = evaluate(timeline, now=now, context=CONTEXT)
        found["live"] = last

    def baseline() -> None:
        timeline = Timeline.from_series(dict(history))
        timeline.extend(sample for batch in stream for sample in batch)
        grid = np.array([int(m.timestamp() * 1_000_000) for m in moments], dtype=np.int64)
        changes(timeline, moments=grid, context=CONTEXT)
        found["batch"] = evaluate(timeline, now=moments[-1], context=CONTEXT)

    project_runs, baseline_runs = interleave(1 if quick else 3, project, baseline)
    assert found["live"] == found["batch"], "live and batch must agree"
    new = len(stream) * len(PARAMETERS)
    per_sample_ms = sorted(project_runs)[len(project_runs) // 2] / new * 1000
    return Result(
        f"live evaluation per new sample: 10 min at 1 Hz × 12 after {seconds / 3600:.0f} h of history",
        project_runs,
        baseline_runs,
        note=f"{per_sample_ms:.3f} ms per new sample amortized ({new:,} samples, {len(stream)} evaluations)",
        goal="≤ 1 ms per new sample, amortized",
        figures={"project_ms_per_sample": round(per_sample_ms, 4)},
    )
