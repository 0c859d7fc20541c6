"""GET /api/v1/exports/elso — the ELSO registry export, its completeness check and the submission log.

- JSON: one structured record per run (patient, pre-ECLS gases, modes with times, cannulation, equipment,
  concurrent MCS, outcome) with its completeness; CSV: one row per run, one column per ELSO field;
- the completeness check lists the mandatory fields a run lacks (a run without weight and pre-ECLS blood gas is
  flagged; a complete run is not);
- the submission log records which runs were sent, in which file (SHA-256), when and by whom; a file is logged
  once;
- export.registry only (quality yes; researcher, nurse no).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from ecmo_web.audit.models import AuditEvent
from ecmo_web.registry.models import ExportJob, RegistrySubmission
from tests.web.registry_support import build_run


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path


@pytest.fixture
def runs(program: Any, perfusionist: Any) -> tuple[Any, Any]:
    complete = build_run(program, perfusionist)
    lacking = build_run(
        program, perfusionist, code="TEST-0102", weight_kg=None, pre_ecmo_gas=False, end=False
    )
    return complete, lacking


def _post(client: Any, url: str, data: dict[str, Any]) -> Any:
    token = "k" * 32  # what a page's csrf_token would have set as the cookie
    client.cookies["csrftoken"] = token
    return client.post(url, data, content_type="application/json", HTTP_X_CSRFTOKEN=token)


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_it_exports_the_structured_form(
    runs: tuple[Any, Any], personas: dict[str, Any], client_for: Any
) -> None:
    response = client_for(personas["quality"]).get("/api/v1/exports/elso")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = json.loads(_body(response))
    assert [f["key"] for f in data["fields"]][:3] == ["patient_id", "sex", "birth_year"]
    record = next(r["record"] for r in data["runs"] if r["record"]["run_id"] == runs[0].pk)
    assert record["support_type"] == "cardiac" and record["initial_mode"] == "V-A"
    assert record["mode_changes"] == [
        {"mode": "V-AV", "start": "2026-11-21T16:00:00+00:00", "stop": "2026-11-23T10:00:00+00:00"}
    ]
    assert (record["pre_ecls_ph"], record["pre_ecls_paco2_mmhg"], record["pre_ecls_pao2_mmhg"]) == (
        7.18,
        52,
        61,
    )
    assert {(c["site"], c["size_fr"]) for c in record["cannulations"]} == {
        ("right_femoral_vein", 25),
        ("left_femoral_artery", 17),
    }
    assert record["oxygenator"] == {"maker": "Getinge", "model": "HLS 7.0"}
    assert [e["reason_replaced"] for e in record["equipment"] if e["kind"] == "oxygenator"] == [
        "Rising ΔP",
        "run ended",
    ]
    assert record["concurrent_mcs"][0]["kind"] == "impella"
    assert (record["discontinuation_reason"], record["survived_ecls"], record["discharged_alive"]) == (
        "expected_recovery",
        True,
        True,
    )
    assert "TEST-MRN-0101" not in json.dumps(data)  # the registry gets the program's pseudonym, not the MRN


def test_it_exports_one_csv_row_per_run(
    runs: tuple[Any, Any], personas: dict[str, Any], client_for: Any
) -> None:
    response = client_for(personas["director"]).get("/api/v1/exports/elso?format=csv")
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(_body(response).decode())))
    assert [r["patient_id"] for r in rows] == ["TEST-0101", "TEST-0102"]
    assert rows[0]["weight_kg"] == "82.0" and rows[1]["weight_kg"] == ""
    assert rows[0]["pump"] == "Getinge HLS pump"


def test_it_flags_a_run_that_lacks_a_mandatory_field(
    runs: tuple[Any, Any], personas: dict[str, Any], client_for: Any
) -> None:
    found = client_for(personas["quality"]).get("/api/v1/exports/elso/completeness").json()
    by_run = {c["run_id"]: c for c in found}
    assert by_run[runs[0].pk] == {
        "run_id": runs[0].pk,
        "patient_id": "TEST-0101",
        "complete": True,
        "missing": [],
    }
    lacking = by_run[runs[1].pk]
    assert lacking["complete"] is False
    assert [m["field"] for m in lacking["missing"]] == [
        "weight_kg",
        "pre_ecls_ph",
        "pre_ecls_paco2_mmhg",
        "pre_ecls_pao2_mmhg",
    ]  # an ongoing run owes no stop time or outcome yet


def test_it_shows_the_completeness_check_on_the_exports_page(
    runs: tuple[Any, Any], personas: dict[str, Any], client_for: Any, program: Any
) -> None:
    page = client_for(personas["director"]).get(f"/programs/{program.pk}/exports/").content.decode()
    assert "1 of 2 runs incomplete" in page
    assert "Weight (kg); Pre-ECLS arterial pH" in page


def test_it_logs_a_submission_once(runs: tuple[Any, Any], personas: dict[str, Any], client_for: Any) -> None:
    client = client_for(personas["quality"])
    _body(client.get(f"/api/v1/exports/elso?run_id={runs[0].pk}"))
    job = ExportJob.objects.get()
    response = _post(client, f"/api/v1/jobs/{job.pk}/submission", {"note": "uploaded to the ELSO portal"})
    assert response.status_code == 201, response.content
    [submission] = RegistrySubmission.objects.all()
    assert (submission.run, submission.submitted_by, submission.file_sha256) == (
        runs[0],
        personas["quality"],
        job.result_sha256,
    )
    assert AuditEvent.objects.filter(action="registry.submitted").count() == 1
    again = _post(client, f"/api/v1/jobs/{job.pk}/submission", {})
    assert again.status_code == 400
    assert "already" in again.json()["detail"]["job"][0]
    log = client.get("/api/v1/exports/elso/submissions").json()
    assert [(s["run_id"], s["submitted_by"]) for s in log] == [(runs[0].pk, "quality")]


@pytest.mark.parametrize(("who", "status"), [("quality", 200), ("researcher", 403), ("bedside_nurse", 403)])
def test_it_needs_the_registry_export_permission(
    runs: tuple[Any, Any], personas: dict[str, Any], client_for: Any, who: str, status: int
) -> None:
    response = client_for(personas[who]).get("/api/v1/exports/elso/completeness")
    assert response.status_code == status


def test_it_refuses_a_bad_format_naming_the_field(
    runs: tuple[Any, Any], personas: dict[str, Any], client_for: Any
) -> None:
    response = client_for(personas["quality"]).get("/api/v1/exports/elso?format=xml")
    assert response.status_code == 400
    assert response.json() == {"detail": {"format": ["must be json or csv"]}}
    assert not ExportJob.objects.exists()
