"""ecmo_core.exports.ecls_cdm: the ECLS CDM tables from plain runs.

- each row has exactly its table's columns; ids follow ECMO Steward ids; persons and materials are numbered
  once per export;
- standard concepts: modes split at configuration changes and clipped to the circuit; cannulas by direction,
  site and side; component stop reasons from a linked complication, the run's end, or 0;
- tubing sizes outside 1/8–1/2 inch are refused.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from exports_fixtures import T0, bare_run, full_run, h

from ecmo_core.errors import InputError
from ecmo_core.exports import ecls_cdm
from ecmo_core.exports.records import CannulaRecord, CircuitRecord, ComponentRecord


def _rows(*runs: object) -> dict[str, list[dict[str, object]]]:
    builder = ecls_cdm.EclsCdmBuilder()
    tables: dict[str, list[dict[str, object]]] = {t: [] for t in ecls_cdm.TABLES}
    for run in runs:
        for table, row in builder.run_rows(run):  # type: ignore[arg-type]
            tables[table].append(row)
    for table, row in builder.material_rows():
        tables[table].append(row)
    return tables


def test_it_fills_each_table_with_its_own_columns() -> None:
    tables = _rows(full_run())
    for table, rows in tables.items():
        for row in rows:
            assert tuple(row) == ecls_cdm.COLUMNS[table], table
    assert len(tables["person"]) == 1 and tables["person"][0]["gender_concept_id"] == 8532
    assert tables["ecls_run"][0]["stop_reason_concept_id"] == 4149524
    assert tables["ecls_run"][0]["start_reason_concept_id"] == 134057
    assert len(tables["ecls_temperature_regulation_device"]) == 1
    assert len(tables["ecls_console"]) == 1 and tables["ecls_console"][0]["sn"] == "TEST-CON-1"
    assert [c["condition_concept_id"] for c in tables["condition_occurrence"]] == [36717838, 0]


def test_it_splits_modes_at_configuration_changes_within_each_circuit() -> None:
    first = CircuitRecord(21, T0, h(50), "clot", (ComponentRecord(1, "pump_head", "X", "Y", T0, h(50)),))
    second = CircuitRecord(22, h(50), None, "", (ComponentRecord(2, "pump_head", "X", "Y", h(50)),))
    modes = _rows(full_run(circuits=(first, second), ended_at=None, outcome="ongoing"))["ecls_mode"]
    assert [
        (m["circuit_id"], m["mode_concept_id"], m["start_datetime"], m["stop_datetime"]) for m in modes
    ] == [
        (21, 37206601, T0.isoformat(), h(30).isoformat()),
        (21, 36717792, h(30).isoformat(), h(50).isoformat()),
        (22, 36717792, h(50).isoformat(), None),
    ]


def test_it_links_cannulas_to_the_circuits_they_served() -> None:
    first = CircuitRecord(21, T0, h(20), "clot")
    second = CircuitRecord(22, h(20), h(72), "run ended")
    late = CannulaRecord(14, "return", "right_subclavian_artery", 15, h(25), h(72))
    early = CannulaRecord(15, "drainage", "left_femoral_vein", 21, T0, h(10))
    tables = _rows(full_run(circuits=(first, second), cannulas=(early, late)))
    links = [(link["circuit_id"], link["component_id"]) for link in tables["ecls_circuit_component"]]
    assert links == [(21, 15), (22, 14)]
    cannulas = {c["cannula_id"]: c for c in tables["ecls_cannula"]}
    assert cannulas[15]["stop_reason_concept_id"] == 0  # removed before the run ended, no reason recorded
    assert cannulas[14]["laterality_concept_id"] == 4080761
    assert cannulas[15]["insertion_length_in_centimeters"] == 0


def test_it_gives_stop_reasons_to_components() -> None:
    tables = _rows(full_run())
    lungs = {lung["membrane_lung_id"]: lung for lung in tables["ecls_membrane_lung"]}
    assert lungs[3]["stop_reason_concept_id"] == 36717838  # the complication linked to this oxygenator
    assert lungs[4]["stop_reason_concept_id"] == 4149524  # ended with the run: the run's stop reason
    ongoing = _rows(full_run(ended_at=None, outcome="ongoing", complications=()))
    unended = {lung["membrane_lung_id"]: lung for lung in ongoing["ecls_membrane_lung"]}
    assert unended[3]["stop_reason_concept_id"] == 0


def test_it_numbers_persons_and_materials_once_per_export() -> None:
    tables = _rows(full_run(), replace(full_run(), id=9), bare_run())
    assert [p["person_id"] for p in tables["person"]] == [1, 2]
    assert len(tables["ecls_membrane_lung_material"]) == 1
    assert tables["ecls_membrane_lung_material"][0]["coating"] is None
    cannula_materials = tables["ecls_cannula_material"]
    assert {(m["manufacturer"], m["diameter_in_french"]) for m in cannula_materials} == {
        ("TEST cannula", 25),
        ("unknown", 17),
    }
    unknown_site = _rows(full_run(cannulas=(CannulaRecord(16, "other", "elsewhere", 19, T0),)))
    assert unknown_site["ecls_cannula"][0]["location_concept_id"] == 0
    assert unknown_site["ecls_cannula"][0]["flow_direction_concept_id"] == 0


@pytest.mark.parametrize("inches", [0.1, 0.6])
def test_it_refuses_an_impossible_tubing_size(inches: float) -> None:
    with pytest.raises(InputError) as error:
        ecls_cdm.EclsCdmBuilder(tubing_size_in_inches=inches)
    assert error.value.field == "tubing_size_in_inches"
