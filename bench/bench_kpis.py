"""KPIs over a year of a busy program: 40 runs of 10 days, an hourly check each hour (~9,600 checks), labs
every 6 h, 52 weekly periods as the Quality page draws them.

Project: ``ecmo_core.quality.compute_kpis`` for each week from one ``QualityData`` (hourly-check completeness
indexes each check's hour slot once). Baseline: the obvious completeness count — for every expected hour slot,
scan the run's checks for one inside it — over the same weeks. Both give the same completeness (checked); the
note gives the time of the whole dashboard (every KPI, 52 weeks).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bench.common import Result, best_of
from ecmo_core import quality as q

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = START + timedelta(days=365)
H = timedelta(hours=1)


def _data() -> q.QualityData:
    runs, checks, labs, targets = [], [], [], []
    for i in range(40):
        begin = START + timedelta(days=9 * i, hours=7)
        end = begin + timedelta(days=10)
        runs.append(q.RunRecord(i, begin, end, "vv" if i % 2 else "va", "CICU", "weaned", True))
        hours = int((end - begin) / H)
        checks.extend(q.CheckRecord(i, begin + k * H + timedelta(minutes=20)) for k in range(hours) if k % 23)
        labs.extend(
            q.LabRecord(i, "anti_xa_iu_ml", begin + k * 6 * H, 0.25 + 0.05 * (k % 5)) for k in range(40)
        )
        targets.append(q.TargetRecord(i, "anti_xa_iu_ml", begin, 0.3, 0.5))
    return q.QualityData(
        now=NOW, runs=tuple(runs), checks=tuple(checks), labs=tuple(labs), targets=tuple(targets)
    )


def _naive_completeness(data: q.QualityData, period: q.Period) -> tuple[int, int]:
    done = expected = 0
    for run in data.runs:
        times = [c.observed_at for c in data.checks if c.run_id == run.run_id]
        for a, b in q.check_slots(run, period, data.now):
            expected += 1
            done += any(a <= t < b for t in times)
    return done, expected


def run() -> Result:
    data = _data()
    weeks = q.periods(START, NOW, step_days=7)

    def project() -> list[tuple[float | None, float | None]]:
        return [(k.numerator, k.denominator) for k in (q.hourly_check_completeness(data, w) for w in weeks)]

    def baseline() -> list[tuple[float | None, float | None]]:
        return [
            (float(d), float(n)) if n else (0, 0) for d, n in (_naive_completeness(data, w) for w in weeks)
        ]

    assert [(float(a or 0), float(b or 0)) for a, b in project()] == [
        (float(a), float(b)) for a, b in baseline()
    ], "project and baseline must agree"
    p, b = best_of(3, project, baseline)
    t0 = time.perf_counter()
    for w in weeks:
        q.compute_kpis(data, w)
    dashboard = time.perf_counter() - t0
    return Result(
        "kpis: check completeness, 52 weeks × 40 runs",
        p,
        b,
        f"{len(data.checks)} checks; whole dashboard (all KPIs × 52 weeks) {dashboard * 1000:.0f} ms",
    )
