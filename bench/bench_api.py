"""The HTTP API under load, in SQLite: ``POST …/samples`` in batches, and ``GET …/trends`` over a month.

Ingest — project: batches of 10,000 samples (12 parameters at 1 Hz) posted through the API with a bearer token
(parsing, validation, idempotent write, audit, evaluation queued and run after the commit at most once per
interval), in the columnar body form (``columns``: one list of times, a list of values per parameter) and in the
list form (``samples``: one object per sample). Baseline: the same rows written with one raw ``executemany`` into
the same table of the same database. Goal: ≥ 100,000 samples/s.

Trends — a run with a month of telemetry stored at the rate consoles send numerics (once a minute, device-data
§2): three parameters, 129,600 samples (a week in quick mode); ``GET …/trends?parameter=…&points=500`` for the
whole month, several times.
Goal: < 200 ms and at most 500 points per parameter. Its baseline is a trivial request, ``GET /api/v1/runs/{id}``.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics

from bench.common import Result, django_database, interleave

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CODES = (
    "blood_flow_l_min",
    "pump_speed_rpm",
    "access_pressure_mmhg",
    "pre_oxygenator_pressure_mmhg",
    "post_oxygenator_pressure_mmhg",
    "sweep_gas_l_min",
    "fdo2",
    "post_oxygenator_po2_mmhg",
    "pre_oxygenator_so2",
    "post_oxygenator_so2",
    "blood_temperature_c",
    "bubble_detected",
)
VALUES = (4.8, 3400, -60, 250, 234, 3.0, 1.0, 480, 0.72, 0.99, 36.8, 0)


def _setup() -> tuple[object, object, str]:
    django_database()
    from django.contrib.auth import get_user_model

    from ecmo_web.accounts.models import ApiToken, Membership, Program
    from ecmo_web.runs import actions

    program = Program.objects.create(name="Bench")
    user = get_user_model().objects.create_user("bench")
    Membership.objects.create(user=user, program=program, role="perfusionist")

    def start_run(code: str) -> object:
        return actions.start_run(
            actor=user,
            program=program,
            patient_code=code,
            sex="male",
            birth_year=1970,
            indication="respiratory",
            mode="vv",
            started_at=START,
        )

    _, token = ApiToken.issue(user, "bench")
    return start_run, user, token


def ingest(quick: bool) -> list[Result]:
    start_run, _, token = _setup()
    from django.db import connection, transaction
    from django.test import Client

    from ecmo_web.surveillance.models import Sample

    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    batch_seconds = 10_000 // len(CODES)
    batches = 3 if quick else 6
    raw_run = start_run("BENCH-RAW")
    table = Sample._meta.db_table
    offset = {"api": 0, "raw": 0}

    def times(kind: str) -> list[dt.datetime]:
        first = offset[kind]
        offset[kind] += batch_seconds
        return [START + dt.timedelta(seconds=first + i) for i in range(batch_seconds)]

    def post(run: object, body: str) -> None:
        response = client.post(
            f"/api/v1/runs/{run.pk}/samples",  # type: ignore[attr-defined]
            body,
            content_type="application/json",
            **headers,
        )
        assert response.status_code == 200, response.content[:500]
        assert response.json()["created"] == batch_seconds * len(CODES), response.content[:500]

    def columnar() -> str:
        moments = [t.isoformat() for t in times("api")]
        values = {p: [v] * len(moments) for p, v in zip(CODES, VALUES, strict=True)}
        return json.dumps({"columns": {"observed_at": moments, "values": values, "source": "device"}})

    def listed() -> str:
        samples = [
            {"observed_at": t.isoformat(), "parameter": p, "value": v, "source": "device"}
            for t in times("api")
            for p, v in zip(CODES, VALUES, strict=True)
        ]
        return json.dumps({"samples": samples})

    def baseline() -> None:
        rows = [
            (raw_run.pk, p, t, v, "device", t)  # type: ignore[attr-defined]
            for t in times("raw")
            for p, v in zip(CODES, VALUES, strict=True)
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (run_id, parameter, observed_at, value, source, received_at) "  # noqa: S608 - the model's own table name
                "VALUES (%s, %s, %s, %s, %s, %s)",
                rows,
            )

    per_batch = batch_seconds * len(CODES)
    results = []
    for form, body in (("columnar form", columnar), ("list form", listed)):
        run = start_run(f"BENCH-API-{form.split()[0].upper()}")
        # The client's JSON is built before timing (it is not the server's work); one untimed warm-up batch.
        bodies = [body() for _ in range(batches + 1)]
        post(run, bodies.pop())
        project_runs, baseline_runs = interleave(batches, lambda: post(run, bodies.pop()), baseline)  # noqa: B023
        rate = per_batch / statistics.median(project_runs)
        raw_rate = per_batch / statistics.median(baseline_runs)
        results.append(
            Result(
                f"POST samples in batches of {per_batch:,}, {form} (SQLite)",
                project_runs,
                baseline_runs,
                note=f"{rate:,.0f} samples/s through the API; raw executemany {raw_rate:,.0f} samples/s",
                goal="≥ 100,000 samples/s",
                figures={"project_samples_per_s": round(rate), "baseline_samples_per_s": round(raw_rate)},
            )
        )
    return results


def trends(quick: bool) -> Result:
    start_run, _, token = _setup()
    from django.db import transaction
    from django.test import Client

    from ecmo_web.surveillance.actions import insert_sample_rows
    from ecmo_web.surveillance.models import Sample

    run = start_run("BENCH-TRENDS")
    days = 7 if quick else 30
    # Through the write path every way in uses (samples and their minute and hour rollups, one transaction).
    with transaction.atomic():
        for day in range(days):
            base = START + dt.timedelta(days=day)
            rows = [
                (
                    run.pk,
                    code,
                    base + dt.timedelta(minutes=m),
                    value + (m % 13) / 10,
                    "device",
                    base,
                    None,
                    None,
                )  # type: ignore[attr-defined]
                for m in range(1440)
                for code, value in (
                    ("access_pressure_mmhg", -60),
                    ("blood_flow_l_min", 4.8),
                    ("pump_speed_rpm", 3400),
                )
            ]
            insert_sample_rows(rows)
    count = Sample.objects.filter(run=run).count()
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    until = (START + dt.timedelta(days=days)).isoformat().replace("+00:00", "Z")
    url = (
        f"/api/v1/runs/{run.pk}/trends?parameter=access_pressure_mmhg,blood_flow_l_min,pump_speed_rpm"  # type: ignore[attr-defined]
        f"&since=2026-01-01T00:00:00Z&until={until}&points=500"
    )
    points: list[int] = []

    def project() -> None:
        response = client.get(url, **headers)
        assert response.status_code == 200, response.content[:500]
        points[:] = [len(s["points"]) for s in response.json()["series"]]

    def baseline() -> None:
        response = client.get(f"/api/v1/runs/{run.pk}", **headers)  # type: ignore[attr-defined]
        assert response.status_code == 200

    project_runs, baseline_runs = interleave(5 if quick else 9, project, baseline)
    return Result(
        f"GET trends, 3 parameters over {days} day(s), points=500 (SQLite)",
        project_runs,
        baseline_runs,
        note=f"{count:,} samples stored; points returned per parameter: {points}",
        goal="< 200 ms, ≤ 500 points per parameter",
        figures={"samples_stored": count, "points_per_parameter": points},
    )
