"""Per-minute and per-hour sample rollups (surveillance/rollup.py), maintained with the samples.

- every write path keeps them equal to a rebuild from the samples: API/CSV/lab batches (``ingest_samples``),
  several batches into the same minute and hour, a duplicate batch (adds nothing), an hourly check and its
  amendment (the check's old samples are taken back out)
- the rebuild the migration runs over existing samples gives exactly what ingest maintained
- the trends endpoint over a long span reads the rollups and answers exactly as grouping the samples by hour
  would; a span with part-hours at either end counts every sample once; at most N points, spikes kept
- samples written straight to the table without their rollups are invisible to a long span (proof that the
  long span really reads the rollups) and a short span still reads the samples
- the trends page over more than a day reads the minute rollups and draws exactly what averaging the samples
  draws (probe dropouts still left out of the flow)
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions, rollup
from ecmo_web.surveillance.models import Sample, SampleRollup
from ecmo_web.surveillance.trends_api import trend_points
from tests.web.conftest import T0

S = dt.timedelta(seconds=1)
ROW = tuple[str, int, dt.datetime, int, float, float, float, dt.datetime, dt.datetime]


def rollups() -> list[ROW]:
    return sorted(
        (r.parameter, r.width_s, r.bucket, r.n, round(r.total, 6), r.low, r.high, r.first_at, r.last_at)
        for r in SampleRollup.objects.all()
    )


def rebuilt() -> list[ROW]:
    """What a rebuild from the samples gives (the migration's backfill), keeping what ingest maintained aside."""
    maintained = rollups()
    rollup.rebuild()
    fresh = rollups()
    assert maintained == fresh
    return fresh


def telemetry(start: dt.datetime, seconds: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [
        {"observed_at": start + i * S, "parameter": code, "value": round(rng.uniform(lo, hi), 2)}
        for i in range(0, seconds, rng.choice([1, 7, 13]))
        for code, lo, hi in (("blood_flow_l_min", 3.0, 5.0), ("access_pressure_mmhg", -140, -60))
    ]


def ingest(run: EcmoRun, actor: Any, samples: list[dict[str, Any]], ref: str = "") -> Any:
    return actions.ingest_samples(
        actor_or_system=actor,
        run=run,
        samples=samples,
        batch_ref=ref,
        now=T0 + dt.timedelta(days=3),
        evaluate=False,
    )


def test_it_keeps_rollups_equal_to_the_samples_through_batches_duplicates_checks_and_amendments(
    run: EcmoRun, perfusionist: Any
) -> None:
    first = telemetry(T0, 5000, 1)
    ingest(run, perfusionist, first, "a")
    ingest(run, perfusionist, first, "a")  # the same batch again adds nothing
    ingest(run, perfusionist, telemetry(T0 + dt.timedelta(seconds=30), 4000, 2), "b")  # same minutes, merged
    ingest(run, perfusionist, [{**s, "source": "lab"} for s in first[:40]], "c")
    assert Sample.objects.count() > 1000
    stored = rebuilt()
    minute = [r for r in stored if r[1] == 60]
    hour = [r for r in stored if r[1] == 3600]
    assert sum(r[3] for r in minute) == sum(r[3] for r in hour) == Sample.objects.count()
    assert len(hour) == 2 * 2  # two parameters over 10:00–11:29

    at = T0 + dt.timedelta(hours=2, minutes=5)
    check = actions.record_check(
        actor=perfusionist,
        run=run,
        observed_at=at,
        data={"pump_speed_rpm": 3000, "blood_flow_l_min": 1.5},
        now=at,
    )
    rebuilt()
    hour = {
        "run": run,
        "parameter": "blood_flow_l_min",
        "width_s": 3600,
        "bucket": T0 + dt.timedelta(hours=2),
    }
    flow = SampleRollup.objects.get(**hour)
    assert (flow.n, flow.low) == (1, 1.5)
    actions.amend_check(
        actor=perfusionist,
        check=check,
        reason="typed 1.5 for 4.5",
        data={"pump_speed_rpm": 3000, "blood_flow_l_min": 4.5},
        now=at + dt.timedelta(minutes=5),
    )
    rebuilt()  # the 1.5 is gone from the minute and the hour, not only outvoted
    flow = SampleRollup.objects.get(**hour)
    assert (flow.n, flow.low, flow.high) == (1, 4.5, 4.5)


def test_it_answers_a_long_span_from_the_rollups_exactly_as_grouping_the_samples_by_hour(
    run: EcmoRun, perfusionist: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(run, perfusionist, telemetry(T0 - dt.timedelta(hours=1), 4 * 3600, 3))
    since, until = T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=3)  # whole hours: no part-hours
    codes = ["blood_flow_l_min", "access_pressure_mmhg"]
    from_rollups = trend_points(run, codes, since=since, until=until, points=4)
    monkeypatch.setattr("ecmo_web.surveillance.trends_api._tier", lambda width_s: None)
    monkeypatch.setattr("ecmo_web.surveillance.trends_api._prefix_length", lambda width_s: 13)  # by hour
    from_samples = trend_points(run, codes, since=since, until=until, points=4)
    for code in codes:
        times, values, count = from_rollups[code]
        assert count == from_samples[code][2] == Sample.objects.filter(parameter=code).count()
        assert times.tolist() == from_samples[code][0].tolist()
        assert values.tolist() == from_samples[code][1].tolist()
        assert len(times) <= 4


def test_it_counts_each_sample_once_with_part_hours_at_either_end_and_keeps_a_spike(
    run: EcmoRun, perfusionist: Any, client_for: Callable[[Any], Client]
) -> None:
    samples = telemetry(T0 - dt.timedelta(hours=1), 6 * 3600, 4)
    spike = {"observed_at": T0 + dt.timedelta(hours=2, seconds=7.5), "parameter": "access_pressure_mmhg"}
    samples.append({**spike, "value": -290})
    ingest(run, perfusionist, samples)
    since, until = T0 - dt.timedelta(minutes=47, seconds=13), T0 + dt.timedelta(hours=4, minutes=11)
    inside = Sample.objects.filter(observed_at__gte=since, observed_at__lte=until)
    response = client_for(perfusionist).get(
        f"/api/v1/runs/{run.pk}/trends?parameter=blood_flow_l_min,access_pressure_mmhg&points=40"
        f"&since={since:%Y-%m-%dT%H:%M:%SZ}&until={until:%Y-%m-%dT%H:%M:%SZ}"
    )
    assert response.status_code == 200
    body = {s["parameter"]: s for s in response.json()["series"]}
    for code, series in body.items():
        assert series["samples"] == inside.filter(parameter=code).count()
        assert 20 <= len(series["points"]) <= 40
        times = [dt.datetime.fromisoformat(p["at"].replace("Z", "+00:00")) for p in series["points"]]
        assert times == sorted(times) and since <= times[0] and times[-1] <= until
    assert min(p["value"] for p in body["access_pressure_mmhg"]["points"]) == -290


def test_it_reads_the_rollups_for_a_long_span_and_the_samples_for_a_short_one(run: EcmoRun) -> None:
    rows = [
        (run.pk, "blood_flow_l_min", T0 + i * dt.timedelta(minutes=1), 4.0, "console", T0, None, None)
        for i in range(600)
    ]
    actions.insert_sample_rows(rows[:300])
    Sample.objects.bulk_create(  # written past the rollups, as no write path may
        Sample(run=run, parameter=p, observed_at=at, value=v, source=s, received_at=r)
        for _, p, at, v, s, r, _, _ in rows[300:]
    )
    codes = ["blood_flow_l_min"]
    month = trend_points(run, codes, since=T0, until=T0 + dt.timedelta(days=30), points=100)
    assert month["blood_flow_l_min"][2] == 300
    six = T0 + dt.timedelta(hours=6)
    hour = trend_points(run, codes, since=six, until=six + dt.timedelta(hours=1), points=100)
    assert hour["blood_flow_l_min"][2] == 61  # both ends included


def test_the_trends_page_draws_a_long_run_from_the_rollups_as_from_the_samples(
    run: EcmoRun, perfusionist: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    start = T0 - dt.timedelta(minutes=13, seconds=29)
    samples = [
        {"observed_at": start + i * dt.timedelta(seconds=97), "parameter": code, "value": round(value(), 2)}
        for i in range(30 * 3600 // 97)
        for code, value in (
            ("blood_flow_l_min", lambda: rng.choice([0.05, rng.uniform(3.0, 5.0)])),  # dropouts: left out
            ("pump_speed_rpm", lambda: rng.uniform(3000, 3600)),
            ("pre_oxygenator_pressure_mmhg", lambda: rng.uniform(200, 260)),
            ("post_oxygenator_pressure_mmhg", lambda: rng.uniform(150, 190)),
        )
    ]
    ingest(run, perfusionist, samples)
    now = start + dt.timedelta(hours=30, minutes=7, seconds=3)
    from ecmo_web.surveillance import charts, queries

    with CaptureQueriesContext(connection) as queried:
        drawn = charts.trend_data(run, now=now, range_name="run")
    assert any("samplerollup" in q["sql"] for q in queried.captured_queries)
    monkeypatch.setattr(queries, "bucketed_from_rollups", queries.bucketed)
    assert charts.trend_data(run, now=now, range_name="run") == drawn
    groups = {g["id"]: g for g in drawn["groups"]}
    assert len(groups["flow"]["data"][0]) > 100 and min(v for v in groups["flow"]["data"][1] if v) > 1
