"""ELSO Registry-style export: one structured record per run, a flat CSV row, and the completeness check.

The field list :data:`ELSO_FIELDS` follows the sections of the ELSO Registry case report form (ELSO Registry
Data Definitions 2018, S9a; Change Document 2022, S9b; summarised in ``shared/clinical/reference.md`` §8.1):
patient, pre-ECLS assessment, ECLS run (support type, times, modes with times), cannulation, equipment,
concurrent mechanical support, complications (each with date and time since 2022) and outcome. ``mandatory`` is
``"always"``, ``"ended"`` (mandatory once the run has ended) or ``""``. The full field-by-field map, with the
ECMO Steward source of every field, is ``docs/exports/elso.md``.

Pre-ECLS values are the last value of each parameter in the window before the start of flow
(``pre_ecls_window_hours``, default 6 h: ELSO asks for the blood gas "closest to, and before, ECLS start";
the 6-hour bound is local practice, a site setting).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from ecmo_core.errors import InputError
from ecmo_core.exports import codes
from ecmo_core.exports.records import RunRecord

PRE_ECLS_WINDOW_HOURS = 6.0


class ElsoField(NamedTuple):
    key: str
    section: str
    label: str
    mandatory: str  # "always", "ended" or ""


ELSO_FIELDS: tuple[ElsoField, ...] = (
    ElsoField("patient_id", "patient", "Centre patient identifier (pseudonym)", "always"),
    ElsoField("sex", "patient", "Sex", "always"),
    ElsoField("birth_year", "patient", "Year of birth", "always"),
    ElsoField("weight_kg", "patient", "Weight (kg)", "always"),
    ElsoField("height_cm", "patient", "Height (cm)", ""),
    ElsoField("run_id", "run", "Run number", "always"),
    ElsoField("support_type", "run", "Support type (pulmonary, cardiac, ECPR)", "always"),
    ElsoField("indication_detail", "run", "Primary diagnosis (text)", ""),
    ElsoField("ecls_start", "run", "ECLS start (date and time)", "always"),
    ElsoField("ecls_stop", "run", "ECLS stop (date and time)", "ended"),
    ElsoField("initial_mode", "run", "Initial mode", "always"),
    ElsoField("mode_changes", "run", "Mode changes (mode and time)", ""),
    ElsoField("pre_ecls_ph", "pre_ecls", "Pre-ECLS arterial pH", "always"),
    ElsoField("pre_ecls_paco2_mmhg", "pre_ecls", "Pre-ECLS PaCO2 (mmHg)", "always"),
    ElsoField("pre_ecls_pao2_mmhg", "pre_ecls", "Pre-ECLS PaO2 (mmHg)", "always"),
    ElsoField("pre_ecls_sao2", "pre_ecls", "Pre-ECLS SaO2 (fraction)", ""),
    ElsoField("pre_ecls_lactate_mmol_l", "pre_ecls", "Pre-ECLS lactate (mmol/L)", ""),
    ElsoField("pre_ecls_map_mmhg", "pre_ecls", "Pre-ECLS mean arterial pressure (mmHg)", ""),
    ElsoField("cannulations", "cannulation", "Cannulations (site, size, purpose, time)", "always"),
    ElsoField("pump", "equipment", "Blood pump (maker, model)", "always"),
    ElsoField("oxygenator", "equipment", "Oxygenator (maker, model)", "always"),
    ElsoField("equipment", "equipment", "Equipment with install and replacement times and reasons", ""),
    ElsoField("concurrent_mcs", "support", "Concurrent mechanical support (IABP, Impella, VAD)", ""),
    ElsoField("complications", "complications", "Complications (code and date/time)", ""),
    ElsoField("discontinuation_reason", "outcome", "Reason ECLS discontinued", "ended"),
    ElsoField("survived_ecls", "outcome", "Survived ECLS", "ended"),
    ElsoField("discharged_alive", "outcome", "Discharged alive", "ended"),
)
FIELD_KEYS: tuple[str, ...] = tuple(f.key for f in ELSO_FIELDS)

_PRE_ECLS = {
    "pre_ecls_ph": "arterial_ph",
    "pre_ecls_paco2_mmhg": "arterial_pco2_mmhg",
    "pre_ecls_pao2_mmhg": "arterial_po2_mmhg",
    "pre_ecls_sao2": "arterial_so2",
    "pre_ecls_lactate_mmol_l": "lactate_mmol_l",
    "pre_ecls_map_mmhg": "mean_arterial_pressure_mmhg",
}
SUPPORT_TYPES = {"respiratory": "pulmonary", "cardiac": "cardiac", "ecpr": "ecpr"}
# ELSO "reason ECLS discontinued" and "survived ECLS" from the run's outcome. A withdrawn run is recorded as
# discontinued for poor prognosis, and the patient as not surviving ECLS (death expected on withdrawal).
DISCONTINUATION = {
    "weaned": ("expected_recovery", True),
    "bridge_transplant": ("transplant", True),
    "bridge_vad": ("vad", True),
    "transferred": ("transferred_on_ecls", True),
    "died_on_ecmo": ("died_on_ecls", False),
    "withdrawn": ("poor_prognosis", False),
}


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def pre_ecls_values(
    run: RunRecord, *, window_hours: float = PRE_ECLS_WINDOW_HOURS
) -> dict[str, float | None]:
    """The last value of each pre-ECLS parameter in the ``window_hours`` before the start of flow."""
    if not 0 < window_hours <= 48:
        raise InputError("pre_ecls_window_hours", f"must be above 0 and at most 48 h, got {window_hours:g}")
    since = run.started_at - dt.timedelta(hours=window_hours)
    values: dict[str, float | None] = {}
    for key, parameter in _PRE_ECLS.items():
        found = [
            m
            for m in run.measurements
            if m.parameter == parameter and since <= m.observed_at <= run.started_at
        ]
        values[key] = max(found, key=lambda m: m.observed_at).value if found else None
    return values


def _device(run: RunRecord, kind: str) -> dict[str, Any] | None:
    found = sorted((c for c in run.components if c.kind == kind), key=lambda c: c.installed_at)
    if not found:
        return None
    return {"maker": found[0].maker, "model": found[0].model}


def elso_record(run: RunRecord, *, pre_ecls_window_hours: float = PRE_ECLS_WINDOW_HOURS) -> dict[str, Any]:
    """The run as the ELSO registry's structured form: one key per :data:`ELSO_FIELDS` entry."""
    segments = run.mode_segments()
    ended = run.ended_at is not None
    discontinuation = DISCONTINUATION.get(run.outcome) if ended else None
    record: dict[str, Any] = {
        "patient_id": run.patient.key,
        "sex": run.patient.sex if run.patient.sex in ("male", "female") else None,
        "birth_year": run.patient.birth_year,
        "weight_kg": run.weight_kg,
        "height_cm": run.height_cm,
        "run_id": run.id,
        "support_type": SUPPORT_TYPES.get(run.indication),
        "indication_detail": run.indication_detail or None,
        "ecls_start": _iso(run.started_at),
        "ecls_stop": _iso(run.ended_at),
        "initial_mode": codes.MODE_LABELS.get(segments[0][0].mode) if segments else None,
        "mode_changes": [
            {"mode": codes.MODE_LABELS.get(s.mode, s.mode), "start": _iso(s.started_at), "stop": _iso(end)}
            for s, end in segments[1:]
        ],
        **pre_ecls_values(run, window_hours=pre_ecls_window_hours),
        "cannulations": [
            {
                "site": c.site,
                "size_fr": c.size_fr,
                "purpose": c.purpose,
                "inserted": _iso(c.inserted_at),
                "removed": _iso(c.removed_at),
            }
            for c in run.cannulas
        ],
        "pump": _device(run, "pump_head"),
        "oxygenator": _device(run, "oxygenator"),
        "equipment": [
            {
                "kind": c.kind,
                "maker": c.maker,
                "model": c.model,
                "installed": _iso(c.installed_at),
                "removed": _iso(c.removed_at),
                "reason_replaced": c.reason_removed or None,
            }
            for c in run.components
        ],
        "concurrent_mcs": [
            {"kind": m.kind, "model": m.model, "inserted": _iso(m.inserted_at), "removed": _iso(m.removed_at)}
            for m in run.mcs_devices
        ],
        "complications": [
            {"category": c.category, "code": c.code, "label": c.label, "onset": _iso(c.onset_at)}
            for c in run.complications
        ],
        "discontinuation_reason": discontinuation[0] if discontinuation else None,
        "survived_ecls": discontinuation[1] if discontinuation else None,
        "discharged_alive": run.survived_to_discharge if ended else None,
    }
    return record


def missing_mandatory(record: dict[str, Any], *, ended: bool) -> list[ElsoField]:
    """The mandatory fields of an :func:`elso_record` that are empty (``None`` or an empty list)."""
    missing: list[ElsoField] = []
    for field in ELSO_FIELDS:
        required = field.mandatory == "always" or (field.mandatory == "ended" and ended)
        if required and record.get(field.key) in (None, [], ""):
            missing.append(field)
    return missing


def completeness(run: RunRecord, *, pre_ecls_window_hours: float = PRE_ECLS_WINDOW_HOURS) -> dict[str, Any]:
    """``{"run_id", "patient_id", "complete", "missing": [{"field", "label", "section"}]}`` for one run."""
    record = elso_record(run, pre_ecls_window_hours=pre_ecls_window_hours)
    missing = missing_mandatory(record, ended=run.ended_at is not None)
    return {
        "run_id": run.id,
        "patient_id": run.patient.key,
        "complete": not missing,
        "missing": [{"field": f.key, "label": f.label, "section": f.section} for f in missing],
    }


def csv_row(record: dict[str, Any]) -> dict[str, Any]:
    """Flatten an :func:`elso_record` for CSV: lists become ``;``-joined items, devices ``maker model``."""
    row: dict[str, Any] = {}
    for key in FIELD_KEYS:
        value = record[key]
        if isinstance(value, list):
            row[key] = ";".join(_item(v) for v in value)
        elif isinstance(value, dict):
            row[key] = f"{value['maker']} {value['model']}"
        else:
            row[key] = value
    return row


def _item(value: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in value.items() if v is not None)
