"""The busiest pages run the same number of queries however many runs the program has (issue 10, item 5).

- run list, run page, rounds board, trends page and trends data: the count with one run equals the count with
  six runs, each with telemetry (a query per run would add five)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecmo_core.surveillance import Sample
from ecmo_web.runs import actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions as surveillance_actions
from tests.web.conftest import T0


def _telemetry(run: EcmoRun) -> None:
    samples = [
        Sample(T0 + dt.timedelta(minutes=m), parameter, value)
        for m in range(0, 60, 5)
        for parameter, value in (("blood_flow_l_min", 4.5), ("pump_speed_rpm", 3300.0))
    ]
    surveillance_actions.ingest_samples(
        actor_or_system=surveillance_actions.DEMO, run=run, samples=samples, now=T0 + dt.timedelta(hours=1)
    )


def _counts(client: Any, run: EcmoRun) -> dict[str, int]:
    pages = {
        "run list": f"/programs/{run.program_id}/runs/",
        "run page": f"/runs/{run.pk}/",
        "rounds board": f"/programs/{run.program_id}/rounds/2026-11-20/",
        "trends page": f"/runs/{run.pk}/trends/",
        "trends data": f"/runs/{run.pk}/trends/data.json?range=run",
    }
    counts = {}
    for name, url in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, name
        counts[name] = len(queries)
    return counts


def test_it_runs_as_many_queries_per_page_for_six_runs_as_for_one(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    _telemetry(run)
    client = client_for(perfusionist)
    _counts(client, run)  # first requests fill per-process caches (sessions, content types)
    one = _counts(client, run)
    for i in range(5):
        other = actions.start_run(
            actor=perfusionist,
            program=run.program,
            patient_code=f"TEST-Q{i:02d}",
            sex="female",
            birth_year=1980,
            indication="cardiac",
            mode="va",
            started_at=T0,
            weight_kg=60,
            height_cm=165,
        )
        _telemetry(other)
    assert _counts(client, run) == one
