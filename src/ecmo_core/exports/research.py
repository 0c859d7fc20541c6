"""De-identified research dataset (HIPAA Safe Harbor, 45 CFR §164.514(b)(2)).

Each run becomes rows of plain tables (``patients``, ``runs``, ``configurations``, ``cannulas``, ``components``,
``mcs_devices``, ``complications``, ``telemetry``, ``labs``) in which:

- patients and runs are named by keyed pseudonyms (HMAC-SHA-256 of the internal id under a secret ``key`` the
  program keeps), never by name, record number, program pseudonym or database id;
- no date appears: every time is an interval in hours from the run's cannulation (start of flow); only the
  cannulation *year* is kept, which Safe Harbor allows;
- age is the age at cannulation in whole years, and ages over 89 are one group, ``"90+"`` (the birth year is not
  exported, since with the cannulation year it would give the age);
- free text (indication detail, reasons, notes, descriptions, tip positions, locations) is dropped; device
  serial and lot numbers are dropped; makers and models are kept only when they come from the device catalogue
  (reference data, not typed by hand), and MCS models are dropped for the same reason.

:data:`SAFE_HARBOR` lists the 18 identifier classes and what happens to each; :data:`DATA_DICTIONARY` describes
every column.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterator
from typing import Any, NamedTuple

from ecmo_core.errors import InputError
from ecmo_core.exports.records import RunRecord

Row = dict[str, Any]

AGE_GROUP_FROM_YEARS = 90
"""Safe Harbor §164.514(b)(2)(i)(C): ages over 89 are aggregated into one category of 90 or older."""

SAFE_HARBOR: tuple[tuple[str, str], ...] = (
    ("A. Names", "Not read: identifiers are never loaded; patients get a keyed pseudonym"),
    ("B. Geographic subdivisions smaller than a state", "Locations and free text dropped"),
    (
        "C. Dates (except year) related to the individual; ages over 89",
        "Intervals in hours from cannulation; "
        "cannulation year only; age at cannulation, 90 and over grouped as 90+; no birth year",
    ),
    ("D. Telephone numbers", "Free text dropped"),
    ("E. Fax numbers", "Free text dropped"),
    ("F. Email addresses", "Free text dropped"),
    ("G. Social security numbers", "Identifiers not read"),
    ("H. Medical record numbers", "Identifiers not read"),
    ("I. Health plan beneficiary numbers", "Identifiers not read; free text dropped"),
    ("J. Account numbers", "Free text dropped"),
    ("K. Certificate/license numbers", "Free text dropped"),
    ("L. Vehicle identifiers and serial numbers", "Free text dropped"),
    (
        "M. Device identifiers and serial numbers",
        "Serials and lots dropped; uncatalogued makers/models dropped",
    ),
    ("N. Web URLs", "Free text dropped"),
    ("O. IP addresses", "Free text dropped"),
    ("P. Biometric identifiers", "Not held; free text dropped"),
    ("Q. Full-face photographs", "Not held; free text dropped"),
    (
        "R. Any other unique identifying number, characteristic or code",
        "Program pseudonyms and database ids "
        "replaced by keyed pseudonyms that cannot be reversed without the program's key",
    ),
)


class Column(NamedTuple):
    table: str
    name: str
    kind: str  # text, integer, number, boolean
    unit: str
    description: str


_H = "hours from cannulation (start of ECMO flow); negative before it"
DATA_DICTIONARY: tuple[Column, ...] = (
    Column("patients", "patient_id", "text", "", "Keyed pseudonym of the patient"),
    Column("patients", "sex", "text", "", "male, female or unknown"),
    Column("runs", "run_id", "text", "", "Keyed pseudonym of the run"),
    Column("runs", "patient_id", "text", "", "The patient (patients.patient_id)"),
    Column("runs", "age_years", "text", "years", "Age at cannulation; 90 and over reported as 90+"),
    Column("runs", "cannulation_year", "integer", "", "Calendar year of cannulation"),
    Column("runs", "indication", "text", "", "respiratory, cardiac or ecpr"),
    Column("runs", "initial_mode", "text", "", "First configuration: vv, va, vav, vva, vpa"),
    Column("runs", "duration_hours", "number", "h", "Cannulation to decannulation; empty while on ECMO"),
    Column(
        "runs",
        "outcome",
        "text",
        "",
        "ongoing, weaned, bridge_transplant, bridge_vad, died_on_ecmo, withdrawn, transferred",
    ),
    Column("runs", "survived_to_discharge", "boolean", "", "Alive at hospital discharge; empty if not known"),
    Column("runs", "weight_kg", "number", "kg", "Weight at cannulation"),
    Column("runs", "height_cm", "number", "cm", "Height"),
    Column("configurations", "run_id", "text", "", "The run"),
    Column("configurations", "mode", "text", "", "vv, va, vav, vva, vpa"),
    Column("configurations", "start_hours", "number", "h", _H),
    Column("configurations", "end_hours", "number", "h", _H + "; empty while current"),
    Column("cannulas", "run_id", "text", "", "The run"),
    Column("cannulas", "purpose", "text", "", "drainage, return, dual_lumen, distal_perfusion"),
    Column("cannulas", "site", "text", "", "Vessel and side, e.g. right_internal_jugular"),
    Column("cannulas", "size_fr", "integer", "Fr", "Cannula size"),
    Column("cannulas", "length_cm", "integer", "cm", "Cannula length"),
    Column("cannulas", "inserted_hours", "number", "h", _H),
    Column("cannulas", "removed_hours", "number", "h", _H),
    Column("components", "run_id", "text", "", "The run"),
    Column("components", "kind", "text", "", "pump_head, oxygenator, tubing_pack, console, heater, other"),
    Column("components", "maker", "text", "", "From the device catalogue; empty when not catalogued"),
    Column("components", "model", "text", "", "From the device catalogue; empty when not catalogued"),
    Column("components", "installed_hours", "number", "h", _H),
    Column("components", "removed_hours", "number", "h", _H),
    Column("mcs_devices", "run_id", "text", "", "The run"),
    Column("mcs_devices", "kind", "text", "", "iabp, impella, vad, other"),
    Column("mcs_devices", "inserted_hours", "number", "h", _H),
    Column("mcs_devices", "removed_hours", "number", "h", _H),
    Column("complications", "run_id", "text", "", "The run"),
    Column("complications", "category", "text", "", "ELSO complication category"),
    Column("complications", "code", "text", "", "ELSO complication code (ECMO Steward list)"),
    Column("complications", "severity", "text", "", "mild, moderate, severe, life_threatening, fatal"),
    Column("complications", "onset_hours", "number", "h", _H),
    Column("telemetry", "run_id", "text", "", "The run"),
    Column("telemetry", "parameter", "text", "", "Parameter code (unit in its name)"),
    Column("telemetry", "period_start_hours", "number", "h", _H),
    Column("telemetry", "period_end_hours", "number", "h", _H),
    Column("telemetry", "count", "integer", "", "Number of values in the period"),
    Column("telemetry", "mean", "number", "parameter unit", "Mean over the period"),
    Column("telemetry", "minimum", "number", "parameter unit", "Minimum over the period"),
    Column("telemetry", "maximum", "number", "parameter unit", "Maximum over the period"),
    Column("labs", "run_id", "text", "", "The run"),
    Column("labs", "parameter", "text", "", "Parameter code (unit in its name)"),
    Column("labs", "hours", "number", "h", _H),
    Column("labs", "value", "number", "parameter unit", "The result"),
)

TABLES: tuple[str, ...] = tuple(dict.fromkeys(c.table for c in DATA_DICTIONARY))
COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(c.name for c in DATA_DICTIONARY if c.table == t) for t in TABLES
}


def pseudonym(key: bytes, kind: str, value: object) -> str:
    """A keyed pseudonym (HMAC-SHA-256, 16 hex digits) that cannot be reversed without ``key``."""
    if len(key) < 16:
        raise InputError("key", "must be at least 16 bytes of secret material")
    digest = hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind[0].upper()}-{digest[:16]}"


def age_group(*, birth_year: int | None, at_year: int) -> str:
    """Age at ``at_year`` in whole years (from the birth year: the age reached that year), or ``"90+"``."""
    if birth_year is None:
        return ""
    age = at_year - birth_year
    if age < 0:
        raise InputError("birth_year", f"{birth_year} is after the cannulation year {at_year}")
    return f"{AGE_GROUP_FROM_YEARS}+" if age >= AGE_GROUP_FROM_YEARS else str(age)


def _hours(start: dt.datetime, value: dt.datetime | None) -> float | None:
    if value is None:
        return None
    return round((value - start).total_seconds() / 3600.0, 2)


def research_rows(run: RunRecord, *, key: bytes) -> Iterator[tuple[str, Row]]:
    """Yield ``(table, row)`` pairs for one run; the caller writes them out as they come (flat memory).

    The patient row is yielded with every run; callers keep the first per ``patient_id``.
    """
    t0 = run.started_at
    patient_id = pseudonym(key, "patient", run.patient.key)
    run_id = pseudonym(key, "run", run.id)
    yield "patients", {"patient_id": patient_id, "sex": run.patient.sex}
    segments = run.mode_segments()
    yield (
        "runs",
        {
            "run_id": run_id,
            "patient_id": patient_id,
            "age_years": age_group(birth_year=run.patient.birth_year, at_year=t0.year),
            "cannulation_year": t0.year,
            "indication": run.indication,
            "initial_mode": segments[0][0].mode if segments else "",
            "duration_hours": _hours(t0, run.ended_at),
            "outcome": run.outcome,
            "survived_to_discharge": run.survived_to_discharge,
            "weight_kg": run.weight_kg,
            "height_cm": run.height_cm,
        },
    )
    for segment, ended in segments:
        yield (
            "configurations",
            {
                "run_id": run_id,
                "mode": segment.mode,
                "start_hours": _hours(t0, segment.started_at),
                "end_hours": _hours(t0, ended),
            },
        )
    for cannula in run.cannulas:
        yield (
            "cannulas",
            {
                "run_id": run_id,
                "purpose": cannula.purpose,
                "site": cannula.site,
                "size_fr": cannula.size_fr,
                "length_cm": cannula.length_cm,
                "inserted_hours": _hours(t0, cannula.inserted_at),
                "removed_hours": _hours(t0, cannula.removed_at),
            },
        )
    for component in run.components:
        yield (
            "components",
            {
                "run_id": run_id,
                "kind": component.kind,
                "maker": component.maker if component.catalogued else "",
                "model": component.model if component.catalogued else "",
                "installed_hours": _hours(t0, component.installed_at),
                "removed_hours": _hours(t0, component.removed_at),
            },
        )
    for mcs in run.mcs_devices:
        yield (
            "mcs_devices",
            {
                "run_id": run_id,
                "kind": mcs.kind,
                "inserted_hours": _hours(t0, mcs.inserted_at),
                "removed_hours": _hours(t0, mcs.removed_at),
            },
        )
    for complication in run.complications:
        yield (
            "complications",
            {
                "run_id": run_id,
                "category": complication.category,
                "code": complication.code,
                "severity": complication.severity,
                "onset_hours": _hours(t0, complication.onset_at),
            },
        )
    for summary in run.summaries:
        yield (
            "telemetry",
            {
                "run_id": run_id,
                "parameter": summary.parameter,
                "period_start_hours": _hours(t0, summary.period_start),
                "period_end_hours": _hours(t0, summary.period_end),
                "count": summary.count,
                "mean": summary.mean,
                "minimum": summary.minimum,
                "maximum": summary.maximum,
            },
        )
    for measurement in run.measurements:
        yield (
            "labs",
            {
                "run_id": run_id,
                "parameter": measurement.parameter,
                "hours": _hours(t0, measurement.observed_at),
                "value": measurement.value,
            },
        )
