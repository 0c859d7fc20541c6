"""Hourly circuit checks: record and amend, with clot findings; their values become samples."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_core.errors import InputError
from ecmo_core.surveillance import (
    PARAMETERS,
    check_value,
)
from ecmo_core.surveillance import (
    Sample as CoreSample,
)
from ecmo_web.audit.chain import snapshot
from ecmo_web.kernel import (
    actor_name,
    audit,
    aware,
    conflict,
    expect_version,
    not_in_future,
    require,
    user_of,
)
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import hooks, rollup
from ecmo_web.surveillance.actions.alerts import resolve_answered_check_overdue
from ecmo_web.surveillance.actions.evaluate import evaluate_run, lock_evaluation
from ecmo_web.surveillance.actions.ingest import _write_samples
from ecmo_web.surveillance.models import (
    CHECK,
    CHECK_PARAMETERS,
    INSPECTION_FIELDS,
    SAFETY_FIELDS,
    CircuitCheck,
    ClotFinding,
    ColourDifference,
    IngestBatch,
    Sample,
)

CHECK_FIELDS: tuple[str, ...] = (
    *CHECK_PARAMETERS,
    "heater_set_temperature_c",
    "colour_difference",
    *INSPECTION_FIELDS,
    *SAFETY_FIELDS,
    "notes",
)
CLOT_FIELDS = ("location", "appearance", "size_mm", "change", "action")


def _check_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The check's fields from ``data``, validated; ValidationError names the field and its accepted range."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in CHECK_PARAMETERS:
        raw = data.get(name)
        if raw is None or raw == "":
            values[name] = None
            continue
        try:
            values[name] = check_value(name, raw)
        except InputError as error:
            spec = PARAMETERS[name]
            errors[name] = [f"{error.message} (accepted {spec.minimum:g} to {spec.maximum:g} {spec.unit})"]
    for name in ("pump_speed_rpm", "blood_flow_l_min"):
        if values.get(name) is None and name not in errors:
            errors[name] = ["is required: record the pump speed and the blood flow at every check"]
    heater = data.get("heater_set_temperature_c")
    if heater in (None, ""):
        values["heater_set_temperature_c"] = None
    else:
        try:
            heater = float(heater)
        except (TypeError, ValueError):
            errors["heater_set_temperature_c"] = ["must be a number (15 to 41 °C)"]
        else:
            if not 15 <= heater <= 41:
                errors["heater_set_temperature_c"] = [
                    f"{heater:g} °C is outside the heater range 15 to 41 °C"
                ]
            values["heater_set_temperature_c"] = heater
    colour = data.get("colour_difference") or ""
    if colour not in ("", *ColourDifference.values):
        errors["colour_difference"] = [f"must be one of {', '.join(ColourDifference.values)}"]
    values["colour_difference"] = colour
    for name in (*INSPECTION_FIELDS, *SAFETY_FIELDS):
        default = name != "air_in_circuit"
        raw = data.get(name, default)
        if not isinstance(raw, bool):
            errors[name] = ["must be true or false"]
        values[name] = raw
    values["notes"] = str(data.get("notes") or "").strip()
    if errors:
        raise ValidationError(errors)
    return values


def _clot_rows(clots: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    errors: dict[str, list[str]] = {}
    for i, clot in enumerate(clots):
        location = str(clot.get("location") or "").strip()
        appearance = str(clot.get("appearance") or "").strip()
        size = clot.get("size_mm")
        if not location and not appearance and size in (None, ""):
            continue
        if not location:
            errors[f"clots[{i}].location"] = ["say where (component and place)"]
        if not appearance:
            errors[f"clots[{i}].appearance"] = ["say what it looks like (clot, fibrin, deposit)"]
        if size in ("",):
            size = None
        if size is not None:
            try:
                size = float(size)
            except (TypeError, ValueError):
                errors[f"clots[{i}].size_mm"] = ["must be a number of millimetres (0 to 200)"]
                size = None
            else:
                if not 0 <= size <= 200:
                    errors[f"clots[{i}].size_mm"] = [f"{size:g} mm is outside 0 to 200 mm"]
        change = clot.get("change") or ClotFinding.Change.NEW
        action = clot.get("action") or ClotFinding.Action.OBSERVE
        if change not in ClotFinding.Change.values:
            errors[f"clots[{i}].change"] = [f"must be one of {', '.join(ClotFinding.Change.values)}"]
        if action not in ClotFinding.Action.values:
            errors[f"clots[{i}].action"] = [f"must be one of {', '.join(ClotFinding.Action.values)}"]
        rows.append(
            {
                "location": location[:120],
                "appearance": appearance[:120],
                "size_mm": size,
                "change": change,
                "action": action,
            }
        )
    if errors:
        raise ValidationError(errors)
    return rows


def _check_samples(check: CircuitCheck) -> list[CoreSample]:
    samples = [
        CoreSample(check.observed_at, name, getattr(check, name), CHECK)
        for name in CHECK_PARAMETERS
        if getattr(check, name) is not None
    ]
    samples.append(
        CoreSample(check.observed_at, "bubble_detected", 1.0 if check.air_in_circuit else 0.0, CHECK)
    )
    return samples


def _check_time(
    run: EcmoRun, observed_at: Any, now: dt.datetime, *, exclude_chain: int | None = None
) -> dt.datetime:
    at = aware(observed_at, field="observed_at")
    if at < run.started_at:
        raise ValidationError({"observed_at": "cannot be before the run started"})
    if run.ended_at is not None and at > run.ended_at:
        raise ValidationError({"observed_at": "cannot be after the run ended"})
    not_in_future(at, field="observed_at", now=now)
    clash = CircuitCheck.objects.filter(run=run, is_current=True, observed_at=at)
    if exclude_chain is not None:
        clash = clash.exclude(pk=exclude_chain).exclude(original_id=exclude_chain)
    if clash.exists():
        raise ValidationError({"observed_at": "a check at this time is already recorded: amend it instead"})
    return at


def _prefilled(
    values: Mapping[str, Any], prefill: Mapping[str, Mapping[str, Any]] | None
) -> tuple[list[str], dict[str, Any]]:
    """Fields whose value is still the one taken from telemetry (the perfusionist accepted it unchanged)."""
    kept: list[str] = []
    detail: dict[str, Any] = {}
    for name, info in (prefill or {}).items():
        value = values.get(name)
        try:
            offered = float(info.get("value"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if name in CHECK_PARAMETERS and value is not None and abs(float(value) - offered) < 1e-9:
            kept.append(name)
            detail[name] = {
                "value": offered,
                "at": str(info.get("at", "")),
                "source": str(info.get("source", "")),
            }
    return sorted(kept), detail


def _check_snapshot(check: CircuitCheck) -> dict[str, Any]:
    return {**snapshot(check), "clots": [c.as_dict() for c in check.clots.all()]}


@transaction.atomic
def record_check(
    *,
    actor: Any,
    run: EcmoRun,
    observed_at: dt.datetime | str,
    data: Mapping[str, Any],
    clots: Iterable[Mapping[str, Any]] = (),
    prefill: Mapping[str, Mapping[str, Any]] | None = None,
    now: dt.datetime | None = None,
) -> CircuitCheck:
    """Record an hourly circuit check; its values become samples with source "check", then the run is evaluated.

    ``data`` holds the check's fields (core-api §4 codes for the measured values, visual inspection and safety
    booleans, notes). ``prefill`` maps the fields offered from telemetry to ``{"value", "at", "source"}``; those
    submitted unchanged are stored in ``prefilled_fields``. ``observed_at``: aware, or ISO 8601 text with an offset
    (the API's), read by ``kernel.aware``.
    """
    require(actor, "check.record", run)
    now = now or timezone.now()
    at = _check_time(run, observed_at, now)
    values = _check_values(data)
    clot_rows = _clot_rows(clots)
    prefilled, detail = _prefilled(values, prefill)
    check = CircuitCheck(
        run=run,
        observed_at=at,
        recorded_by=user_of(actor),
        recorded_at=now,
        **values,
        prefilled_fields=prefilled,
        prefill_detail=detail,
    )
    check.full_clean(exclude=["original", "supersedes"])
    lock_evaluation(run)  # cursor before the chain head: the other order deadlocked against an evaluator
    check.save()
    ClotFinding.objects.bulk_create([ClotFinding(check_record=check, **row) for row in clot_rows])
    batch = IngestBatch.objects.create(
        run=run,
        kind=IngestBatch.Kind.CHECK,
        ref=f"check:{check.pk}",
        actor_name=actor_name(actor),
        received_at=now,
    )
    created, _ = _write_samples(run, _check_samples(check), batch=batch, now=now, check=check)
    batch.created_count = len(created)
    batch.save(update_fields=["created_count"])
    audit(actor, action="check.recorded", obj=check, after=_check_snapshot(check))
    hooks.check_written(check, amended=False)
    evaluate_run(run, now=now, replay_from=at)
    resolve_answered_check_overdue(check=check, now=now)
    return check


@transaction.atomic
def amend_check(
    *,
    actor: Any,
    check: CircuitCheck,
    reason: str,
    data: Mapping[str, Any],
    observed_at: dt.datetime | str | None = None,
    clots: Iterable[Mapping[str, Any]] | None = None,
    now: dt.datetime | None = None,
    version: int | None = None,
) -> CircuitCheck:
    """Amend a check: a new version row with the reason; the original and every earlier version stay readable.

    The check's samples (source "check") are replaced by the new version's values. ``check`` is the version the
    editor read (the form's URL names it; an API client may also send its ``version``): if someone amended it
    meanwhile, nothing is saved and ``kernel.VersionConflict`` says who, when and what they wrote.
    """
    require(actor, "check.amend", check)
    now = now or timezone.now()
    if not reason or not reason.strip():
        raise ValidationError({"reason": "say why the check is amended (the original is kept)"})
    check = CircuitCheck.objects.select_for_update().get(pk=check.pk)
    if not check.is_current:
        current = CircuitCheck.objects.filter(original_id=check.chain_id, is_current=True).first() or check
        raise conflict(current, current=current.version)
    expect_version(check, version)
    run = check.run
    chain = check.chain_id
    at = check.observed_at if observed_at is None else _check_time(run, observed_at, now, exclude_chain=chain)
    values = _check_values(data)
    clot_rows = _clot_rows([c.as_dict() for c in check.clots.all()] if clots is None else clots)
    unchanged = [f for f in check.prefilled_fields if values.get(f) == getattr(check, f)]
    before = _check_snapshot(check)
    lock_evaluation(run)  # cursor before the chain head: the other order deadlocked against an evaluator
    check.is_current = False
    check.save(update_fields=["is_current"])
    amended = CircuitCheck(
        run=run,
        observed_at=at,
        recorded_by=user_of(actor),
        recorded_at=now,
        **values,
        prefilled_fields=unchanged,
        prefill_detail={k: v for k, v in check.prefill_detail.items() if k in unchanged},
        version=check.version + 1,
        original_id=chain,
        supersedes=check,
        amendment_reason=reason.strip(),
    )
    amended.full_clean(exclude=["original", "supersedes"])
    amended.save()
    ClotFinding.objects.bulk_create([ClotFinding(check_record=amended, **row) for row in clot_rows])
    removed = list(
        Sample.objects.filter(check_record=check).values_list("run_id", "parameter", "observed_at")
    )
    Sample.objects.filter(check_record=check).delete()
    rollup.remove_samples(removed)
    batch = IngestBatch.objects.create(
        run=run,
        kind=IngestBatch.Kind.CHECK,
        ref=f"check:{amended.pk}",
        actor_name=actor_name(actor),
        received_at=now,
    )
    created, _ = _write_samples(run, _check_samples(amended), batch=batch, now=now, check=amended)
    batch.created_count = len(created)
    batch.save(update_fields=["created_count"])
    audit(
        actor,
        action="check.amended",
        obj=amended,
        before=before,
        after=_check_snapshot(amended),
        reason=reason.strip(),
    )
    hooks.check_written(amended, amended=True)
    evaluate_run(run, now=now, replay_from=min(at, check.observed_at))
    return amended
