"""GET /api/v1/exports/research — the de-identified research dataset (HIPAA Safe Harbor).

- every one of the 18 Safe Harbor identifier classes, seeded into the fixtures, is absent from the extract;
- no date comes out: times are hours from cannulation; ages of 90 and over are "90+";
- the ZIP holds one CSV per table, a data dictionary describing every column, and a README;
- only the researcher and the director may run it; a research extract is served to the person who asked;
- every extract is logged (the job row and an audit event with the file's SHA-256).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from typing import Any

import pytest

from ecmo_core.exports import research
from ecmo_web.audit.models import AuditEvent
from ecmo_web.registry.models import ExportJob
from tests.web.registry_support import T0, build_run

# One value per Safe Harbor class (45 CFR §164.514(b)(2)(i) A–R), put where a careless export would leak it.
SEEDED = {
    "A name": "TEST-Zebedee Quarrington",
    "B address": "12 Elm Street, Springfield",
    "B zip": "90210",
    "C birth year (age 96)": "1930",
    "D telephone": "+1-555-0134",
    "E fax": "555-0188",
    "F email": "zq@example.org",
    "G social security": "078-05-1120",
    "H medical record": "TEST-MRN-555001",
    "I health plan": "HP-TEST-99812",
    "J account": "ACCT-TEST-4471",
    "K licence": "LIC-TEST-5521",
    "L vehicle": "1HGCM82633A004352",
    "M console serial": "TEST-CON-SN-8812",
    "M oxygenator serial": "TEST-OXY-SN-4410",
    "M lot": "TEST-LOT-O1",
    "N url": "https://photos.example.org/zq",
    "O ip address": "203.0.113.77",
    "P biometric": "TEST-FINGERPRINT-A1",
    "Q photograph": "zq-face-photo.jpg",
    "R other unique code": "TEST-UNIQ-7781",
}


@pytest.fixture
def seeded_run(program: Any, perfusionist: Any) -> Any:
    return build_run(
        program,
        perfusionist,
        code=SEEDED["R other unique code"],
        birth_year=int(SEEDED["C birth year (age 96)"]),
        identifiers={
            "name": SEEDED["A name"],
            "mrn": SEEDED["H medical record"],
            "national": SEEDED["G social security"],
        },
        serials=(SEEDED["M console serial"], SEEDED["M oxygenator serial"]),
        free_text={
            "location": f"{SEEDED['B address']} {SEEDED['B zip']}, car {SEEDED['L vehicle']}",
            "indication_detail": f"fax {SEEDED['E fax']}, photo {SEEDED['Q photograph']}",
            "reason": f"family email {SEEDED['F email']}",
            "tip_position": f"plan {SEEDED['I health plan']}",
            "reason_replaced": f"account {SEEDED['J account']} from {SEEDED['O ip address']}",
            "check_notes": f"call {SEEDED['D telephone']}, licence {SEEDED['K licence']}, see {SEEDED['N url']}",
            "pump_model": SEEDED["P biometric"],
        },
    )


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path


def _extract(response: Any) -> dict[str, str]:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {name: archive.read(name).decode() for name in archive.namelist()}


def test_it_lets_no_safe_harbor_identifier_out(
    seeded_run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    response = client_for(personas["researcher"]).get("/api/v1/exports/research")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    files = _extract(response)
    everything = "\n".join(files.values())
    for kind, value in SEEDED.items():
        assert value not in everything, f"{kind} leaked"
    data = "\n".join(text for name, text in files.items() if name.endswith(".csv"))
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}", data), "a date leaked"


def test_it_reports_times_from_cannulation_and_groups_ages_over_89(
    seeded_run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    files = _extract(client_for(personas["director"]).get("/api/v1/exports/research"))
    runs = list(csv.DictReader(io.StringIO(files["runs.csv"])))
    assert len(runs) == 1
    assert runs[0]["age_years"] == "90+"  # born 1930, cannulated 2026: 96
    assert runs[0]["cannulation_year"] == str(T0.year)
    assert runs[0]["duration_hours"] == "72.0"
    assert runs[0]["patient_id"].startswith("P-") and runs[0]["run_id"].startswith("R-")
    modes = list(csv.DictReader(io.StringIO(files["configurations.csv"])))
    assert [(m["mode"], m["start_hours"], m["end_hours"]) for m in modes] == [
        ("va", "0.0", "30.0"),
        ("vav", "30.0", "72.0"),
    ]
    labs = {row["parameter"]: row for row in csv.DictReader(io.StringIO(files["labs.csv"]))}
    assert labs["arterial_ph"]["hours"] == "-1.0"  # the pre-ECMO gas, an hour before flow
    components = list(csv.DictReader(io.StringIO(files["components.csv"])))
    oxygenators = [c for c in components if c["kind"] == "oxygenator"]
    assert {(c["maker"], c["model"]) for c in oxygenators} == {("Getinge", "HLS 7.0")}  # catalogued: kept
    assert next(c for c in components if c["kind"] == "pump_head")["model"] == ""  # typed by hand: dropped


def test_it_ships_a_data_dictionary_for_every_column(
    seeded_run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    files = _extract(client_for(personas["researcher"]).get("/api/v1/exports/research"))
    described = {
        (row["table"], row["column"]) for row in csv.DictReader(io.StringIO(files["data_dictionary.csv"]))
    }
    for table in research.TABLES:
        header = files[f"{table}.csv"].splitlines()[0].split(",")
        assert {(table, column) for column in header} <= described
    assert "Safe Harbor" in files["README.txt"]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("researcher", 200),
        ("director", 200),
        ("quality", 403),
        ("perfusionist", 403),
        ("outsider", 403),
        ("nobody", 403),
    ],
)
def test_it_is_only_for_the_researcher_and_the_director(
    seeded_run: Any, personas: dict[str, Any], client_for: Any, who: str, status: int
) -> None:
    response = client_for(personas[who]).get("/api/v1/exports/research")
    assert response.status_code == status
    if response.streaming:  # read the file to the end, which closes it
        assert b"".join(response.streaming_content)[:2] == b"PK"


def test_it_logs_every_extract_and_serves_it_only_to_who_asked(
    seeded_run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    response = client_for(personas["researcher"]).get("/api/v1/exports/research")
    body = b"".join(response.streaming_content)
    job = ExportJob.objects.get(kind="research")
    assert job.requested_by == personas["researcher"]
    assert job.status == "done" and job.row_counts["runs"] == 1
    assert job.result_sha256 == hashlib.sha256(body).hexdigest()
    event = AuditEvent.objects.get(action="export.completed")
    assert event.after["sha256"] == job.result_sha256
    assert client_for(personas["director"]).get(f"/api/v1/jobs/{job.pk}/result").status_code == 404
    again = client_for(personas["researcher"]).get(f"/api/v1/jobs/{job.pk}/result")
    assert b"".join(again.streaming_content) == body
