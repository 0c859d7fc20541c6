"""Primed circuits on standby: priming, the checklist, closing (used or discarded) and expiry.

``expire_standby_circuits(now)`` is for the surveillance worker: it marks circuits past their expiry as expired
and records a notice for each (and an "expiring soon" notice once for those inside the warning window). It is
idempotent: a circuit gets at most one notice of each kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_web import kernel
from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import snapshot
from ecmo_web.perfusion import site
from ecmo_web.perfusion.models import StandbyCircuit, StandbyNotice, StandbyStatus
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import CatalogueItem, CatalogueKind, ComponentKind, EcmoRun

# What a primed circuit on standby must have before it is left ready (local checklist; edit as data).
CHECKLIST: tuple[tuple[str, str], ...] = (
    ("deaired", "Circuit de-aired: no visible air in oxygenator, pump head or lines"),
    ("connections", "Connections tight and tie-banded; clamps placed for standby"),
    ("ends_capped", "Open ends capped with sterile caps"),
    ("labelled", "Label on the circuit: date and time primed, expiry, prime and additives, primed by"),
    ("recirculated", "Prime recirculated and filtered; pressure test done"),
    ("console_ready", "Console, back-up drive and gas line checked and with the circuit"),
)
CHECKLIST_KEYS = tuple(k for k, _ in CHECKLIST)
# The surveillance worker (or any scheduler) expires circuits as this actor.
SYSTEM = kernel.SystemActor("system:perfusion-standby")


def _item(name: str, item: CatalogueItem | None, kind: str, required: bool) -> None:
    if item is None:
        if required:
            raise ValidationError({name: "choose one from the catalogue"})
        return
    if item.kind != kind:
        raise ValidationError(
            {name: f"{item} is a {item.get_kind_display().lower()}, not a {kind.replace('_', ' ')}"}
        )


def _checklist(keys: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(keys))
    wrong = [k for k in chosen if k not in CHECKLIST_KEYS]
    if wrong:
        raise ValidationError({"checklist": f"not checklist items: {', '.join(wrong)}"})
    return [k for k in CHECKLIST_KEYS if k in chosen]


@transaction.atomic
def prime_standby_circuit(
    *,
    actor: Any,
    program: Program,
    label: str,
    oxygenator: CatalogueItem,
    primed_at: dt.datetime,
    prime_type: str,
    pump: CatalogueItem | None = None,
    tubing_pack: CatalogueItem | None = None,
    prime_volume_ml: int | None = None,
    heparin_iu: int | None = None,
    lot: str = "",
    location: str = "",
    checklist: Iterable[str] = (),
    notes: str = "",
    now: dt.datetime | None = None,
) -> StandbyCircuit:
    """Record a circuit primed for standby. The prime volume defaults to the sum of its parts' priming volumes,
    the heparin to the program's IU/mL × that volume, and the expiry to primed time + the program's policy."""
    kernel.require(actor, "circuit.edit", program)
    primed_at = kernel.aware(primed_at, field="primed_at")
    if primed_at > (now or timezone.now()) + dt.timedelta(minutes=1):
        raise ValidationError({"primed_at": "cannot be in the future"})
    if not label.strip():
        raise ValidationError({"label": "name the circuit (e.g. Adult standby A)"})
    _item("oxygenator", oxygenator, CatalogueKind.OXYGENATOR, True)
    _item("pump", pump, CatalogueKind.PUMP_HEAD, False)
    _item("tubing_pack", tubing_pack, CatalogueKind.TUBING_PACK, False)
    values = site.current(program)
    if prime_volume_ml is None:
        parts = [p for p in (oxygenator, pump, tubing_pack) if p is not None]
        if any(p.priming_volume_ml is None for p in parts):
            raise ValidationError(
                {"prime_volume_ml": "give the prime volume (a part has none in the catalogue)"}
            )
        prime_volume_ml = sum(int(p.priming_volume_ml or 0) for p in parts)
    if heparin_iu is None:
        heparin_iu = round(values["heparin_iu_per_ml_prime"] * prime_volume_ml)
    circuit = StandbyCircuit(
        program=program,
        label=label.strip(),
        location=location.strip(),
        oxygenator=oxygenator,
        pump=pump,
        tubing_pack=tubing_pack,
        lot=lot.strip(),
        prime_type=prime_type,
        prime_volume_ml=prime_volume_ml,
        heparin_iu=heparin_iu,
        primed_at=primed_at,
        primed_by=kernel.user_of(actor),
        expires_at=primed_at + dt.timedelta(days=values["standby_expiry_days"]),
        checklist=_checklist(checklist),
        notes=notes.strip(),
    )
    circuit.full_clean()
    circuit.save()
    kernel.audit(actor, "standby.primed", obj=circuit, after=snapshot(circuit))
    return circuit


@transaction.atomic
def confirm_checklist(*, actor: Any, circuit: StandbyCircuit, keys: Iterable[str]) -> StandbyCircuit:
    """Confirm checklist items (adds to those already confirmed; nothing is unconfirmed)."""
    kernel.require(actor, "circuit.edit", circuit)
    if circuit.status != StandbyStatus.STANDBY:
        raise ValidationError({"checklist": "the circuit is no longer on standby"})
    before = snapshot(circuit)
    circuit.checklist = _checklist([*circuit.checklist, *keys])
    circuit.save(update_fields=["checklist"])
    kernel.audit(actor, "standby.checklist_confirmed", obj=circuit, before=before, after=snapshot(circuit))
    return circuit


@transaction.atomic
def close_standby_circuit(
    *,
    actor: Any,
    circuit: StandbyCircuit,
    status: str,
    at: dt.datetime,
    reason: str = "",
    run: EcmoRun | None = None,
) -> StandbyCircuit:
    """Take a circuit off standby: ``used`` (on ``run``: its parts are installed on the run's circuit through
    the runs actions) or ``discarded`` (with a reason)."""
    kernel.require(actor, "circuit.edit", circuit)
    at = kernel.aware(at, field="at")
    if circuit.status != StandbyStatus.STANDBY:
        raise ValidationError({"status": f"the circuit is already {circuit.get_status_display().lower()}"})
    if status not in (StandbyStatus.USED, StandbyStatus.DISCARDED):
        raise ValidationError({"status": "choose used or discarded"})
    if at < circuit.primed_at:
        raise ValidationError({"at": "cannot be before the circuit was primed"})
    if status == StandbyStatus.DISCARDED and not reason.strip():
        raise ValidationError({"reason": "say why the circuit is discarded"})
    if status == StandbyStatus.USED:
        if run is None:
            raise ValidationError({"run": "choose the run the circuit was used on"})
        if run.program_id != circuit.program_id:
            raise ValidationError({"run": "belongs to another program"})
        if at > circuit.expires_at:
            raise ValidationError({"at": "the circuit had expired by then"})
    before = snapshot(circuit)
    circuit.status, circuit.closed_at, circuit.close_reason = status, at, reason.strip()[:300]
    circuit.closed_by = kernel.user_of(actor)
    circuit.used_on_run = run if status == StandbyStatus.USED else None
    circuit.save(update_fields=["status", "closed_at", "close_reason", "closed_by", "used_on_run"])
    kernel.audit(
        actor,
        f"standby.{status}",
        obj=circuit,
        before=before,
        after=snapshot(circuit),
        reason=reason,
    )
    if run is not None and status == StandbyStatus.USED:
        for item, kind, lot in (
            (circuit.oxygenator, ComponentKind.OXYGENATOR, circuit.lot),
            (circuit.pump, ComponentKind.PUMP_HEAD, ""),
            (circuit.tubing_pack, ComponentKind.TUBING_PACK, ""),
        ):
            if item is None:
                continue
            run_actions.install_component(
                actor=actor,
                run=run,
                kind=kind,
                maker="",
                model="",
                catalogue_item=item,
                lot=lot,
                installed_at=max(at, run.started_at),
                reason_replaced=f"standby circuit {circuit.label} used",
            )
    return circuit


@transaction.atomic
def acknowledge_notice(*, actor: Any, notice: StandbyNotice, now: dt.datetime | None = None) -> StandbyNotice:
    kernel.require(actor, "circuit.edit", notice)
    if notice.acknowledged_at is not None:
        raise ValidationError({"notice": "already acknowledged"})
    before = snapshot(notice)
    notice.acknowledged_by = kernel.user_of(actor)
    notice.acknowledged_at = now or timezone.now()
    notice.save(update_fields=["acknowledged_by", "acknowledged_at"])
    kernel.audit(actor, "standby.notice_acknowledged", obj=notice, before=before, after=snapshot(notice))
    return notice


def _notice(circuit: StandbyCircuit, kind: str, message: str, now: dt.datetime) -> StandbyNotice | None:
    if StandbyNotice.objects.filter(circuit=circuit, kind=kind).exists():
        return None
    notice = StandbyNotice.objects.create(
        program_id=circuit.program_id, circuit=circuit, kind=kind, message=message[:300], created_at=now
    )
    kernel.audit(SYSTEM, f"standby.notice_{kind}", obj=notice, after=snapshot(notice))
    return notice


@transaction.atomic
def expire_standby_circuits(now: dt.datetime) -> list[StandbyNotice]:
    """Mark standby circuits past their expiry as expired and notify; notify once for those expiring within the
    program's warning window. Returns the notices created (none on a second call at the same ``now``)."""
    now = kernel.aware(now, field="now")
    created: list[StandbyNotice] = []
    due = StandbyCircuit.objects.select_for_update().filter(status=StandbyStatus.STANDBY, expires_at__lte=now)
    for circuit in due:
        before = snapshot(circuit)
        circuit.status, circuit.closed_at = StandbyStatus.EXPIRED, circuit.expires_at
        circuit.close_reason = "past the program's standby expiry"
        circuit.save(update_fields=["status", "closed_at", "close_reason"])
        kernel.audit(
            SYSTEM,
            "standby.expired",
            obj=circuit,
            before=before,
            after=snapshot(circuit),
        )
        made = _notice(
            circuit, StandbyNotice.Kind.EXPIRED, f"{circuit.label} expired: re-prime or discard it", now
        )
        created += [made] if made else []
    warnings: dict[int, float] = {}
    for circuit in StandbyCircuit.objects.filter(status=StandbyStatus.STANDBY).select_related("program"):
        if circuit.program_id not in warnings:
            warnings[circuit.program_id] = site.current(circuit.program)["standby_warning_days"]
        if circuit.expires_at - now <= dt.timedelta(days=warnings[circuit.program_id]):
            hours = (circuit.expires_at - now).total_seconds() / 3600
            text = (
                f"{circuit.label} expires in {hours / 24:.1f} days"
                if hours >= 24
                else f"{circuit.label} expires in {hours:.0f} h"
            )
            made = _notice(circuit, StandbyNotice.Kind.EXPIRING, text, now)
            created += [made] if made else []
    return created
