"""GET /api/v1/exports/ecls-cdm — the ECLS CDM (OMOP extension) tables, one CSV per table in a ZIP.

- the CSVs load into DuckDB tables created with the ECLS CDM DDL (NOT NULL constraints kept) and the OMOP tables
  they hang from, and read back as the run was recorded (round trip);
- standard concept ids are used where the ECLS CDM names one (mode, flow direction, site, laterality, component
  type, stop reason);
- it needs export.registry: the researcher and the bedside nurse are refused.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ecmo_core.exports import ecls_cdm
from tests.web.registry_support import build_run

# ECLS CDM DDL (github.com/ecls-cdm/cdm ddl/postgres/01_add_tables.sql; ids supplied by the export instead of
# generated) and the OMOP CDM 5.4 columns of person, visit_occurrence and condition_occurrence that the export
# fills.
DDL = """
CREATE TABLE person (person_id integer PRIMARY KEY, gender_concept_id integer NOT NULL, year_of_birth integer,
  race_concept_id integer NOT NULL, ethnicity_concept_id integer NOT NULL, person_source_value text,
  gender_source_value text);
CREATE TABLE visit_occurrence (visit_occurrence_id integer PRIMARY KEY, person_id integer NOT NULL,
  visit_concept_id integer NOT NULL, visit_start_date date NOT NULL, visit_start_datetime timestamptz,
  visit_end_date date, visit_end_datetime timestamptz, visit_type_concept_id integer NOT NULL);
CREATE TABLE condition_occurrence (condition_occurrence_id integer PRIMARY KEY, person_id integer NOT NULL,
  condition_concept_id integer NOT NULL, condition_start_date date NOT NULL, condition_start_datetime timestamptz,
  condition_type_concept_id integer NOT NULL, visit_occurrence_id integer, condition_source_value text);
CREATE TABLE ecls_run (run_id integer PRIMARY KEY, start_datetime timestamptz NOT NULL,
  stop_datetime timestamptz, person_id integer NOT NULL, visit_occurrence_id integer NOT NULL,
  visit_detail_id integer, urgency_concept_id integer NOT NULL, start_reason_concept_id integer NOT NULL,
  stop_reason_concept_id integer);
CREATE TABLE ecls_circuit (circuit_id integer PRIMARY KEY, start_datetime timestamptz NOT NULL,
  stop_datetime timestamptz, person_id integer NOT NULL, run_id integer NOT NULL,
  tubing_size_in_inches numeric(5, 4) NOT NULL, priming_solution_concept_id integer NOT NULL,
  stop_reason_concept_id integer);
CREATE TABLE ecls_mode (mode_id integer PRIMARY KEY, start_datetime timestamptz NOT NULL,
  stop_datetime timestamptz, person_id integer NOT NULL, circuit_id integer NOT NULL,
  mode_concept_id integer NOT NULL);
CREATE TABLE ecls_blood_pump (blood_pump_id integer PRIMARY KEY, start_datetime timestamptz NOT NULL,
  stop_datetime timestamptz, person_id integer NOT NULL, stop_reason_concept_id integer,
  material_id integer NOT NULL, sn text, lot text, ref text, udi text);
CREATE TABLE ecls_cannula (cannula_id integer PRIMARY KEY, start_datetime timestamptz NOT NULL,
  stop_datetime timestamptz, person_id integer NOT NULL, flow_direction_concept_id integer NOT NULL,
  location_concept_id integer NOT NULL, laterality_concept_id integer, insertion_concept_id integer NOT NULL,
  insertion_length_in_centimeters integer NOT NULL, tip_position_concept_id integer NOT NULL,
  tip_position_laterality_concept_id integer, removal_concept_id integer, stop_reason_concept_id integer,
  material_id integer NOT NULL, sn text, lot text, ref text, udi text);
CREATE TABLE ecls_console (console_id integer PRIMARY KEY, start_datetime timestamptz NOT NULL,
  stop_datetime timestamptz, person_id integer NOT NULL, stop_reason_concept_id integer,
  material_id integer NOT NULL, sn text, lot text, ref text, udi text);
CREATE TABLE ecls_membrane_lung (membrane_lung_id integer PRIMARY KEY, start_datetime timestamptz NOT NULL,
  stop_datetime timestamptz, person_id integer NOT NULL, priming_solution_concept_id integer NOT NULL,
  stop_reason_concept_id integer, material_id integer NOT NULL, sn text, lot text, ref text, udi text);
CREATE TABLE ecls_temperature_regulation_device (temperature_regulation_device_id integer PRIMARY KEY,
  start_datetime timestamptz NOT NULL, stop_datetime timestamptz, person_id integer NOT NULL,
  stop_reason_concept_id integer, material_id integer NOT NULL, sn text, lot text, ref text, udi text);
CREATE TABLE ecls_circuit_component (circuit_component_id integer PRIMARY KEY,
  start_datetime timestamptz NOT NULL, stop_datetime timestamptz, person_id integer NOT NULL,
  circuit_id integer NOT NULL, component_type_concept_id integer NOT NULL, component_id integer NOT NULL);
CREATE TABLE ecls_blood_pump_material (material_id integer PRIMARY KEY, name text NOT NULL,
  manufacturer text NOT NULL, type_concept_id integer NOT NULL, ref text, udi text);
CREATE TABLE ecls_cannula_material (material_id integer PRIMARY KEY, name text NOT NULL,
  manufacturer text NOT NULL, type_concept_id integer NOT NULL, diameter_in_french integer NOT NULL,
  length_in_centimeters integer NOT NULL, coating text, ref text, udi text);
CREATE TABLE ecls_console_material (material_id integer PRIMARY KEY, name text NOT NULL,
  manufacturer text NOT NULL, type_concept_id integer NOT NULL, ref text, udi text);
CREATE TABLE ecls_membrane_lung_material (material_id integer PRIMARY KEY, name text NOT NULL,
  manufacturer text NOT NULL, type_concept_id integer NOT NULL, coating text, ref text, udi text);
CREATE TABLE ecls_temperature_regulation_device_material (material_id integer PRIMARY KEY, name text NOT NULL,
  manufacturer text NOT NULL, type_concept_id integer NOT NULL, ref text, udi text);
"""


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path


@pytest.fixture
def loaded(program: Any, perfusionist: Any, personas: dict[str, Any], client_for: Any, tmp_path: Path) -> Any:
    run = build_run(program, perfusionist)
    build_run(program, perfusionist, code="TEST-0102", end=False)
    response = client_for(personas["quality"]).get("/api/v1/exports/ecls-cdm")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    database = duckdb.connect(":memory:")
    database.execute("SET TimeZone = 'UTC'")
    database.execute(DDL)
    for table in ecls_cdm.TABLES:
        path = tmp_path / f"{table}.csv"
        path.write_bytes(archive.read(f"{table}.csv"))
        database.execute(f"COPY {table} FROM '{path}' (HEADER true)")
    return run, database


def test_it_loads_every_table_into_duckdb(loaded: Any) -> None:
    _, database = loaded
    counts = {t: database.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ecls_cdm.TABLES}  # noqa: S608
    assert counts["person"] == 2 and counts["ecls_run"] == 2 and counts["visit_occurrence"] == 2
    assert counts["ecls_circuit"] == 2
    assert counts["ecls_membrane_lung"] == 4  # two oxygenators on each run
    assert counts["ecls_cannula"] == 4
    assert counts["ecls_membrane_lung_material"] == 1  # the catalogued HLS 7.0, met four times


def test_it_round_trips_the_run(loaded: Any) -> None:
    run, database = loaded
    row = database.execute(
        "SELECT epoch(r.start_datetime), epoch(r.stop_datetime), r.stop_reason_concept_id, r.start_reason_concept_id, "
        "p.year_of_birth, p.gender_concept_id FROM ecls_run r JOIN person p USING (person_id) WHERE run_id = ?",
        [run.pk],
    ).fetchone()
    assert row[0] == run.started_at.timestamp() and row[1] == run.ended_at.timestamp()
    assert row[2] == 4149524  # weaned: "Patient's condition improved"
    assert row[3] == 134057  # cardiac indication: "Disorder of cardiovascular system"
    assert row[4:] == (1968, 8532)
    modes = database.execute(
        "SELECT m.mode_concept_id, epoch(m.start_datetime), epoch(m.stop_datetime) FROM ecls_mode m "
        "JOIN ecls_circuit c USING (circuit_id) WHERE c.run_id = ? ORDER BY m.start_datetime",
        [run.pk],
    ).fetchall()
    assert [m[0] for m in modes] == [37206601, 36717792]  # V-A, then V-AV
    assert modes[0][2] == modes[1][1] == run.started_at.timestamp() + 30 * 3600  # V-AV from hour 30
    cannulas = database.execute(
        "SELECT flow_direction_concept_id, location_concept_id, laterality_concept_id, m.diameter_in_french "
        "FROM ecls_cannula c JOIN ecls_cannula_material m USING (material_id) "
        "JOIN ecls_circuit_component l ON l.component_id = c.cannula_id AND l.component_type_concept_id = 36717850 "
        "JOIN ecls_circuit k ON k.circuit_id = l.circuit_id WHERE k.run_id = ? ORDER BY 1",
        [run.pk],
    ).fetchall()
    assert cannulas == [(36717809, 4308414, 4080761, 25), (36717810, 4109754, 4300877, 17)]
    lungs = database.execute(
        "SELECT l.lot, l.stop_reason_concept_id FROM ecls_membrane_lung l JOIN ecls_circuit_component c "
        "ON c.component_id = l.membrane_lung_id AND c.component_type_concept_id = 4180582 "
        "JOIN ecls_circuit k USING (circuit_id) WHERE k.run_id = ? ORDER BY l.start_datetime",
        [run.pk],
    ).fetchall()
    # the first oxygenator was replaced (no complication recorded: concept 0), the second ended with the run
    assert lungs == [("TEST-LOT-O1", 0), ("TEST-LOT-O2", 4149524)]


@pytest.mark.parametrize("who", ["researcher", "bedside_nurse"])
def test_it_needs_the_registry_export_permission(
    program: Any, perfusionist: Any, personas: dict[str, Any], client_for: Any, who: str
) -> None:
    build_run(program, perfusionist)
    assert client_for(personas[who]).get("/api/v1/exports/ecls-cdm").status_code == 403
