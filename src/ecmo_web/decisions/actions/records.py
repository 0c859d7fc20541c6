"""Recording a decision, deciding it, participants, dissent and the alerts it answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_core import pathways
from ecmo_core.errors import InfeasibleError, InputError
from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions.actions.calculations import attach_calculation, save_calculation
from ecmo_web.decisions.actions.common import _role, _save, _when
from ecmo_web.decisions.kinds import KIND_FORMS, jsonable
from ecmo_web.decisions.models import (
    ChecklistItem,
    Decision,
    DecisionParticipant,
    DecisionSession,
    Dissent,
    Kind,
    SavedCalculation,
    Status,
)
from ecmo_web.kernel import audit, expect_version, lock, member, member_role, require, user_of
from ecmo_web.permissions import role_holds
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import Component, EcmoRun, McsDevice, RunTarget


def _participant_rows(run: EcmoRun, participants: Iterable[Mapping[str, Any]]) -> list[tuple[Any, str, str]]:
    rows: list[tuple[Any, str, str]] = []
    seen: set[int] = set()
    for index, row in enumerate(participants):
        field = f"participants[{index}]"
        raw = row.get("user") if row.get("user") is not None else row.get("user_id", row.get("username"))
        if raw is None or raw == "":
            raise ValidationError({field: "give the participant's user id or username"})
        user = member(run.program_id, raw, field=field)
        if user.pk in seen:
            raise ValidationError({field: f"{user.get_username()} is listed twice"})
        seen.add(user.pk)
        rows.append(
            (
                user,
                _role(run.program_id, user, row.get("role"), field),
                str(row.get("contribution") or "took part")[:200],
            )
        )
    return rows


def _validate_content(run: EcmoRun, kind: str, content: Mapping[str, Any]) -> Any:
    form = KIND_FORMS[kind](data=dict(content), run=run)
    return _check_form(form)


def _stored_content_form(decision: Decision) -> Any:
    """The kind's form bound to the stored content (links kept as columns are put back)."""
    data = {**decision.content, "device": decision.mcs_device_id, "component": decision.component_id}
    return _check_form(KIND_FORMS[decision.kind](data=data, run=decision.run))


def _check_form(form: Any) -> Any:
    if not form.is_valid():
        raise ValidationError(
            {f"content.{k}" if k != "__all__" else "content": v for k, v in form.errors.items()}
        )
    return form


def _add_participant(decision: Decision, user: Any, role: str, contribution: str) -> DecisionParticipant:
    existing = decision.participants.filter(user=user).first()
    if existing is not None:
        if contribution and contribution not in existing.contribution:
            existing.contribution = f"{existing.contribution}; {contribution}"[:200]
            existing.save(update_fields=["contribution"])
        return existing
    participant = DecisionParticipant(decision=decision, user=user, role=role, contribution=contribution)
    _save(participant)
    return participant


def _may_decide(run: EcmoRun, user: Any, field: str) -> str:
    role = member_role(run.program_id, user)
    if role is None or not role_holds(role, "decision.record"):
        raise ValidationError({field: f"{user.get_username()}'s role cannot make decisions in this program"})
    return role


@transaction.atomic
def record_decision(
    *,
    actor: Any,
    run: EcmoRun,
    kind: str,
    title: str,
    made_at: dt.datetime,
    content: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    options: Sequence[Any] = (),
    recommendation: str = "",
    recommended_by: Any = None,
    participants: Iterable[Mapping[str, Any]] = (),
    decided_by: Any = None,
    decided_at: dt.datetime | None = None,
    dissent: Iterable[Mapping[str, Any]] = (),
    session: DecisionSession | None = None,
    calculations: Iterable[Mapping[str, Any]] = (),
    calculation_ids: Iterable[int] = (),
    target_ids: Iterable[int] = (),
    alert_ids: Iterable[int] = (),
    component: Component | None = None,
    mcs_device: McsDevice | None = None,
    supersedes: Decision | None = None,
) -> Decision:
    """Record a decision: its inputs and calculations, options, recommendation, participants with their
    roles, dissent, and (when ``decided_by`` is given) who decided and when, applying what it sets.

    ``content`` is validated by the kind's form (errors as ``content.<field>``). ``calculations`` are
    ``{"calculator", "arguments"[, "not_computed_reason", "note"]}`` run now and kept; ``calculation_ids``
    attach results saved earlier from a calculator page. Participants default to the session's attendees.
    """
    require(actor, "decision.record", run)
    if kind not in KIND_FORMS:
        raise ValidationError({"kind": f"unknown kind {kind!r}; use one of {', '.join(KIND_FORMS)}"})
    if not title.strip():
        raise ValidationError({"title": "give the decision a short title"})
    made_at = _when(run, "made_at", made_at)
    if session is not None and session.program_id != run.program_id:
        raise ValidationError({"session_id": "belongs to another program"})
    if supersedes is not None and (supersedes.run_id != run.pk or supersedes.status == Status.SUPERSEDED):
        raise ValidationError({"supersedes": "must be a current decision on the same run"})
    form = _validate_content(run, kind, content or {})
    options_json = []
    for index, option in enumerate(options):
        if isinstance(option, str):
            option = {"label": option}
        if not isinstance(option, Mapping) or not str(option.get("label") or "").strip():
            raise ValidationError({f"options[{index}].label": "each option needs a label"})
        options_json.append(
            {"label": str(option["label"]).strip(), "note": str(option.get("note") or "").strip()}
        )
    people = _participant_rows(run, participants)
    if not people and session is not None:
        people = [(a.user, a.role, "in the room") for a in session.attendees.all() if a.user is not None]
    rec_user = member(run.program_id, recommended_by, field="recommended_by") if recommended_by else None
    decision = Decision(
        run=run,
        session=session,
        kind=kind,
        title=title.strip(),
        made_at=made_at,
        inputs=jsonable(dict(inputs or {})),
        content=form.content(),
        options=options_json,
        recommendation=recommendation.strip(),
        recommended_by=rec_user,
        recommended_by_role=(member_role(run.program_id, rec_user) or "") if rec_user else "",
        component=component if component is not None else form.cleaned_data.get("component"),
        mcs_device=mcs_device if mcs_device is not None else form.cleaned_data.get("device"),
        supersedes=supersedes,
        created_by=user_of(actor),
    )
    if decision.component is not None and decision.component.circuit.run_id != run.pk:
        raise ValidationError({"component": "belongs to another run"})
    if decision.mcs_device is not None and decision.mcs_device.run_id != run.pk:
        raise ValidationError({"mcs_device": "belongs to another run"})
    _save(decision)
    for user, role, contribution in people:
        _add_participant(decision, user, role, contribution)
    if rec_user is not None:
        _add_participant(decision, rec_user, decision.recommended_by_role, "recommended")
    for index, row in enumerate(dissent):
        _add_dissent(decision, row, f"dissent[{index}]")
    for index, spec in enumerate([*form.calculations(), *calculations]):
        try:
            save_calculation(
                actor=actor,
                run=run,
                decision=decision,
                calculator=str(spec.get("calculator", "")),
                arguments=spec.get("arguments") or {},
                note=str(spec.get("note") or ""),
                not_computed_reason=str(spec.get("not_computed_reason") or ""),
                computed_at=made_at,
            )
        except (InputError, InfeasibleError) as err:
            raise ValidationError(
                {f"calculations[{index}].{err.field or 'arguments'}": err.message}
            ) from None
    for calc_id in calculation_ids:
        calc = SavedCalculation.objects.filter(pk=calc_id, run=run).first()
        if calc is None:
            raise ValidationError({"calculation_ids": f"{calc_id} is not a saved calculation of this run"})
        attach_calculation(actor=actor, calculation=calc, decision=decision)
    targets = list(RunTarget.objects.filter(run=run, pk__in=list(target_ids)))
    if len(targets) != len(set(target_ids)):
        raise ValidationError({"target_ids": "each target must be one of this run's targets"})
    decision.targets.add(*targets)
    _link_alerts(actor, decision, [*(form.cleaned_data.get("alerts") or []), *alert_ids])
    if kind in (Kind.DECANNULATION, Kind.TRANSPORT):
        _create_checklist(decision)
    if supersedes is not None:
        before = snapshot(supersedes)
        supersedes.status = Status.SUPERSEDED
        supersedes.save(update_fields=["status"])
        audit(
            actor=actor,
            action="decision.superseded",
            obj=supersedes,
            before=before,
            after=snapshot(supersedes),
            reason=f"superseded by decision {decision.pk}",
        )
    audit(actor=actor, action="decision.recorded", obj=decision, after=_decision_json(decision))
    if decided_by:
        decide(
            actor=actor,
            decision=decision,
            decided_by=decided_by,
            decided_at=decided_at or made_at,
            _form=form,
        )
        decision.refresh_from_db()
    return decision


def _link_alerts(actor: Any, decision: Decision, alerts: Iterable[Any]) -> None:
    """Link alerts of the run to the decision, both here and as a surveillance AlertLink ("decision")."""
    from ecmo_web.surveillance.actions import link_alert
    from ecmo_web.surveillance.models import Alert

    for item in alerts:
        alert = item if isinstance(item, Alert) else Alert.objects.filter(pk=item, run=decision.run).first()
        if alert is None or alert.run_id != decision.run_id:
            raise ValidationError({"alert_ids": f"{item} is not an alert of this run"})
        decision.alerts.add(alert)
        link_alert(
            actor=actor,
            alert=alert,
            target=decision,
            relation="decision",
            note=decision.title[:300],
            permission="decision.record",
        )


def _decision_json(decision: Decision) -> dict[str, Any]:
    return {
        **snapshot(decision),
        "participants": [
            {"user_id": p.user_id, "role": p.role, "contribution": p.contribution}
            for p in decision.participants.all()
        ],
        "dissent": [
            {"user_id": d.user_id, "role": d.role, "reason": d.reason} for d in decision.dissents.all()
        ],
        "calculations": list(decision.calculations.values_list("id", flat=True)),
        "targets": list(decision.targets.values_list("id", flat=True)),
        "alerts": list(decision.alerts.values_list("id", flat=True)),
    }


def _create_checklist(decision: Decision) -> None:
    if decision.kind == Kind.DECANNULATION:
        specs = pathways.decannulation_items(str(decision.content.get("configuration") or "vv"))
    else:
        specs = pathways.transport_items(primary=decision.content.get("transport_type") == "primary")
    for position, spec in enumerate(specs):
        ChecklistItem.objects.create(
            decision=decision,
            key=spec.key,
            label=spec.label,
            group=spec.group,
            source=spec.source,
            position=position,
        )


def _add_dissent(decision: Decision, row: Mapping[str, Any], field: str) -> Dissent:
    raw = row.get("user") if row.get("user") is not None else row.get("user_id", row.get("username"))
    if raw is None or raw == "":
        raise ValidationError({field: "say who dissented"})
    user = member(decision.run.program_id, raw, field=field)
    reason = str(row.get("reason") or "").strip()
    if not reason:
        raise ValidationError({field: "a dissent needs its reason"})
    role = _role(decision.run.program_id, user, row.get("role"), field)
    resolution = str(row.get("resolution") or "").strip()
    item = Dissent(
        decision=decision,
        user=user,
        role=role,
        reason=reason,
        resolution=resolution,
        resolved_at=timezone.now() if resolution else None,
    )
    _save(item)
    _add_participant(decision, user, role, "dissented")
    return item


@transaction.atomic
def decide(
    *,
    actor: Any,
    decision: Decision,
    decided_by: Any,
    decided_at: dt.datetime,
    recommendation: str | None = None,
    version: int | None = None,
    _form: Any = None,
) -> Decision:
    """Close an open decision: who decided (a member whose role can decide) and when; then apply what the
    decision sets: targets (set_target, so the surveillance rules see them), a configuration change, an MCS
    setting. ``version``: the decision's version the editor read (a stale one raises kernel.VersionConflict)."""
    require(actor, "decision.record", decision)
    lock(decision)
    expect_version(decision, version)
    if decision.status != Status.OPEN:
        raise ValidationError({"decided_by": "this decision is already decided"})
    run = decision.run
    user = member(run.program_id, decided_by, field="decided_by")
    role = _may_decide(run, user, "decided_by")
    decided_at = _when(run, "decided_at", decided_at)
    if decided_at < decision.made_at:
        raise ValidationError({"decided_at": "cannot be before the decision was discussed"})
    form = _form or _stored_content_form(decision)
    before = snapshot(decision)
    decision.status = Status.DECIDED
    decision.decided_by, decision.decided_by_role, decision.decided_at = user, role, decided_at
    if recommendation is not None:
        decision.recommendation = recommendation.strip()
    decision.save(update_fields=["status", "decided_by", "decided_by_role", "decided_at", "recommendation"])
    _add_participant(decision, user, role, "decided")
    _apply(actor, decision, form)
    audit(actor=actor, action="decision.decided", obj=decision, before=before, after=_decision_json(decision))
    return decision


def _apply(actor: Any, decision: Decision, form: Any) -> None:
    run = decision.run
    when = decision.decided_at
    assert when is not None
    # The kind's own writes, e.g. a circuit selection puts the chosen parts on the run.
    form.apply(actor=actor, decision=decision)
    for target in form.targets():
        created = run_actions.set_target(
            actor=actor,
            run=run,
            parameter=target["parameter"],
            low=target.get("low"),
            high=target.get("high"),
            effective_from=when,
            agent=target.get("agent", ""),
            note=(target.get("note") or f"decision {decision.pk}: {decision.title}")[:300],
        )
        decision.targets.add(created)
    content = decision.content
    if decision.kind == Kind.DECANNULATION:
        item = decision.checklist_items.filter(key="decision_recorded", status="pending").first()
        if item is not None:
            item.status, item.done_at, item.recorded_at = "done", when, timezone.now()
            item.recorded_by, item.recorded_by_role = (
                user_of(actor),
                member_role(run.program_id, actor) or "",
            )
            decided_by = decision.decided_by
            assert decided_by is not None  # set with decided_at
            item.note = f"decided by {decided_by.get_full_name() or decided_by}"[:300]
            item.save()
    if decision.kind == Kind.MODALITY and content.get("apply_configuration"):
        current = run.current_mode(when)
        if current is None or current.mode != content["mode"]:
            entry = run_actions.change_configuration(
                actor=actor,
                run=run,
                mode=content["mode"],
                started_at=when,
                reason=f"decision: {decision.title}"[:300],
            )
            decision.configuration_entry = entry
            decision.save(update_fields=["configuration_entry"])
    if decision.kind == Kind.MCS and content.get("apply_setting") and decision.mcs_device is not None:
        run_actions.record_mcs_setting(
            actor=actor,
            device=decision.mcs_device,
            at=when,
            impella_p_level=content.get("impella_p_level"),
            flow_l_min=content.get("flow_l_min"),
            iabp_ratio=content.get("iabp_ratio") or "",
            vad_speed_rpm=content.get("vad_speed_rpm"),
            note=f"decision: {decision.title}"[:300],
        )


@transaction.atomic
def add_participant(
    *, actor: Any, decision: Decision, user: Any, role: str = "", contribution: str = "took part"
) -> DecisionParticipant:
    require(actor, "decision.record", decision)
    person = member(decision.run.program_id, user, field="user")
    participant = _add_participant(
        decision,
        person,
        _role(decision.run.program_id, person, role, "role"),
        contribution.strip() or "took part",
    )
    audit(
        actor=actor,
        action="decision.participant_added",
        obj=decision,
        after={"user_id": person.pk, "role": participant.role, "contribution": participant.contribution},
    )
    return participant


@transaction.atomic
def add_dissent(*, actor: Any, decision: Decision, user: Any, reason: str, resolution: str = "") -> Dissent:
    require(actor, "decision.record", decision)
    item = _add_dissent(decision, {"user": user, "reason": reason, "resolution": resolution}, "user")
    audit(actor=actor, action="decision.dissent_recorded", obj=item, after=snapshot(item))
    return item


@transaction.atomic
def resolve_dissent(*, actor: Any, dissent: Dissent, resolution: str) -> Dissent:
    require(actor, "decision.record", dissent)
    if not resolution.strip():
        raise ValidationError({"resolution": "say how the dissent was resolved"})
    if dissent.resolution:
        raise ValidationError({"resolution": "this dissent is already resolved"})
    before = snapshot(dissent)
    dissent.resolution, dissent.resolved_at = resolution.strip(), timezone.now()
    dissent.save(update_fields=["resolution", "resolved_at"])
    audit(
        actor=actor, action="decision.dissent_resolved", obj=dissent, before=before, after=snapshot(dissent)
    )
    return dissent
