"""Every write to runs, circuits and MCS devices. Each action checks permission, writes, and appends an audit
event in the same transaction; views and the API call these and nothing else."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import snapshot
from ecmo_web.kernel import VersionConflict, audit, aware, last_change, lock, not_in_future, require
from ecmo_web.runs.models import (
    Cannula,
    CatalogueItem,
    Circuit,
    Component,
    ComponentKind,
    ConfigurationEntry,
    EcmoRun,
    McsDevice,
    McsSetting,
    Outcome,
    Patient,
    PatientIdentifier,
    RunTarget,
)


def _not_before_run(run: EcmoRun, name: str, value: dt.datetime) -> None:
    if value < run.started_at:
        raise ValidationError({name: "cannot be before the run started"})
    if run.ended_at is not None and value > run.ended_at:
        raise ValidationError({name: "cannot be after the run ended"})


def _decimal(value: Decimal | float | int | None) -> Decimal | None:
    """Floats from code or JSON become the decimal a person typed (2.1, not 2.100000000000000088…)."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _save(obj: Any) -> None:
    obj.full_clean()
    obj.save()


@transaction.atomic
def start_run(
    *,
    actor: Any,
    program: Program,
    patient_code: str,
    sex: str,
    birth_year: int | None,
    indication: str,
    indication_detail: str = "",
    mode: str,
    started_at: dt.datetime,
    weight_kg: Decimal | float | None = None,
    height_cm: Decimal | float | None = None,
    location: str = "",
    console_serial: str = "",
    identifiers: dict[str, str] | None = None,
    identifier_authority: str = "",
) -> EcmoRun:
    """Start a run: the patient (created if the code is new), the run and its first configuration.

    ``identifier_authority``: who issued the MRN / national number (HL7 PID-3.4), kept with them."""
    require(actor, "run.create", program)
    started_at = aware(started_at, field="started_at")
    patient = Patient.objects.filter(program=program, code=patient_code).first()
    if patient is None:
        patient = Patient(program=program, code=patient_code, sex=sex, birth_year=birth_year)
        _save(patient)
        audit(actor=actor, action="patient.created", obj=patient, after=snapshot(patient))
        for kind, value in (identifiers or {}).items():
            if value:
                authority = identifier_authority if kind != PatientIdentifier.Kind.NAME else ""
                ident = PatientIdentifier(patient=patient, kind=kind, value=value, authority=authority)
                _save(ident)
                # Identifier values stay out of the audit payload: the trail is read by roles that may not
                # see identifiers.
                audit(actor=actor, action="patient.identifier_added", obj=ident, after={"kind": kind})
    elif EcmoRun.objects.filter(patient=patient, ended_at__isnull=True).exists():
        raise ValidationError({"patient_code": f"{patient_code} already has a run in progress"})
    run = EcmoRun(
        program=program,
        patient=patient,
        indication=indication,
        indication_detail=indication_detail,
        started_at=started_at,
        weight_kg=_decimal(weight_kg),
        height_cm=_decimal(height_cm),
        location=location,
        console_serial=console_serial,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _save(run)
    entry = ConfigurationEntry(run=run, mode=mode, started_at=started_at, reason="initial configuration")
    entry.recorded_by = run.created_by
    _save(entry)
    circuit = Circuit(run=run, started_at=started_at)
    _save(circuit)
    audit(
        actor=actor,
        action="run.started",
        obj=run,
        after={**snapshot(run), "mode": mode, "circuit_id": circuit.pk},
    )
    return run


@transaction.atomic
def change_configuration(
    *, actor: Any, run: EcmoRun, mode: str, started_at: dt.datetime, reason: str
) -> ConfigurationEntry:
    """Record a new configuration from ``started_at`` (one more history entry, never an edit)."""
    require(actor, "run.edit", run)
    started_at = aware(started_at, field="started_at")
    _not_before_run(run, "started_at", started_at)
    current = run.current_mode(started_at)
    if current is not None and current.mode == mode:
        raise ValidationError({"mode": f"the run is already {current.get_mode_display()} at that time"})
    if not reason.strip():
        raise ValidationError({"reason": "say why the configuration changed"})
    entry = ConfigurationEntry(run=run, mode=mode, started_at=started_at, reason=reason.strip())
    entry.recorded_by = actor if getattr(actor, "is_authenticated", False) else None
    _save(entry)
    audit(actor=actor, action="run.configuration_changed", obj=entry, after=snapshot(entry), reason=reason)
    return entry


@transaction.atomic
def add_cannula(
    *,
    actor: Any,
    run: EcmoRun,
    purpose: str,
    site: str,
    size_fr: int,
    inserted_at: dt.datetime,
    length_cm: int | None = None,
    tip_position: str = "",
    maker_model: str = "",
) -> Cannula:
    require(actor, "run.edit", run)
    inserted_at = aware(inserted_at, field="inserted_at")
    cannula = Cannula(
        run=run,
        purpose=purpose,
        site=site,
        size_fr=size_fr,
        inserted_at=inserted_at,
        length_cm=length_cm,
        tip_position=tip_position,
        maker_model=maker_model,
    )
    _save(cannula)
    audit(actor=actor, action="cannula.inserted", obj=cannula, after=snapshot(cannula))
    return cannula


def _remove(
    obj: Cannula | McsDevice,
    *,
    actor: Any,
    permission: str,
    what: str,
    audit_action: str,
    removed_at: dt.datetime,
    reason: str,
) -> None:
    """Close something inserted into the patient (a cannula, an MCS device) at ``removed_at``."""
    require(actor, permission, obj)
    removed_at = aware(removed_at, field="removed_at")
    if obj.removed_at is not None:
        raise ValidationError({"removed_at": f"this {what} is already removed"})
    if removed_at < obj.inserted_at:
        raise ValidationError({"removed_at": f"cannot be before the {what} was inserted"})
    before = snapshot(obj)
    obj.removed_at = removed_at
    obj.save(update_fields=["removed_at"])
    audit(actor=actor, action=audit_action, obj=obj, before=before, after=snapshot(obj), reason=reason)


@transaction.atomic
def remove_cannula(*, actor: Any, cannula: Cannula, removed_at: dt.datetime, reason: str = "") -> Cannula:
    _remove(
        cannula,
        actor=actor,
        permission="run.edit",
        what="cannula",
        audit_action="cannula.removed",
        removed_at=removed_at,
        reason=reason,
    )
    return cannula


def current_circuit(run: EcmoRun) -> Circuit | None:
    return run.circuits.filter(ended_at__isnull=True).order_by("-started_at").first()


def in_place_ids(run: EcmoRun) -> list[int]:
    """The ids of the components in place on ``run``'s current circuit: the state an install form was opened on."""
    circuit = current_circuit(run)
    return [] if circuit is None else _in_place(circuit)


def _in_place(circuit: Circuit) -> list[int]:
    return sorted(circuit.components.filter(removed_at__isnull=True).values_list("pk", flat=True))


def _expect_in_place(circuit: Circuit, kind: str, previous: Component | None, seen: Iterable[int]) -> None:
    """Refuse unless the component of ``kind`` in place is the one the editor saw (or none, if they saw none)."""
    seen_ids = {int(pk) for pk in seen}
    expected = circuit.components.filter(pk__in=seen_ids, kind=kind).order_by("-installed_at").first()
    if (expected.pk if expected else None) == (previous.pk if previous else None):
        return
    changed = previous or expected
    assert changed is not None
    _, who, when = last_change(changed)
    now = f"now in place: {previous.maker} {previous.model}" if previous else "none is in place now"
    if previous is not None and previous.lot:
        now += f", lot {previous.lot}"
    raise VersionConflict(
        "in_place",
        f"{who} changed the {ComponentKind(kind).label.lower()}{when} while you were editing ({now}); nothing was "
        "saved — check the circuit and record again.",
        current=",".join(str(pk) for pk in _in_place(circuit)),
    )


@transaction.atomic
def install_component(
    *,
    actor: Any,
    run: EcmoRun,
    kind: str,
    maker: str,
    model: str,
    installed_at: dt.datetime,
    lot: str = "",
    serial: str = "",
    catalogue_item: CatalogueItem | None = None,
    reason_replaced: str = "",
    in_place: Iterable[int] | None = None,
) -> Component:
    """Install a component on the current circuit. Where one of the same kind is in place (other than ``other``),
    it is removed at the same instant with ``reason_replaced`` (required), so the history has no gap or overlap.

    ``in_place`` is what the editor saw: the ids of the components in place when the form was opened. Given, the
    install is refused (``VersionConflict`` on ``in_place``) if the component of this kind in place is no longer
    the one seen — two people replacing the same oxygenator at once must not leave two in place, nor replace the
    other's new one unknowingly. None (an API client or a script that sends no state) skips the check; the circuit
    row is locked either way, so installs on one circuit are taken one at a time."""
    require(actor, "circuit.edit", run)
    installed_at = aware(installed_at, field="installed_at")
    _not_before_run(run, "installed_at", installed_at)
    circuit = current_circuit(run)
    if circuit is None:
        raise ValidationError({"kind": "the run has no circuit in use"})
    lock(circuit)
    if circuit.ended_at is not None:
        raise ValidationError(
            {"kind": "the circuit was changed while you were editing; record on the new one"}
        )
    previous = None
    if kind != ComponentKind.OTHER:
        previous = circuit.components.filter(kind=kind, removed_at__isnull=True).first()
        if in_place is not None:
            _expect_in_place(circuit, kind, previous, in_place)
    if previous is not None:
        if not reason_replaced.strip():
            raise ValidationError({"reason_replaced": "say why the component in place is being replaced"})
        if installed_at < previous.installed_at:
            raise ValidationError(
                {"installed_at": "cannot be before the component it replaces was installed"}
            )
        before = snapshot(previous)
        previous.removed_at = installed_at
        previous.reason_removed = reason_replaced.strip()
        previous.save(update_fields=["removed_at", "reason_removed"])
        audit(
            actor=actor,
            action="component.removed",
            obj=previous,
            before=before,
            after=snapshot(previous),
            reason=reason_replaced,
        )
    if catalogue_item is not None:
        maker, model = maker or catalogue_item.maker, model or catalogue_item.model
    component = Component(
        circuit=circuit,
        kind=kind,
        catalogue_item=catalogue_item,
        maker=maker,
        model=model,
        lot=lot,
        serial=serial,
        installed_at=installed_at,
        replaces=previous,
    )
    _save(component)
    audit(
        actor=actor,
        action="component.installed",
        obj=component,
        after=snapshot(component),
        reason=reason_replaced,
    )
    return component


@transaction.atomic
def add_mcs_device(
    *,
    actor: Any,
    run: EcmoRun,
    kind: str,
    model: str,
    inserted_at: dt.datetime,
    site: str = "",
    notes: str = "",
) -> McsDevice:
    require(actor, "mcs.edit", run)
    inserted_at = aware(inserted_at, field="inserted_at")
    device = McsDevice(run=run, kind=kind, model=model, inserted_at=inserted_at, site=site, notes=notes)
    _save(device)
    audit(actor=actor, action="mcs.device_added", obj=device, after=snapshot(device))
    return device


@transaction.atomic
def record_mcs_setting(
    *,
    actor: Any,
    device: McsDevice,
    at: dt.datetime,
    impella_p_level: int | None = None,
    flow_l_min: Decimal | float | None = None,
    iabp_ratio: str = "",
    vad_speed_rpm: int | None = None,
    note: str = "",
) -> McsSetting:
    require(actor, "mcs.edit", device)
    at = aware(at, field="at")
    if at < device.inserted_at:
        raise ValidationError({"at": "cannot be before the device was inserted"})
    setting = McsSetting(
        device=device,
        at=at,
        impella_p_level=impella_p_level,
        flow_l_min=_decimal(flow_l_min),
        iabp_ratio=iabp_ratio,
        vad_speed_rpm=vad_speed_rpm,
        note=note,
    )
    setting.recorded_by = actor if getattr(actor, "is_authenticated", False) else None
    _save(setting)
    audit(actor=actor, action="mcs.setting_recorded", obj=setting, after=snapshot(setting))
    return setting


@transaction.atomic
def remove_mcs_device(
    *, actor: Any, device: McsDevice, removed_at: dt.datetime, reason: str = ""
) -> McsDevice:
    _remove(
        device,
        actor=actor,
        permission="mcs.edit",
        what="device",
        audit_action="mcs.device_removed",
        removed_at=removed_at,
        reason=reason,
    )
    return device


@transaction.atomic
def set_target(
    *,
    actor: Any,
    run: EcmoRun,
    parameter: str,
    low: float | None,
    high: float | None,
    effective_from: dt.datetime,
    agent: str = "",
    note: str = "",
) -> RunTarget:
    """Set a target range (e.g. anti-Xa 0.3–0.5 on UFH) from a time; earlier targets stay in the history."""
    require(actor, "decision.record", run)
    effective_from = aware(effective_from, field="effective_from")
    if low is None and high is None:
        raise ValidationError({"low": "give a lower or an upper bound"})
    if low is not None and high is not None and low > high:
        raise ValidationError({"high": f"must be at least the lower bound {low:g}"})
    target = RunTarget(
        run=run,
        parameter=parameter,
        low=low,
        high=high,
        effective_from=effective_from,
        agent=agent,
        note=note,
        set_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _save(target)
    audit(actor=actor, action="run.target_set", obj=target, after=snapshot(target))
    return target


@transaction.atomic
def end_run(
    *,
    actor: Any,
    run: EcmoRun,
    ended_at: dt.datetime,
    outcome: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> EcmoRun:
    """Close the run (decannulation, death, transfer): closes the circuit, components, cannulas and devices.

    ``ended_at`` may not be in the future (``now``, default the clock, plus the usual clock skew)."""
    require(actor, "run.edit", run)
    ended_at = aware(ended_at, field="ended_at")
    not_in_future(ended_at, field="ended_at", now=now or timezone.now())
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": f"must be one of {', '.join(Outcome.values[1:])}"})
    if run.ended_at is not None:
        raise ValidationError({"ended_at": "the run has already ended"})
    if outcome == Outcome.ONGOING:
        raise ValidationError({"outcome": "choose how the run ended"})
    _not_before_run(run, "ended_at", ended_at)
    before = snapshot(run)
    run.ended_at = ended_at
    run.outcome = outcome
    _save(run)
    audit(actor=actor, action="run.ended", obj=run, before=before, after=snapshot(run), reason=reason)
    # Everything still in place closes with the run, each with its own audit event (what, when, why).
    closes: list[tuple[Any, dict[str, Any], str]] = [
        (
            Circuit.objects.filter(run=run, ended_at__isnull=True),
            {"ended_at": ended_at, "reason_ended": "run ended"},
            "circuit.ended",
        ),
        (
            Component.objects.filter(circuit__run=run, removed_at__isnull=True),
            {"removed_at": ended_at, "reason_removed": "run ended"},
            "component.removed",
        ),
        (
            Cannula.objects.filter(run=run, removed_at__isnull=True),
            {"removed_at": ended_at},
            "cannula.removed",
        ),
        (
            McsDevice.objects.filter(run=run, removed_at__isnull=True),
            {"removed_at": ended_at},
            "mcs_device.removed",
        ),
    ]
    for queryset, changes, action in closes:
        rows = list(queryset)
        queryset.model.objects.filter(pk__in=[r.pk for r in rows]).update(**changes)
        for row in rows:
            row_before = snapshot(row, list(changes))
            for name, value in changes.items():
                setattr(row, name, value)
            audit(
                actor=actor,
                action=action,
                obj=row,
                before=row_before,
                after=snapshot(row, list(changes)),
                reason="run ended",
            )
    return run


@transaction.atomic
def record_discharge(
    *, actor: Any, run: EcmoRun, survived_to_discharge: bool | None, reason: str = ""
) -> EcmoRun:
    """Record whether the patient left hospital alive (``None``: not yet known), once the run has ended.

    Registry outcome (ELSO "discharged alive") and the survival KPIs read it. A patient who died on ECMO
    cannot have survived to discharge."""
    require(actor, "run.edit", run)
    run = EcmoRun.objects.select_for_update().get(pk=run.pk)
    if run.ended_at is None:
        raise ValidationError(
            {
                "survived_to_discharge": "the run is still in progress: end the run first, then record the discharge"
            }
        )
    if survived_to_discharge is True and run.outcome == Outcome.DIED_ON_ECMO:
        raise ValidationError(
            {
                "survived_to_discharge": "the run ended with death on ECMO: the patient cannot have survived to discharge"
            }
        )
    before = snapshot(run, ["survived_to_discharge"])
    run.survived_to_discharge = survived_to_discharge
    run.save(update_fields=["survived_to_discharge"])
    audit(
        actor=actor,
        action="run.discharge_recorded",
        obj=run,
        before=before,
        after=snapshot(run, ["survived_to_discharge"]),
        reason=reason,
    )
    return run
