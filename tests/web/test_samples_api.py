"""POST and GET /api/v1/runs/{run_id}/samples (core-api §6).

- a batch of samples is stored and counted; sending it again adds nothing (idempotent on run, parameter,
  observed_at, source); a repeated batch_ref adds nothing either
- a bad value is a 400 naming samples[i].value, the parameter and its accepted range ("fraction" for FdO2 = 100);
  an unknown code, a naive time, a time outside the run are 400s too; nothing of the batch is stored
- one audit event per batch, not per sample; the run is evaluated (a bubble opens an air alert)
- GET filters by parameter, source, since and until
- a run of another program is a 404; a role without sample.ingest gets a 403; CSRF applies to the session;
  a bearer token works without CSRF
- the columnar form (one list of times, a list of values per parameter, null for none) stores the same samples;
  its errors name columns.observed_at[i] or columns.values.<code>[i] with the accepted range, nothing stored;
  lists of unequal length, both forms or neither are refused
- a large batch (COPY on PostgreSQL) is stored in one go and its evaluation queued, not run in the request
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from django.test import Client

from ecmo_web.accounts.models import ApiToken
from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.models import Alert, EvaluationRequest, Sample, SampleRollup
from tests.web.conftest import T0
from tests.web.surveil_support import post_json


def _batch(n: int = 3, parameter: str = "blood_flow_l_min", value: float = 4.8) -> list[dict[str, Any]]:
    return [
        {
            "observed_at": (T0 + dt.timedelta(minutes=i)).isoformat(),
            "parameter": parameter,
            "value": value,
            "source": "device",
        }
        for i in range(n)
    ]


def test_it_stores_a_batch_and_adds_nothing_when_it_is_sent_again(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    url = f"/api/v1/runs/{run.pk}/samples"
    first = post_json(client, url, {"samples": _batch()})
    assert first.status_code == 200, first.content
    assert first.json()["created"] == 3 and first.json()["duplicates"] == 0
    again = post_json(client, url, {"samples": _batch()})
    assert again.json() == {**again.json(), "created": 0, "duplicates": 3}
    assert Sample.objects.filter(run=run).count() == 3


def test_it_treats_another_source_as_another_sample(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    client = client_for(perfusionist)
    url = f"/api/v1/runs/{run.pk}/samples"
    post_json(client, url, {"samples": _batch(1)})
    check = [{**_batch(1)[0], "source": "check"}]
    assert post_json(client, url, {"samples": check}).json()["created"] == 1
    assert set(Sample.objects.filter(run=run).values_list("source", flat=True)) == {"device", "check"}


def test_it_adds_nothing_for_a_repeated_batch_ref(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    client = client_for(perfusionist)
    url = f"/api/v1/runs/{run.pk}/samples"
    post_json(client, url, {"samples": _batch(2), "batch_ref": "GW|MSG1"})
    response = post_json(client, url, {"samples": _batch(3), "batch_ref": "GW|MSG1"})
    assert response.json()["created"] == 0
    assert Sample.objects.filter(run=run).count() == 2


def test_it_names_the_sample_the_parameter_and_the_range_for_a_bad_value(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    batch = [*_batch(2), {"observed_at": T0.isoformat(), "parameter": "fdo2", "value": 100}]
    response = post_json(client, f"/api/v1/runs/{run.pk}/samples", {"samples": batch})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert list(detail) == ["samples[2].value"]
    assert "fdo2" in detail["samples[2].value"][0] and "fraction" in detail["samples[2].value"][0]
    assert not Sample.objects.filter(run=run).exists()  # nothing of the batch is stored


def test_it_gives_the_accepted_range_and_unit(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    batch = [{"observed_at": T0.isoformat(), "parameter": "access_pressure_mmhg", "value": -900}]
    response = post_json(client_for(perfusionist), f"/api/v1/runs/{run.pk}/samples", {"samples": batch})
    message = response.json()["detail"]["samples[0].value"][0]
    assert "access_pressure_mmhg" in message and "-500" in message and "mmHg" in message


def test_it_refuses_unknown_codes_naive_times_and_times_outside_the_run(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    url = f"/api/v1/runs/{run.pk}/samples"
    bad = [
        {"observed_at": T0.isoformat(), "parameter": "flow", "value": 4},
        {"observed_at": "2026-11-20T10:00:00", "parameter": "blood_flow_l_min", "value": 4},
        {"observed_at": "2020-01-01T00:00:00Z", "parameter": "blood_flow_l_min", "value": 4},
        {"observed_at": "yesterday", "parameter": "blood_flow_l_min", "value": 4},
        {"observed_at": T0.isoformat(), "parameter": "blood_flow_l_min", "value": "4,2"},
    ]
    response = post_json(client, url, {"samples": bad})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert set(detail) == {
        "samples[0].parameter",
        "samples[1].observed_at",
        "samples[2].observed_at",
        "samples[3].observed_at",
        "samples[4].value",
    }
    assert "unknown parameter code" in detail["samples[0].parameter"][0]
    assert "time zone" in detail["samples[1].observed_at"][0]


def test_it_writes_one_audit_event_per_batch(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    before = AuditEvent.objects.filter(action="samples.ingested").count()
    post_json(client_for(perfusionist), f"/api/v1/runs/{run.pk}/samples", {"samples": _batch(50)})
    events = AuditEvent.objects.filter(action="samples.ingested")
    assert events.count() == before + 1
    assert events.last().after["created"] == 50  # type: ignore[union-attr]


def test_it_evaluates_the_run(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    batch = [{"observed_at": T0.isoformat(), "parameter": "bubble_detected", "value": 1}]
    with time_machine.travel(T0 + dt.timedelta(seconds=30), tick=False):
        response = post_json(client_for(perfusionist), f"/api/v1/runs/{run.pk}/samples", {"samples": batch})
    assert response.json()["transitions"] >= 1
    alert = Alert.objects.get(run=run, rule_id="air.detected")
    assert alert.severity == "critical" and alert.status == "firing"


def test_it_filters_on_get(
    run: EcmoRun, perfusionist: Any, personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for(perfusionist)
    url = f"/api/v1/runs/{run.pk}/samples"
    post_json(client, url, {"samples": _batch(5) + _batch(5, "pump_speed_rpm", 3400)})
    auditor = client_for(personas["auditor"])
    rows = auditor.get(
        url,
        {
            "parameter": "pump_speed_rpm",
            "since": (T0 + dt.timedelta(minutes=1)).isoformat(),
            "until": (T0 + dt.timedelta(minutes=3)).isoformat(),
        },
    ).json()
    assert [r["value"] for r in rows] == [3400, 3400, 3400]
    assert rows[0]["observed_at"].startswith("2026-11-20T10:01")
    assert auditor.get(url, {"since": "not a time"}).status_code == 400


def test_it_hides_other_programs_and_checks_the_role(
    run: EcmoRun, personas: dict[str, Any], client_for: Any
) -> None:
    url = f"/api/v1/runs/{run.pk}/samples"
    assert post_json(client_for(personas["outsider"]), url, {"samples": _batch(1)}).status_code == 404
    assert client_for(personas["outsider"]).get(url).status_code == 404
    assert post_json(client_for(personas["pharmacist"]), url, {"samples": _batch(1)}).status_code == 403
    assert client_for(personas["researcher"]).get(url).status_code == 403
    assert post_json(client_for(personas["bedside_nurse"]), url, {"samples": _batch(1)}).status_code == 200


def test_it_enforces_csrf_on_the_session_and_accepts_a_bearer_token(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    url = f"/api/v1/runs/{run.pk}/samples"
    no_token = client_for(perfusionist).post(url, {"samples": _batch(1)}, content_type="application/json")
    assert no_token.status_code in (401, 403)
    _, raw = ApiToken.issue(perfusionist)
    api = Client(enforce_csrf_checks=True)
    response = api.post(
        url, {"samples": _batch(1)}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert response.status_code == 200 and response.json()["created"] == 1


def _columns(times: int, **values: list[Any]) -> dict[str, Any]:
    moments = [(T0 + dt.timedelta(seconds=i)).isoformat() for i in range(times)]
    return {"columns": {"observed_at": moments, "values": values}}


def test_it_accepts_the_columnar_form(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    url = f"/api/v1/runs/{run.pk}/samples"
    body = _columns(3, blood_flow_l_min=[4.8, None, 4.6], fdo2=[1.0, 0.9, 0.8])
    response = post_json(client_for(perfusionist), url, body)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 5
    stored = sorted(Sample.objects.filter(run=run).values_list("parameter", "observed_at", "value"))
    assert stored[:2] == [
        ("blood_flow_l_min", T0, 4.8),
        ("blood_flow_l_min", T0 + dt.timedelta(seconds=2), 4.6),
    ]
    assert post_json(client_for(perfusionist), url, body).json()["duplicates"] == 5


def test_it_names_the_column_and_row_of_a_bad_value(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    url = f"/api/v1/runs/{run.pk}/samples"
    body = _columns(3, blood_flow_l_min=[4.8, 40.0, 4.6], fdo2=[1.0, 0.9, 100])
    body["columns"]["observed_at"][2] = "2026-01-01T10:00:00"  # no time zone
    response = post_json(client_for(perfusionist), url, body)
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert set(detail) == {"columns.values.blood_flow_l_min[1]", "columns.observed_at[2]"}
    assert "accepted 0 to 10 L/min" in detail["columns.values.blood_flow_l_min[1]"][0]
    assert "time zone" in detail["columns.observed_at[2]"][0]
    body = _columns(2, fdo2=[1.0, 100], bogus_code=[1, None])
    detail = post_json(client_for(perfusionist), url, body).json()["detail"]
    assert "fraction" in detail["columns.values.fdo2[1]"][0]
    assert "unknown parameter code" in detail["columns.values.bogus_code"][0]
    assert not Sample.objects.filter(run=run).exists()


def test_it_refuses_unequal_columns_or_both_forms(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    url = f"/api/v1/runs/{run.pk}/samples"
    client = client_for(perfusionist)
    short = post_json(client, url, _columns(3, blood_flow_l_min=[4.8, 4.7]))
    assert short.status_code == 400
    assert "2 values for 3 times" in short.json()["detail"]["columns.values.blood_flow_l_min"][0]
    both = post_json(client, url, {**_columns(1, blood_flow_l_min=[4.8]), "samples": _batch(1)})
    assert both.status_code == 400 and "either" in both.json()["detail"]["samples"][0]
    assert post_json(client, url, {}).status_code == 400
    assert not Sample.objects.filter(run=run).exists()


def test_it_stores_a_large_batch_and_queues_its_evaluation(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    url = f"/api/v1/runs/{run.pk}/samples"
    codes = {"blood_flow_l_min": 4.8, "pump_speed_rpm": 3400.0, "access_pressure_mmhg": -60.0, "fdo2": 1.0}
    body = _columns(600, **{code: [value] * 600 for code, value in codes.items()})  # 2,400 samples
    response = post_json(client_for(perfusionist), url, body)
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 2400, "duplicates": 0, "transitions": 0, "evaluated": False}
    assert Sample.objects.filter(run=run).count() == 2400
    hourly = SampleRollup.objects.filter(run=run, width_s=3600)  # COPY-written rows are rolled up too
    assert sum(r.n for r in hourly) == 2400 and {r.parameter for r in hourly} == set(codes)
    assert EvaluationRequest.objects.get(run=run).pending
    assert EvaluationRequest.objects.get(run=run).replay_from == T0
    again = post_json(client_for(perfusionist), url, body)
    assert again.json()["created"] == 0 and again.json()["duplicates"] == 2400
