"""ECLS CDM (the OMOP CDM extension for extracorporeal life support, github.com/ecls-cdm/cdm) tables.

:class:`EclsCdmBuilder` turns runs into rows of the ECLS CDM core tables (``ecls_run``, ``ecls_circuit``,
``ecls_mode``, ``ecls_cannula``, ``ecls_blood_pump``, ``ecls_membrane_lung``, ``ecls_console``,
``ecls_temperature_regulation_device``), the support tables (``ecls_circuit_component`` and the ``*_material``
catalogues) and the OMOP tables they hang from (``person``, ``visit_occurrence``, ``condition_occurrence`` for
complications). Column names and order are those of the ECLS CDM DDL (``ddl/postgres/01_add_tables.sql``).

Standard concept ids are used where the ECLS CDM names one (modes, indications, urgency, cannula flow direction,
site, laterality, component types, stop reasons, complication concepts: :mod:`ecmo_core.exports.codes`); where
nothing matches, the OMOP convention ``0`` ("no matching concept") is used and the local value is kept in a
``*_source_value`` column where the table has one. Ids are the ECMO Steward ids of runs, circuits, cannulas and
components; modes, circuit-component links, persons and materials are numbered by the builder, so one builder
must be used for a whole export.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from ecmo_core.errors import InputError
from ecmo_core.exports import codes
from ecmo_core.exports.records import ComponentRecord, RunRecord

Row = dict[str, Any]

GENDER_CONCEPTS = {"male": 8507, "female": 8532}
EHR_TYPE_CONCEPT = 32817  # OMOP type concept "EHR"
INPATIENT_VISIT = 9201  # OMOP visit concept "Inpatient Visit"

_DEVICE = ("start_datetime", "stop_datetime", "person_id", "stop_reason_concept_id", "material_id")
_TRACE = ("sn", "lot", "ref", "udi")
COLUMNS: dict[str, tuple[str, ...]] = {
    "person": (
        "person_id",
        "gender_concept_id",
        "year_of_birth",
        "race_concept_id",
        "ethnicity_concept_id",
        "person_source_value",
        "gender_source_value",
    ),
    "visit_occurrence": (
        "visit_occurrence_id",
        "person_id",
        "visit_concept_id",
        "visit_start_date",
        "visit_start_datetime",
        "visit_end_date",
        "visit_end_datetime",
        "visit_type_concept_id",
    ),
    "condition_occurrence": (
        "condition_occurrence_id",
        "person_id",
        "condition_concept_id",
        "condition_start_date",
        "condition_start_datetime",
        "condition_type_concept_id",
        "visit_occurrence_id",
        "condition_source_value",
    ),
    "ecls_run": (
        "run_id",
        "start_datetime",
        "stop_datetime",
        "person_id",
        "visit_occurrence_id",
        "visit_detail_id",
        "urgency_concept_id",
        "start_reason_concept_id",
        "stop_reason_concept_id",
    ),
    "ecls_circuit": (
        "circuit_id",
        "start_datetime",
        "stop_datetime",
        "person_id",
        "run_id",
        "tubing_size_in_inches",
        "priming_solution_concept_id",
        "stop_reason_concept_id",
    ),
    "ecls_mode": ("mode_id", "start_datetime", "stop_datetime", "person_id", "circuit_id", "mode_concept_id"),
    "ecls_blood_pump": ("blood_pump_id", *_DEVICE, *_TRACE),
    "ecls_cannula": (
        "cannula_id",
        "start_datetime",
        "stop_datetime",
        "person_id",
        "flow_direction_concept_id",
        "location_concept_id",
        "laterality_concept_id",
        "insertion_concept_id",
        "insertion_length_in_centimeters",
        "tip_position_concept_id",
        "tip_position_laterality_concept_id",
        "removal_concept_id",
        "stop_reason_concept_id",
        "material_id",
        *_TRACE,
    ),
    "ecls_console": ("console_id", *_DEVICE, *_TRACE),
    "ecls_membrane_lung": (
        "membrane_lung_id",
        "start_datetime",
        "stop_datetime",
        "person_id",
        "priming_solution_concept_id",
        "stop_reason_concept_id",
        "material_id",
        *_TRACE,
    ),
    "ecls_temperature_regulation_device": ("temperature_regulation_device_id", *_DEVICE, *_TRACE),
    "ecls_circuit_component": (
        "circuit_component_id",
        "start_datetime",
        "stop_datetime",
        "person_id",
        "circuit_id",
        "component_type_concept_id",
        "component_id",
    ),
    "ecls_blood_pump_material": ("material_id", "name", "manufacturer", "type_concept_id", "ref", "udi"),
    "ecls_cannula_material": (
        "material_id",
        "name",
        "manufacturer",
        "type_concept_id",
        "diameter_in_french",
        "length_in_centimeters",
        "coating",
        "ref",
        "udi",
    ),
    "ecls_console_material": ("material_id", "name", "manufacturer", "type_concept_id", "ref", "udi"),
    "ecls_membrane_lung_material": (
        "material_id",
        "name",
        "manufacturer",
        "type_concept_id",
        "coating",
        "ref",
        "udi",
    ),
    "ecls_temperature_regulation_device_material": (
        "material_id",
        "name",
        "manufacturer",
        "type_concept_id",
        "ref",
        "udi",
    ),
}
TABLES: tuple[str, ...] = tuple(COLUMNS)

# ECMO Steward component kind → (core table, its material table); tubing packs and "other" have no table
_COMPONENT_TABLES = {
    "pump_head": ("ecls_blood_pump", "ecls_blood_pump_material"),
    "oxygenator": ("ecls_membrane_lung", "ecls_membrane_lung_material"),
    "console": ("ecls_console", "ecls_console_material"),
    "heater": ("ecls_temperature_regulation_device", "ecls_temperature_regulation_device_material"),
}


def _ts(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class EclsCdmBuilder:
    """Builds ECLS CDM rows run by run; call :meth:`run_rows` per run, then :meth:`material_rows` once.

    ``tubing_size_in_inches`` fills ``ecls_circuit.tubing_size_in_inches`` (a mandatory column ECMO Steward does
    not record per circuit): a site setting, default 3/8 inch, the adult circuit tubing size (local practice).
    """

    def __init__(self, *, tubing_size_in_inches: float = 0.375) -> None:
        if not 0.125 <= tubing_size_in_inches <= 0.5:
            raise InputError(
                "tubing_size_in_inches", f"must be 1/8 to 1/2 inch, got {tubing_size_in_inches:g}"
            )
        self.tubing_size_in_inches = tubing_size_in_inches
        self._persons: dict[str, int] = {}
        self._materials: dict[tuple[str, str, str, int | None], int] = {}
        self._material_rows: list[tuple[str, Row]] = []
        self._mode_id = 0
        self._link_id = 0

    def _person(self, key: str) -> tuple[int, bool]:
        if key in self._persons:
            return self._persons[key], False
        self._persons[key] = len(self._persons) + 1
        return self._persons[key], True

    def _material(
        self, table: str, maker: str, model: str, size_fr: int | None = None, length_cm: int | None = None
    ) -> int:
        found = self._materials.get((table, maker, model, size_fr))
        if found is not None:
            return found
        material_id = len(self._materials) + 1
        self._materials[(table, maker, model, size_fr)] = material_id
        row: Row = {
            "material_id": material_id,
            "name": model or "unknown",
            "manufacturer": maker or "unknown",
            "type_concept_id": 0,
            "ref": None,
            "udi": None,
        }
        if table == "ecls_cannula_material":
            row.update(
                {"diameter_in_french": size_fr, "length_in_centimeters": length_cm or 0, "coating": None}
            )
        if table == "ecls_membrane_lung_material":
            row["coating"] = None
        self._material_rows.append((table, {column: row[column] for column in COLUMNS[table]}))
        return material_id

    def run_rows(self, run: RunRecord) -> Iterator[tuple[str, Row]]:
        """Yield ``(table, row)`` for one run."""
        person_id, new = self._person(run.patient.key)
        if new:
            yield (
                "person",
                {
                    "person_id": person_id,
                    "gender_concept_id": GENDER_CONCEPTS.get(run.patient.sex, 0),
                    "year_of_birth": run.patient.birth_year,
                    "race_concept_id": 0,
                    "ethnicity_concept_id": 0,
                    "person_source_value": run.patient.key,
                    "gender_source_value": run.patient.sex,
                },
            )
        end = run.ended_at
        yield (
            "visit_occurrence",
            {
                "visit_occurrence_id": run.id,
                "person_id": person_id,
                "visit_concept_id": INPATIENT_VISIT,
                "visit_start_date": run.started_at.date().isoformat(),
                "visit_start_datetime": _ts(run.started_at),
                "visit_end_date": None if end is None else end.date().isoformat(),
                "visit_end_datetime": _ts(end),
                "visit_type_concept_id": EHR_TYPE_CONCEPT,
            },
        )
        run_stop = codes.OUTCOME_STOP_CONCEPTS.get(run.outcome) if end is not None else None
        yield (
            "ecls_run",
            {
                "run_id": run.id,
                "start_datetime": _ts(run.started_at),
                "stop_datetime": _ts(end),
                "person_id": person_id,
                "visit_occurrence_id": run.id,
                "visit_detail_id": None,
                "urgency_concept_id": codes.URGENCY_EMERGENCY,
                "start_reason_concept_id": codes.INDICATION_CONCEPTS.get(run.indication, 0),
                "stop_reason_concept_id": run_stop,
            },
        )
        complication_stop = {
            c.component_id: codes.COMPLICATION_CONCEPTS.get(c.code, 0)
            for c in run.complications
            if c.component_id is not None
        }

        def stop_reason(removed: dt.datetime | None, component_id: int | None = None) -> int | None:
            if removed is None:
                return None
            if component_id in complication_stop:
                return complication_stop[component_id]
            if end is not None and removed >= end:
                return run_stop
            return 0

        segments = run.mode_segments()
        for circuit in run.circuits:
            circuit_end = circuit.ended_at
            yield (
                "ecls_circuit",
                {
                    "circuit_id": circuit.id,
                    "start_datetime": _ts(circuit.started_at),
                    "stop_datetime": _ts(circuit_end),
                    "person_id": person_id,
                    "run_id": run.id,
                    "tubing_size_in_inches": self.tubing_size_in_inches,
                    "priming_solution_concept_id": 0,
                    "stop_reason_concept_id": stop_reason(circuit_end),
                },
            )
            for segment, segment_end in segments:
                start = max(segment.started_at, circuit.started_at)
                stop = _earliest(segment_end, circuit_end)
                if stop is not None and stop <= start:
                    continue
                self._mode_id += 1
                yield (
                    "ecls_mode",
                    {
                        "mode_id": self._mode_id,
                        "start_datetime": _ts(start),
                        "stop_datetime": _ts(stop),
                        "person_id": person_id,
                        "circuit_id": circuit.id,
                        "mode_concept_id": codes.MODE_CONCEPTS.get(segment.mode, 0),
                    },
                )
            for component in circuit.components:
                yield from self._component(component, person_id, circuit.id, stop_reason)
            for cannula in run.cannulas:
                if cannula.removed_at is not None and cannula.removed_at <= circuit.started_at:
                    continue
                if circuit_end is not None and cannula.inserted_at >= circuit_end:
                    continue
                self._link_id += 1
                yield (
                    "ecls_circuit_component",
                    {
                        "circuit_component_id": self._link_id,
                        "start_datetime": _ts(max(cannula.inserted_at, circuit.started_at)),
                        "stop_datetime": _ts(_earliest(cannula.removed_at, circuit_end)),
                        "person_id": person_id,
                        "circuit_id": circuit.id,
                        "component_type_concept_id": codes.COMPONENT_TYPE_CONCEPTS["cannula"],
                        "component_id": cannula.id,
                    },
                )
        for cannula in run.cannulas:
            location, laterality = codes.CANNULA_SITE_CONCEPTS.get(cannula.site, (0, None))
            yield (
                "ecls_cannula",
                {
                    "cannula_id": cannula.id,
                    "start_datetime": _ts(cannula.inserted_at),
                    "stop_datetime": _ts(cannula.removed_at),
                    "person_id": person_id,
                    "flow_direction_concept_id": codes.FLOW_DIRECTION_CONCEPTS.get(cannula.purpose, 0),
                    "location_concept_id": location,
                    "laterality_concept_id": laterality,
                    "insertion_concept_id": codes.PERCUTANEOUS,
                    "insertion_length_in_centimeters": cannula.length_cm or 0,
                    "tip_position_concept_id": location,
                    "tip_position_laterality_concept_id": laterality,
                    "removal_concept_id": None,
                    "stop_reason_concept_id": stop_reason(cannula.removed_at),
                    "material_id": self._material(
                        "ecls_cannula_material",
                        cannula.maker_model,
                        cannula.maker_model,
                        cannula.size_fr,
                        cannula.length_cm,
                    ),
                    "sn": None,
                    "lot": None,
                    "ref": None,
                    "udi": None,
                },
            )
        for complication in run.complications:
            yield (
                "condition_occurrence",
                {
                    "condition_occurrence_id": complication.id,
                    "person_id": person_id,
                    "condition_concept_id": codes.COMPLICATION_CONCEPTS.get(complication.code, 0),
                    "condition_start_date": complication.onset_at.date().isoformat(),
                    "condition_start_datetime": _ts(complication.onset_at),
                    "condition_type_concept_id": EHR_TYPE_CONCEPT,
                    "visit_occurrence_id": run.id,
                    "condition_source_value": complication.code,
                },
            )

    def _component(
        self, component: ComponentRecord, person_id: int, circuit_id: int, stop_reason: Any
    ) -> Iterator[tuple[str, Row]]:
        tables = _COMPONENT_TABLES.get(component.kind)
        if tables is None:
            return
        table, material_table = tables
        row: Row = {
            f"{table.removeprefix('ecls_')}_id": component.id,
            "start_datetime": _ts(component.installed_at),
            "stop_datetime": _ts(component.removed_at),
            "person_id": person_id,
            "stop_reason_concept_id": stop_reason(component.removed_at, component.id),
            "material_id": self._material(material_table, component.maker, component.model),
            "sn": component.serial or None,
            "lot": component.lot or None,
            "ref": None,
            "udi": None,
        }
        if table == "ecls_membrane_lung":
            row["priming_solution_concept_id"] = 0
        yield table, {column: row[column] for column in COLUMNS[table]}
        self._link_id += 1
        yield (
            "ecls_circuit_component",
            {
                "circuit_component_id": self._link_id,
                "start_datetime": _ts(component.installed_at),
                "stop_datetime": _ts(component.removed_at),
                "person_id": person_id,
                "circuit_id": circuit_id,
                "component_type_concept_id": codes.COMPONENT_TYPE_CONCEPTS[component.kind],
                "component_id": component.id,
            },
        )

    def material_rows(self) -> Iterator[tuple[str, Row]]:
        """The material catalogue rows met so far (call once, after the last run)."""
        yield from self._material_rows


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
