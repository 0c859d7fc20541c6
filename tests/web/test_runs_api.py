"""The runs API (core-api §6).

- POST /api/v1/auth/token exchanges a username and password for a bearer token; wrong password is a 401
- GET /api/v1/runs lists only runs the caller may see; outsiders see none; researchers see none
- GET /api/v1/runs/{id}: configuration history, cannulas, circuits with components (age), MCS devices, targets;
  identifiers only for roles with patient.identify; another program's run is a 404; unknown id is a 404
- no credentials is a 401; a revoked token is a 401; session auth works and enforces CSRF on unsafe methods
- OpenAPI is served
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client

from ecmo_web.accounts.models import ApiToken
from ecmo_web.runs import actions
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import PASSWORD, T0


def _token(username: str) -> str:
    response = Client().post(
        "/api/v1/auth/token",
        json.dumps({"username": username, "password": PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200
    return str(response.json()["token"])


def _get(path: str, token: str) -> Any:
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_it_issues_tokens_only_for_correct_passwords(personas: dict[str, Any]) -> None:
    response = Client().post(
        "/api/v1/auth/token",
        json.dumps({"username": "perfusionist", "password": "nope"}),
        content_type="application/json",
    )
    assert response.status_code == 401 and response.json()["detail"] == "unknown username or wrong password"
    token = _token("perfusionist")
    stored = ApiToken.objects.get()
    assert token not in stored.digest and len(stored.digest) == 64


def test_it_lists_only_visible_runs(personas: dict[str, Any], run: EcmoRun) -> None:
    rows = _get("/api/v1/runs", _token("intensivist")).json()
    assert [r["patient_code"] for r in rows] == ["TEST-0001"] and rows[0]["mode"] == "vv"
    assert _get("/api/v1/runs", _token("outsider")).json() == []
    assert _get("/api/v1/runs", _token("researcher")).json() == []


def test_it_returns_the_run_detail(personas: dict[str, Any], run: EcmoRun, perfusionist: Any) -> None:
    actions.add_cannula(
        actor=perfusionist,
        run=run,
        purpose="dual_lumen",
        site="right_internal_jugular",
        size_fr=31,
        inserted_at=T0,
    )
    actions.install_component(
        actor=perfusionist, run=run, kind="oxygenator", maker="G", model="Oxy A", lot="LOT-1", installed_at=T0
    )
    actions.change_configuration(
        actor=perfusionist,
        run=run,
        mode="vav",
        started_at=T0 + dt.timedelta(days=1),
        reason="differential hypoxia",
    )
    device = actions.add_mcs_device(
        actor=perfusionist, run=run, kind="iabp", model="50 cc IABP", inserted_at=T0 + dt.timedelta(hours=2)
    )
    actions.record_mcs_setting(
        actor=perfusionist, device=device, at=T0 + dt.timedelta(hours=3), iabp_ratio="1:1"
    )
    actions.set_target(
        actor=personas["intensivist"],
        run=run,
        parameter="anti_xa_iu_ml",
        low=0.3,
        high=0.5,
        effective_from=T0,
        agent="ufh",
    )
    body = _get(f"/api/v1/runs/{run.pk}", _token("perfusionist")).json()
    assert [c["mode"] for c in body["configurations"]] == ["vv", "vav"]
    assert body["cannulas"][0]["size_fr"] == 31
    components = body["circuits"][0]["components"]
    assert components[0]["lot"] == "LOT-1" and components[0]["age_hours"] > 0
    assert body["mcs_devices"][0]["settings"][0]["iabp_ratio"] == "1:1"
    assert body["targets"][0] == {
        "parameter": "anti_xa_iu_ml",
        "low": 0.3,
        "high": 0.5,
        "agent": "ufh",
        "effective_from": "2026-11-20T10:00:00Z",
    }
    assert body["patient_identifiers"] == {"name": "Test Patient", "mrn": "TEST-MRN-1"}


def test_it_returns_404_outside_the_callers_programs(personas: dict[str, Any], run: EcmoRun) -> None:
    response = _get(f"/api/v1/runs/{run.pk}", _token("outsider"))
    assert response.status_code == 404 and response.json() == {"detail": "not found"}
    assert _get("/api/v1/runs/999999", _token("perfusionist")).status_code == 404


def test_it_returns_403_for_a_role_without_run_view(personas: dict[str, Any], run: EcmoRun) -> None:
    response = _get(f"/api/v1/runs/{run.pk}", _token("researcher"))
    assert response.status_code == 403 and "run.view" in response.json()["detail"]


def test_it_requires_credentials(personas: dict[str, Any], run: EcmoRun) -> None:
    assert Client().get("/api/v1/runs").status_code == 401
    assert _get("/api/v1/runs", "made-up-token").status_code == 401
    token = _token("perfusionist")
    ApiToken.objects.update(revoked=True)
    assert _get("/api/v1/runs", token).status_code == 401


def test_it_accepts_the_browser_session(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    client = client_for(personas["perfusionist"])
    assert client.get("/api/v1/runs").status_code == 200


def test_it_serves_openapi(db: Any) -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/runs/{run_id}" in schema["paths"]
