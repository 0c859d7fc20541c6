"""Load runs from the database into the plain records of ``ecmo_core.exports.records``.

Runs are loaded in chunks (``CHUNK`` runs, their related rows prefetched, telemetry summarised by the database
per run, parameter and UTC day), so an export of 10,000 runs holds one chunk in memory at a time.
Identifiers (names, record numbers) are read only when ``identified`` is true: the research export never asks.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.db.models import Avg, Count, F, Max, Min, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDay

from ecmo_core.exports import codes
from ecmo_core.exports.records import (
    CannulaRecord,
    CheckRecord,
    CircuitRecord,
    Complication,
    ComponentRecord,
    ConfigurationRecord,
    McsRecord,
    Measurement,
    PatientRecord,
    RunRecord,
    TelemetrySummary,
)
from ecmo_web.runs.models import Circuit, EcmoRun
from ecmo_web.surveillance.models import (
    CHECK_PARAMETERS,
    INSPECTION_FIELDS,
    SAFETY_FIELDS,
    CircuitCheck,
    Sample,
)

CHUNK = 100
LAB_PARAMETERS = tuple(p for p, c in codes.PARAMETER_CODING.items() if c.kind == "lab")


def load_complications(run_ids: Iterable[int]) -> dict[int, list[Complication]]:
    """Complications (adverse events) by run id, from the quality app when it is installed; else none.

    The model is imported lazily so that the exports work (with no complications) in a deployment without the
    quality app.
    """
    if not apps.is_installed("ecmo_web.quality"):
        return {}
    model: Any = apps.get_model("quality", "AdverseEvent")
    found: dict[int, list[Complication]] = defaultdict(list)
    for event in model.objects.filter(run_id__in=list(run_ids)).order_by("onset_at", "id"):
        found[event.run_id].append(
            Complication(
                id=event.pk,
                category=event.category,
                code=event.code,
                severity=event.severity,
                onset_at=event.onset_at,
                label=str(getattr(event, "code_label", event.code)),
                component_id=event.component_id,
                description=event.description,
            )
        )
    return found


def _summaries(run_ids: list[int]) -> dict[int, list[TelemetrySummary]]:
    rows = (
        Sample.objects.filter(run_id__in=run_ids)
        .exclude(parameter__in=LAB_PARAMETERS)
        .annotate(day=TruncDay("observed_at", tzinfo=dt.UTC))
        .values("run_id", "parameter", "day")
        .annotate(n=Count("id"), mean=Avg("value"), lo=Min("value"), hi=Max("value"))
        .order_by("run_id", "parameter", "day")
    )
    found: dict[int, list[TelemetrySummary]] = defaultdict(list)
    for row in rows:
        day: dt.datetime = row["day"]
        found[row["run_id"]].append(
            TelemetrySummary(
                parameter=row["parameter"],
                period_start=day,
                period_end=day + dt.timedelta(days=1),
                count=row["n"],
                mean=round(float(row["mean"]), 4),
                minimum=float(row["lo"]),
                maximum=float(row["hi"]),
            )
        )
    return found


def _measurements(run_ids: list[int]) -> dict[int, list[Measurement]]:
    """Lab values and blood gases, plus every value recorded before the start of flow (pre-ECMO data)."""
    found: dict[int, list[Measurement]] = defaultdict(list)
    rows = (
        Sample.objects.filter(run_id__in=run_ids)
        .filter(Q(parameter__in=LAB_PARAMETERS) | Q(observed_at__lt=F("run__started_at")))
        .order_by("run_id", "observed_at", "parameter")
        .values_list("run_id", "parameter", "observed_at", "value", "source")
    )
    for run_id, parameter, observed_at, value, source in rows:
        found[run_id].append(Measurement(parameter, observed_at, value, source))
    return found


def _checks(run_ids: list[int]) -> dict[int, list[CheckRecord]]:
    found: dict[int, list[CheckRecord]] = defaultdict(list)
    checks = (
        CircuitCheck.objects.filter(run_id__in=run_ids, is_current=True)
        .select_related("recorded_by")
        .order_by("observed_at")
    )
    for check in checks:
        values = tuple(
            (name, float(getattr(check, name)))
            for name in CHECK_PARAMETERS
            if getattr(check, name) is not None
        )
        items = tuple((name, bool(getattr(check, name))) for name in (*INSPECTION_FIELDS, *SAFETY_FIELDS))
        who = check.recorded_by.get_username() if check.recorded_by else ""
        found[check.run_id].append(
            CheckRecord(
                id=check.pk,
                observed_at=check.observed_at,
                recorded_by=who,
                values=values,
                items=items,
                notes=check.notes,
            )
        )
    return found


def check_record(check: CircuitCheck) -> tuple[CheckRecord, PatientRecord]:
    """One check and its patient, identified (for the EHR, which files results by MRN)."""
    patient = check.run.patient
    who = check.recorded_by.get_username() if check.recorded_by else ""
    record = CheckRecord(
        id=check.pk,
        observed_at=check.observed_at,
        recorded_by=who,
        values=tuple(
            (name, float(getattr(check, name)))
            for name in CHECK_PARAMETERS
            if getattr(check, name) is not None
        ),
        items=tuple((name, bool(getattr(check, name))) for name in (*INSPECTION_FIELDS, *SAFETY_FIELDS)),
        notes=check.notes,
    )
    identifiers = tuple((i.kind, i.value) for i in patient.identifiers.all())
    return record, PatientRecord(
        key=patient.code, sex=patient.sex, birth_year=patient.birth_year, identifiers=identifiers
    )


def export_queryset(queryset: QuerySet[EcmoRun], *, identified: bool) -> QuerySet[EcmoRun]:
    prefetch: list[Any] = [
        "configurations",
        "cannulas",
        "mcs_devices",
        Prefetch("circuits", queryset=Circuit.objects.prefetch_related("components")),
    ]
    if identified:
        prefetch.append("patient__identifiers")
    return queryset.select_related("patient", "program").prefetch_related(*prefetch).order_by("pk")


def iter_runs(
    queryset: QuerySet[EcmoRun], *, identified: bool, with_checks: bool = False, chunk: int = CHUNK
) -> Iterator[RunRecord]:
    """Yield a :class:`RunRecord` per run, loading ``chunk`` runs at a time."""
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        runs = list(export_queryset(EcmoRun.objects.filter(pk__in=part), identified=identified))
        summaries = _summaries(part)
        measurements = _measurements(part)
        complications = load_complications(part)
        checks = _checks(part) if with_checks else {}
        for run in runs:
            yield to_record(
                run,
                identified=identified,
                summaries=summaries.get(run.pk, []),
                measurements=measurements.get(run.pk, []),
                complications=complications.get(run.pk, []),
                checks=checks.get(run.pk, []),
            )


def to_record(
    run: EcmoRun,
    *,
    identified: bool,
    summaries: list[TelemetrySummary],
    measurements: list[Measurement],
    complications: list[Complication],
    checks: list[CheckRecord],
) -> RunRecord:
    patient = run.patient
    identifiers: tuple[tuple[str, str], ...] = ()
    if identified:
        identifiers = tuple((i.kind, i.value) for i in patient.identifiers.all())
    return RunRecord(
        id=run.pk,
        patient=PatientRecord(
            key=patient.code, sex=patient.sex, birth_year=patient.birth_year, identifiers=identifiers
        ),
        indication=run.indication,
        started_at=run.started_at,
        ended_at=run.ended_at,
        outcome=run.outcome,
        survived_to_discharge=run.survived_to_discharge,
        weight_kg=float(run.weight_kg) if run.weight_kg is not None else None,
        height_cm=float(run.height_cm) if run.height_cm is not None else None,
        indication_detail=run.indication_detail,
        location=run.location,
        console_serial=run.console_serial,
        program=run.program.name,
        configurations=tuple(
            ConfigurationRecord(mode=c.mode, started_at=c.started_at, reason=c.reason)
            for c in run.configurations.all()
        ),
        cannulas=tuple(
            CannulaRecord(
                id=c.pk,
                purpose=c.purpose,
                site=c.site,
                size_fr=c.size_fr,
                inserted_at=c.inserted_at,
                removed_at=c.removed_at,
                length_cm=c.length_cm,
                tip_position=c.tip_position,
                maker_model=c.maker_model,
            )
            for c in run.cannulas.all()
        ),
        circuits=tuple(
            CircuitRecord(
                id=circuit.pk,
                started_at=circuit.started_at,
                ended_at=circuit.ended_at,
                reason_ended=circuit.reason_ended,
                components=tuple(
                    ComponentRecord(
                        id=c.pk,
                        kind=c.kind,
                        maker=c.maker,
                        model=c.model,
                        installed_at=c.installed_at,
                        removed_at=c.removed_at,
                        lot=c.lot,
                        serial=c.serial,
                        reason_removed=c.reason_removed,
                        catalogued=c.catalogue_item_id is not None,
                    )
                    for c in circuit.components.all()
                ),
            )
            for circuit in run.circuits.all()
        ),
        mcs_devices=tuple(
            McsRecord(
                id=m.pk,
                kind=m.kind,
                model=m.model,
                inserted_at=m.inserted_at,
                removed_at=m.removed_at,
                site=m.site,
            )
            for m in run.mcs_devices.all()
        ),
        complications=tuple(complications),
        measurements=tuple(measurements),
        summaries=tuple(summaries),
        checks=tuple(checks),
    )
