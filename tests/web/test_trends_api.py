"""GET /api/v1/runs/{run_id}/trends (core-api §6): at most N points per parameter, for charts over any span.

- every role of the program with run.view may read a run's trends, one without it gets a 403; a run of another
  program (or of none) is a 404; no sign-in is a 401
- a few samples come back as they are, in time order, with the parameter's label and unit
- many samples (pre-aggregated in SQL) come back as at most ``points`` points per parameter, and a one-sample
  spike survives; several ``parameter=`` (or commas) give several series; an empty span gives no points
- since/until limit the span (default: the run's start to now)
- bad input is a 400 naming the field: no or unknown parameter, points outside 2–10000 or not a number, a time
  that is not ISO 8601 or has no offset, since not before until
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client

from ecmo_web.accounts.models import Role
from ecmo_web.permissions import MATRIX
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.actions import insert_sample_rows
from tests.web.conftest import T0

URL = "/api/v1/runs/{}/trends"
S = dt.timedelta(seconds=1)


def store(
    run: EcmoRun, parameter: str, values: list[float], every: dt.timedelta = S, start: dt.datetime = T0
) -> None:
    rows = [
        (run.pk, parameter, start + i * every, v, "console", T0, None, None) for i, v in enumerate(values)
    ]
    insert_sample_rows(rows)  # the way every write path stores samples, with their rollups


def get(client: Client, run: EcmoRun, query: str) -> Any:
    return client.get(f"{URL.format(run.pk)}?{query}")


@pytest.mark.parametrize("role", Role.values)
def test_it_lets_each_role_with_run_view_read_trends(
    role: str, run: EcmoRun, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    store(run, "blood_flow_l_min", [4.8, 4.9])
    response = get(client_for(personas[role]), run, "parameter=blood_flow_l_min&until=2026-11-20T11:00:00Z")
    if "run.view" not in MATRIX[role]:
        assert response.status_code == 403  # e.g. the researcher, who sees de-identified exports only
        return
    assert response.status_code == 200
    assert response.json()["series"][0]["samples"] == 2


def test_it_hides_a_run_of_another_program_and_needs_a_sign_in(
    run: EcmoRun, personas: dict[str, Any], client_for: Callable[[Any], Client]
) -> None:
    assert get(client_for(personas["outsider"]), run, "parameter=blood_flow_l_min").status_code == 404
    assert get(client_for(personas["nobody"]), run, "parameter=blood_flow_l_min").status_code == 404
    assert get(Client(), run, "parameter=blood_flow_l_min").status_code == 401


def test_it_returns_a_few_samples_as_they_are(
    run: EcmoRun, perfusionist: Any, client_for: Callable[[Any], Client]
) -> None:
    store(run, "access_pressure_mmhg", [-60, -65, -130], every=dt.timedelta(minutes=1))
    body = get(
        client_for(perfusionist), run, "parameter=access_pressure_mmhg&until=2026-11-20T12:00:00Z"
    ).json()
    assert body["points"] == 500 and body["since"].startswith("2026-11-20T10:00")
    (series,) = body["series"]
    assert (series["parameter"], series["label"], series["unit"], series["samples"]) == (
        "access_pressure_mmhg",
        "access (pre-pump) pressure",
        "mmHg",
        3,
    )
    assert [(p["at"][:19], p["value"]) for p in series["points"]] == [
        ("2026-11-20T10:00:00", -60),
        ("2026-11-20T10:01:00", -65),
        ("2026-11-20T10:02:00", -130),
    ]


def test_it_caps_many_samples_at_n_points_per_parameter_and_keeps_a_spike(
    run: EcmoRun, perfusionist: Any, client_for: Callable[[Any], Client]
) -> None:
    access = [-60.0] * 6000
    access[4321] = -190.0  # one chatter reading among 6000
    store(run, "access_pressure_mmhg", access)
    store(run, "blood_flow_l_min", [4.8 + (i % 7) / 100 for i in range(3000)], every=2 * S)
    query = "parameter=access_pressure_mmhg,blood_flow_l_min&since=2026-11-20T10:00:00Z&until=2026-11-20T11:40:00Z"
    body = get(client_for(perfusionist), run, query + "&points=40").json()
    counts = {s["parameter"]: (s["samples"], len(s["points"])) for s in body["series"]}
    assert counts["access_pressure_mmhg"][0] == 6000 and counts["blood_flow_l_min"][0] == 3000
    assert all(0 < n <= 40 for _, n in counts.values())
    access_points = body["series"][0]["points"]
    assert min(p["value"] for p in access_points) == -190.0
    assert [p["at"] for p in access_points] == sorted(p["at"] for p in access_points)


def test_it_limits_the_span_and_takes_several_parameter_arguments(
    run: EcmoRun, perfusionist: Any, client_for: Callable[[Any], Client]
) -> None:
    store(run, "blood_flow_l_min", [4.0, 4.1, 4.2, 4.3], every=dt.timedelta(hours=1))
    query = "parameter=blood_flow_l_min&parameter=pump_speed_rpm&since=2026-11-20T11:00:00Z&until=2026-11-20T12:00:00Z"
    body = get(client_for(perfusionist), run, query).json()
    assert [(s["parameter"], [p["value"] for p in s["points"]]) for s in body["series"]] == [
        ("blood_flow_l_min", [4.1, 4.2]),
        ("pump_speed_rpm", []),
    ]
    with time_machine.travel(T0 + dt.timedelta(hours=2, minutes=30), tick=False):
        defaults = get(client_for(perfusionist), run, "parameter=blood_flow_l_min").json()
    assert defaults["until"].startswith("2026-11-20T12:30") and len(defaults["series"][0]["points"]) == 3


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("", "parameter", "at least one parameter"),
        ("parameter=flow", "parameter", "unknown parameter code 'flow'"),
        ("parameter=fdo2&points=1", "points", "from 2 to 10000"),
        ("parameter=fdo2&points=ten", "points", "whole number"),
        ("parameter=fdo2&since=yesterday", "since", "ISO 8601"),
        ("parameter=fdo2&until=2026-11-20T10:00:00", "until", "UTC offset"),
        ("parameter=fdo2&since=2026-11-21T10:00:00Z&until=2026-11-20T10:00:00Z", "since", "before until"),
    ],
)
def test_it_names_the_bad_field(
    query: str, field: str, words: str, run: EcmoRun, perfusionist: Any, client_for: Callable[[Any], Client]
) -> None:
    response = get(client_for(perfusionist), run, query)
    assert response.status_code == 400
    assert words in response.json()["detail"][field][0]
