"""API for circuit surveillance (core-api §6): samples, hourly checks, alerts.

Numbers and times are accepted as JSON numbers or strings and checked by the actions, so that every bad value is
a 400 naming ``samples[i].field`` (or the check field) with the accepted range and unit, never a 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import BaseModel

from ecmo_web import jobs
from ecmo_web.kernel import aware
from ecmo_web.runs.models import Component, EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance import actions, evaluation_queue
from ecmo_web.surveillance.evaluation_queue import evaluate_if_due
from ecmo_web.surveillance.models import (
    Alert,
    AlertTransition,
    CircuitCheck,
    ClotFinding,
    IngestBatch,
    Sample,
)
from ecmo_web.surveillance.present import alert_dict, person

router = Router(tags=["surveillance"])

MAX_SAMPLES_PER_BATCH = 50_000


class SampleIn(BaseModel):
    # A plain pydantic model (no ninja ``Schema`` hook per item): a batch of 10⁴ items is read in compiled code.
    observed_at: str = Field(..., description="ISO 8601 with a UTC offset or Z, e.g. 2026-11-20T10:00:00Z")
    parameter: str = Field(..., description="a core-api §4 code, e.g. blood_flow_l_min")
    value: float | str = Field(..., description="a number in the parameter's unit (fractions 0–1)")
    source: str = Field("device", description="device (console), check, lab, estimate …")


class SampleColumnsIn(BaseModel):
    """The columnar form: one list of times and, per parameter, one list of values at those times."""

    observed_at: list[str] = Field(
        ..., description="ISO 8601 times with a UTC offset or Z, one per row of every values list"
    )
    values: dict[str, list[float | str | None]] = Field(
        ...,
        description="core-api §4 code → its values at those times, in the parameter's unit (fractions 0–1); "
        "null where the parameter has no value at that time",
    )
    source: str = Field("device", description="the source of every value: device (console), check, lab …")


class SamplesIn(Schema):
    samples: list[SampleIn] | None = Field(
        None, description="the list form: one object per sample (give this or `columns`)"
    )
    columns: SampleColumnsIn | None = Field(
        None,
        description="the columnar form, e.g. a console's export: `{observed_at: [t0, t1, …], values: "
        "{blood_flow_l_min: [4.8, 4.9, …], …}}` (give this or `samples`); checked and stored column-wise, "
        "the fastest way in for large batches",
    )
    batch_ref: str = Field(
        "",
        max_length=200,
        description="idempotency key: the batch's id at its origin. A batch resent with the same id (after a "
        "timeout or a lost response) adds nothing and answers created 0; samples are also unique on (run, "
        "parameter, observed_at, source), so a resend without an id stores nothing twice either",
    )


class SampleOut(Schema):
    observed_at: dt.datetime
    parameter: str
    value: float
    source: str


class IngestOut(Schema):
    created: int
    duplicates: int
    transitions: int = Field(..., description="alert transitions of the evaluation run after this batch")
    evaluated: bool = Field(
        ...,
        description="false when the evaluation was queued instead: the run was evaluated less than the "
        "evaluation interval (default 1 s) ago, or the batch is larger than ECMO_API_INLINE_EVALUATION_MAX "
        "(default 1,000 samples); the evaluator then does it",
    )


def _run(request: HttpRequest, run_id: int, action: str) -> EcmoRun:
    return get_checked(EcmoRun.objects.select_related("program"), request.user, action, pk=run_id)


def _time(name: str, value: str | None) -> dt.datetime | None:
    if value in (None, ""):
        return None
    return aware(value, field=name)


@router.get("/runs/{run_id}/samples", response=list[SampleOut])
def list_samples(
    request: HttpRequest,
    run_id: int,
    parameter: str | None = None,
    since: str | None = None,
    until: str | None = None,
    source: str | None = None,
    limit: int = 10_000,
) -> Any:
    """Samples of a run, oldest first; filter by ``parameter``, ``source`` and [``since``, ``until``]."""
    run = _run(request, run_id, "run.view")
    if not 1 <= limit <= 100_000:
        raise ValidationError({"limit": "must be between 1 and 100000"})
    qs = Sample.objects.filter(run=run)
    if parameter:
        qs = qs.filter(parameter=parameter)
    if source:
        qs = qs.filter(source=source)
    start, end = _time("since", since), _time("until", until)
    if start is not None:
        qs = qs.filter(observed_at__gte=start)
    if end is not None:
        qs = qs.filter(observed_at__lte=end)
    return list(
        qs.order_by("observed_at", "parameter", "source").values(
            "observed_at", "parameter", "value", "source"
        )[:limit]
    )


@router.post("/runs/{run_id}/samples", response=IngestOut)
def post_samples(request: HttpRequest, run_id: int, payload: SamplesIn) -> dict[str, Any]:
    """Store a batch of samples, all or nothing. Safe to resend: idempotent on ``batch_ref`` and on (run, parameter,
    observed_at, source), so a client that lost the response resends the same batch and nothing is stored twice.

    Give either ``samples`` (a list of objects) or ``columns`` (one list of times and a list of values per
    parameter). Errors name the field and the row: ``samples[i].value`` or ``columns.values.<code>[i]``, with the
    accepted range and unit. The batch is committed first; the run is then evaluated at most once per evaluation
    interval however many batches arrive (``evaluated`` says whether this batch's answer includes it). A batch of
    more than ``ECMO_API_INLINE_EVALUATION_MAX`` samples (default 1,000: a back-fill, an export) is never evaluated
    in the request: its evaluation is queued for the workers (Celery when a broker is set; otherwise the evaluator
    that ``ecmo serve`` runs in each web worker, or that of ``ecmo mllp-listen``)."""
    run = _run(request, run_id, "sample.ingest")
    if (payload.samples is None) == (payload.columns is None):
        raise ValidationError({"samples": "give either samples (a list) or columns, not both"})
    batch = _columns(payload)
    if len(batch) > MAX_SAMPLES_PER_BATCH:
        raise ValidationError({"samples": f"at most {MAX_SAMPLES_PER_BATCH} samples per batch"})
    result = actions.ingest_samples(
        actor_or_system=request.user,
        run=run,
        samples=batch,
        batch_ref=payload.batch_ref,
        kind=IngestBatch.Kind.API,
        queue_evaluation=True,
    )
    transitions: list[Any] | None = []
    if result.created:
        if len(batch) <= inline_evaluation_max():
            transitions = evaluate_if_due(run.pk)
        else:
            transitions = None
            if jobs.broker_configured():
                jobs.dispatch("surveillance.evaluate_pending")
        if transitions is None:
            evaluation_queue.wake_in_process()
    return {
        "created": result.created,
        "duplicates": result.duplicates,
        "transitions": len(transitions or []),
        "evaluated": transitions is not None,
    }


def inline_evaluation_max() -> int:
    """The largest batch evaluated within its request (``ECMO_API_INLINE_EVALUATION_MAX``, default 1,000)."""
    return int(getattr(settings, "ECMO_API_INLINE_EVALUATION_MAX", 1000))


def _columns(payload: SamplesIn) -> actions.SampleColumns:
    """Either form of the body as columns (rows in order), with the field names its errors use."""
    if payload.samples is not None:
        items = payload.samples
        return actions.SampleColumns(
            observed_at=[s.observed_at for s in items],
            parameter=[s.parameter for s in items],
            value=[s.value for s in items],
            source=[s.source for s in items],
        )
    assert payload.columns is not None
    columns = payload.columns
    times = columns.observed_at
    for code, series in columns.values.items():
        if len(series) != len(times):
            raise ValidationError(
                {f"columns.values.{code}": f"has {len(series)} values for {len(times)} times (observed_at)"}
            )
    at: list[str] = []
    parameters: list[str] = []
    values: list[Any] = []
    where: list[tuple[str, int]] = []
    for code, series in columns.values.items():
        for t, value in enumerate(series):
            if value is not None:
                at.append(times[t])
                parameters.append(code)
                values.append(value)
                where.append((code, t))

    def field(i: int, name: str) -> str:
        code, t = where[i]
        if name == "observed_at":
            return f"columns.observed_at[{t}]"
        if name == "parameter":
            return f"columns.values.{code}"
        if name == "source":
            return "columns.source"
        return f"columns.values.{code}[{t}]"

    return actions.SampleColumns(at, parameters, values, [columns.source] * len(at), field)


# --- checks ---------------------------------------------------------------------------------------------------

Number = float | str | None


class ClotIn(Schema):
    location: str
    appearance: str
    size_mm: Number = None
    change: str = "new"
    action: str = "observe"


class ClotOut(Schema):
    location: str
    appearance: str
    size_mm: float | None
    change: str
    action: str


class CheckIn(Schema):
    observed_at: str
    pump_speed_rpm: Number = None
    blood_flow_l_min: Number = None
    access_pressure_mmhg: Number = None
    pre_oxygenator_pressure_mmhg: Number = None
    post_oxygenator_pressure_mmhg: Number = None
    sweep_gas_l_min: Number = None
    fdo2: Number = None
    blood_temperature_c: Number = None
    heater_set_temperature_c: Number = None
    colour_difference: str = ""
    air_in_circuit: bool = False
    connectors_secure: bool = True
    cannula_sites_ok: bool = True
    hand_crank_present: bool = True
    clamps_present: bool = True
    backup_console_ready: bool = True
    battery_charged: bool = True
    gas_supply_connected: bool = True
    notes: str = ""
    clots: list[ClotIn] = []


class AmendIn(CheckIn):
    reason: str
    version: int | None = None  # the check version the client read; a stale one is refused with 409
    observed_at: str | None = None  # type: ignore[assignment]


class CheckOut(Schema):
    id: int
    run_id: int
    observed_at: dt.datetime
    recorded_by: str | None
    recorded_at: dt.datetime
    version: int
    original_id: int | None
    amendment_reason: str
    is_current: bool
    pump_speed_rpm: float | None
    blood_flow_l_min: float | None
    access_pressure_mmhg: float | None
    pre_oxygenator_pressure_mmhg: float | None
    post_oxygenator_pressure_mmhg: float | None
    delta_p_mmhg: float | None
    sweep_gas_l_min: float | None
    fdo2: float | None
    blood_temperature_c: float | None
    heater_set_temperature_c: float | None
    colour_difference: str
    air_in_circuit: bool
    connectors_secure: bool
    cannula_sites_ok: bool
    hand_crank_present: bool
    clamps_present: bool
    backup_console_ready: bool
    battery_charged: bool
    gas_supply_connected: bool
    notes: str
    prefilled_fields: list[str]
    clots: list[ClotOut]


def _check_out(check: CircuitCheck) -> dict[str, Any]:
    data = {f: getattr(check, f) for f in CheckOut.model_fields if f not in ("recorded_by", "clots")}
    user = check.recorded_by
    data["recorded_by"] = person(user)
    data["clots"] = [c.as_dict() for c in check.clots.all()]
    return data


def _check_data(payload: CheckIn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = payload.dict(exclude={"clots", "observed_at", "reason"})
    return data, [c.dict() for c in payload.clots]


@router.get("/runs/{run_id}/checks", response=list[CheckOut])
def list_checks(
    request: HttpRequest,
    run_id: int,
    since: str | None = None,
    until: str | None = None,
    include_amended: bool = False,
) -> list[dict[str, Any]]:
    """Hourly checks, newest first; ``include_amended=true`` adds every earlier version (amendment chain)."""
    run = _run(request, run_id, "run.view")
    qs = (
        CircuitCheck.objects.filter(run=run)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("clots", queryset=ClotFinding.objects.order_by("pk")))
    )
    if not include_amended:
        qs = qs.filter(is_current=True)
    start, end = _time("since", since), _time("until", until)
    if start is not None:
        qs = qs.filter(observed_at__gte=start)
    if end is not None:
        qs = qs.filter(observed_at__lte=end)
    return [_check_out(c) for c in qs.order_by("-observed_at", "-version")[:2000]]


@router.post("/runs/{run_id}/checks", response={201: CheckOut})
def post_check(request: HttpRequest, run_id: int, payload: CheckIn) -> Status[dict[str, Any]]:
    """Record an hourly circuit check (pump speed and flow are required)."""
    run = _run(request, run_id, "check.record")
    data, clots = _check_data(payload)
    check = actions.record_check(
        actor=request.user, run=run, observed_at=payload.observed_at, data=data, clots=clots
    )
    return Status(201, _check_out(check))


@router.post("/checks/{check_id}/amend", response={201: CheckOut})
def amend_check(request: HttpRequest, check_id: int, payload: AmendIn) -> Status[dict[str, Any]]:
    """Amend a check with a reason: a new version; the original stays readable."""
    check = get_checked(
        CircuitCheck.objects.select_related("run__program"), request.user, "check.amend", pk=check_id
    )
    data, clots = _check_data(payload)
    amended = actions.amend_check(
        actor=request.user,
        check=check,
        reason=payload.reason,
        data=data,
        observed_at=payload.observed_at,
        clots=clots,
        version=payload.version,
    )
    return Status(201, _check_out(amended))


# --- alerts ---------------------------------------------------------------------------------------------------


class TransitionOut(Schema):
    at: dt.datetime
    rule_id: str
    rule_version: int
    from_status: str | None
    to_status: str
    severity: str
    message: str
    evidence: dict[str, Any]


class AlertOut(Schema):
    id: int
    run_id: int
    rule_id: str
    rule_version: int
    title: str
    severity: str
    peak_severity: str
    status: str
    opened_at: dt.datetime
    firing_since: dt.datetime | None
    message: str
    evidence: dict[str, Any]
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None
    acknowledged_comment: str
    escalated_at: dt.datetime | None
    escalated_to_role: str | None
    resolved_at: dt.datetime | None
    resolved_by: str | None
    resolved_comment: str
    resolved_component_id: int | None
    transitions: int


class AlertDetailOut(AlertOut):
    history: list[TransitionOut]


def _alert_out(alert: Alert) -> dict[str, Any]:
    return {
        **alert_dict(alert),
        "run_id": alert.run_id,
        "firing_since": alert.firing_since,
        "evidence": alert.evidence,
        "transitions": getattr(alert, "n_transitions", 0),
    }


def _alerts() -> QuerySet[Alert]:
    return Alert.objects.select_related("acknowledged_by", "resolved_by", "run__program")


@router.get("/runs/{run_id}/alerts", response=list[AlertOut])
def list_alerts(
    request: HttpRequest,
    run_id: int,
    status: str | None = None,
    open: bool | None = None,
    rule_id: str | None = None,
    since: str | None = None,
) -> list[dict[str, Any]]:
    """Alerts of a run, newest first. Filters: ``status`` (firing, clear, indeterminate, not_applicable), ``open``
    (unresolved), ``rule_id``, ``since`` (opened at or after)."""
    run = _run(request, run_id, "run.view")
    qs = _alerts().filter(run=run).annotate(n_transitions=Count("transitions"))
    if status:
        qs = qs.filter(status=status)
    if open is not None:
        qs = qs.filter(resolved_at__isnull=open)
    if rule_id:
        qs = qs.filter(rule_id=rule_id)
    start = _time("since", since)
    if start is not None:
        qs = qs.filter(opened_at__gte=start)
    return [_alert_out(a) for a in qs.order_by("-opened_at")]


@router.get("/alerts/{alert_id}", response=AlertDetailOut)
def get_alert(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    """An alert with every transition of its episode."""
    alert = get_checked(
        _alerts().annotate(n_transitions=Count("transitions")), request.user, "run.view", pk=alert_id
    )
    history = list(AlertTransition.objects.filter(alert=alert).order_by("at", "pk"))
    return {**_alert_out(alert), "history": history}


class AcknowledgeIn(Schema):
    comment: str = Field("", max_length=2000)


class EscalateIn(Schema):
    role: str
    reason: str = Field("", max_length=500)


class ResolveIn(Schema):
    comment: str = Field(..., max_length=2000)
    component_id: int | None = None


def _alert_for(request: HttpRequest, alert_id: int, action: str) -> Alert:
    return get_checked(_alerts(), request.user, action, pk=alert_id)


def _written(alert: Alert) -> dict[str, Any]:
    """An alert after a write, read back with its real transition count."""
    return _alert_out(_alerts().annotate(n_transitions=Count("transitions")).get(pk=alert.pk))


@router.post("/alerts/{alert_id}/acknowledge", response=AlertOut)
def acknowledge(request: HttpRequest, alert_id: int, payload: AcknowledgeIn) -> dict[str, Any]:
    """Acknowledge an open alert (who and when are recorded)."""
    alert = _alert_for(request, alert_id, "alert.acknowledge")
    return _written(actions.acknowledge_alert(actor=request.user, alert=alert, comment=payload.comment))


@router.post("/alerts/{alert_id}/escalate", response=AlertOut)
def escalate(request: HttpRequest, alert_id: int, payload: EscalateIn) -> dict[str, Any]:
    """Escalate an open alert to a named role (e.g. ``intensivist``)."""
    alert = _alert_for(request, alert_id, "alert.acknowledge")
    return _written(
        actions.escalate_alert(
            actor_or_system=request.user, alert=alert, role=payload.role, reason=payload.reason
        )
    )


@router.post("/alerts/{alert_id}/resolve", response=AlertOut)
def resolve(request: HttpRequest, alert_id: int, payload: ResolveIn) -> dict[str, Any]:
    """Resolve an alert with what was done, optionally linking the component fitted (a circuit change)."""
    alert = _alert_for(request, alert_id, "alert.resolve")
    component = None
    if payload.component_id is not None:
        component = Component.objects.filter(pk=payload.component_id, circuit__run_id=alert.run_id).first()
        if component is None:
            raise ValidationError({"component_id": "no such component on this run"})
    return _written(
        actions.resolve_alert(
            actor=request.user, alert=alert, comment=payload.comment, component=component, now=timezone.now()
        )
    )
