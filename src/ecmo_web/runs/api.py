"""API for runs: list and detail (core-api §6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from ecmo_web.permissions import can, restrict
from ecmo_web.runs.models import Circuit, EcmoRun, McsDevice
from ecmo_web.runs.views import run_queryset
from ecmo_web.shortcuts import get_checked

router = Router(tags=["runs"])


class ConfigurationOut(Schema):
    mode: str
    mode_label: str
    started_at: dt.datetime
    reason: str


class RunSummaryOut(Schema):
    id: int
    program_id: int
    patient_code: str
    indication: str
    indication_detail: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: str
    mode: str | None
    location: str


class CannulaOut(Schema):
    id: int
    purpose: str
    site: str
    size_fr: int
    length_cm: int | None
    tip_position: str
    inserted_at: dt.datetime
    removed_at: dt.datetime | None


class ComponentOut(Schema):
    id: int
    kind: str
    maker: str
    model: str
    lot: str
    serial: str
    installed_at: dt.datetime
    removed_at: dt.datetime | None
    reason_removed: str
    age_hours: float


class CircuitOut(Schema):
    id: int
    started_at: dt.datetime
    ended_at: dt.datetime | None
    components: list[ComponentOut]


class McsSettingOut(Schema):
    at: dt.datetime
    impella_p_level: int | None
    flow_l_min: Decimal | None
    iabp_ratio: str
    vad_speed_rpm: int | None
    note: str


class McsDeviceOut(Schema):
    id: int
    kind: str
    model: str
    site: str
    inserted_at: dt.datetime
    removed_at: dt.datetime | None
    settings: list[McsSettingOut]


class TargetOut(Schema):
    parameter: str
    low: float | None
    high: float | None
    agent: str
    effective_from: dt.datetime


class RunDetailOut(RunSummaryOut):
    patient_identifiers: dict[str, str] | None
    weight_kg: Decimal | None
    height_cm: Decimal | None
    configurations: list[ConfigurationOut]
    cannulas: list[CannulaOut]
    circuits: list[CircuitOut]
    mcs_devices: list[McsDeviceOut]
    targets: list[TargetOut]


def _summary(run: EcmoRun) -> dict[str, object]:
    mode = run.current_mode()
    return {
        "id": run.pk,
        "program_id": run.program_id,
        "patient_code": run.patient.code,
        "indication": run.indication,
        "indication_detail": run.indication_detail,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "outcome": run.outcome,
        "mode": mode.mode if mode else None,
        "location": run.location,
    }


@router.get("/runs", response=list[RunSummaryOut])
def list_runs(request: HttpRequest, active: bool | None = None) -> list[dict[str, object]]:
    """Runs the caller may see, newest first; ``active=true`` for runs still on ECMO."""
    qs = restrict(run_queryset(), request.user, "run.view").order_by("-started_at")
    if active is not None:
        qs = qs.filter(ended_at__isnull=active)
    return [_summary(r) for r in qs]


@router.get("/runs/{run_id}", response=RunDetailOut)
def get_run(request: HttpRequest, run_id: int) -> dict[str, object]:
    """A run with its configuration history, cannulas, circuits with components, MCS devices and targets."""
    run = get_checked(
        EcmoRun.objects.select_related("patient", "program").prefetch_related(
            "configurations",
            "cannulas",
            "targets",
            "patient__identifiers",
            Prefetch("circuits", queryset=Circuit.objects.prefetch_related("components")),
            Prefetch("mcs_devices", queryset=McsDevice.objects.prefetch_related("settings")),
        ),
        request.user,
        "run.view",
        pk=run_id,
    )
    now = timezone.now()
    identifiers = (
        {i.kind: i.value for i in run.patient.identifiers.all()}
        if can(request.user, "patient.identify", run)
        else None
    )
    return {
        **_summary(run),
        "patient_identifiers": identifiers,
        "weight_kg": run.weight_kg,
        "height_cm": run.height_cm,
        "configurations": [
            {
                "mode": c.mode,
                "mode_label": c.get_mode_display(),
                "started_at": c.started_at,
                "reason": c.reason,
            }
            for c in run.configurations.all()
        ],
        "cannulas": list(run.cannulas.all()),
        "circuits": [
            {
                "id": c.pk,
                "started_at": c.started_at,
                "ended_at": c.ended_at,
                "components": [
                    {
                        **{f: getattr(x, f) for f in ComponentOut.model_fields if f != "age_hours"},
                        "age_hours": round(x.age(now).total_seconds() / 3600, 2),
                    }
                    for x in c.components.all()
                ],
            }
            for c in run.circuits.all()
        ],
        "mcs_devices": [
            {
                "id": d.pk,
                "kind": d.kind,
                "model": d.model,
                "site": d.site,
                "inserted_at": d.inserted_at,
                "removed_at": d.removed_at,
                "settings": list(d.settings.all()),
            }
            for d in run.mcs_devices.all()
        ],
        "targets": list(run.targets.all()),
    }
