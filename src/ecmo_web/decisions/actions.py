"""Every write to decisions, sessions, checklists, trials, transports, ambulation and MCS checks.

Each action checks permission with ``require``, validates (``ValidationError({field: message})``), writes and
appends an audit event in the same transaction. Views and the API call these and nothing else.

Who may do what: recording or deciding a decision needs ``decision.record``; the running record of a pathway
(checklist ticks, trial observations, transport legs and events, ambulation sessions) needs
``pathway.record``, which bedside nurses and physiotherapists hold too; MCS checks need ``mcs.edit``; the
program's criteria settings need ``settings.manage``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_core import pathways
from ecmo_core.calc import run_calculator
from ecmo_core.errors import InfeasibleError, InputError
from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions.criteria import DEFAULTS, criteria_for
from ecmo_web.decisions.kinds import KIND_FORMS, MCS_READINGS, jsonable
from ecmo_web.decisions.models import (
    AmbulationSession,
    ChecklistItem,
    Decision,
    DecisionParticipant,
    DecisionSession,
    Dissent,
    Kind,
    McsCheck,
    PathwayCriteria,
    SavedCalculation,
    SessionAttendee,
    Status,
    TransportEvent,
    TransportLeg,
    TrialObservation,
)
from ecmo_web.kernel import audit, aware, member, member_role, not_in_future, require, user_of
from ecmo_web.permissions import MATRIX
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import Component, EcmoRun, McsDevice, Outcome, RunTarget

# Decisions may be recorded about events before flow started (candidacy, retrieval) but not in the future.
BEFORE_RUN_LIMIT = dt.timedelta(days=7)


def _when(
    run: EcmoRun, name: str, value: dt.datetime, *, after_end: dt.timedelta = dt.timedelta(days=2)
) -> dt.datetime:
    value = aware(value, field=name)
    if value < run.started_at - BEFORE_RUN_LIMIT:
        raise ValidationError({name: "cannot be more than 7 days before the run started"})
    not_in_future(value, field=name, now=timezone.now())
    if run.ended_at is not None and value > run.ended_at + after_end:
        raise ValidationError({name: "cannot be long after the run ended"})
    return value


def _save(obj: Any) -> None:
    obj.full_clean()
    obj.save()


def core_version() -> str:
    try:
        return metadata.version("ecmo-steward")
    except metadata.PackageNotFoundError:  # pragma: no cover - only outside an installed checkout
        return "unknown"


def _role(program: Program | int, user: Any, role: str | None, field: str) -> str:
    from ecmo_web.accounts.models import Role

    if role:
        if role not in Role.values:
            raise ValidationError({field: f"{role!r} is not a role; use one of {', '.join(Role.values)}"})
        return role
    found = member_role(program, user)
    assert found is not None  # member() checked membership
    return found


# --- Sessions --------------------------------------------------------------------------------------------


@transaction.atomic
def create_session(
    *,
    actor: Any,
    program: Program,
    kind: str,
    title: str,
    started_at: dt.datetime,
    attendees: Sequence[Mapping[str, Any]] = (),
    location: str = "",
    notes: str = "",
) -> DecisionSession:
    """An ECMO call or MDT meeting with who was in the room: ``attendees`` are ``{"user"|"name", "role"}``;
    a member's role defaults to their membership role, a non-member needs a name and a role."""
    require(actor, "decision.record", program)
    session = DecisionSession(
        program=program,
        kind=kind,
        title=title.strip(),
        started_at=aware(started_at, field="started_at"),
        location=location,
        notes=notes,
        created_by=user_of(actor),
    )
    _save(session)
    for index, row in enumerate(attendees):
        _add_attendee(session, row, f"attendees[{index}]")
    audit(
        actor=actor,
        action="decision.session_created",
        obj=session,
        after={**snapshot(session), "attendees": [_attendee_json(a) for a in session.attendees.all()]},
    )
    return session


def _attendee_json(a: SessionAttendee) -> dict[str, Any]:
    return {"user_id": a.user_id, "name": a.name, "role": a.role}


def _add_attendee(session: DecisionSession, row: Mapping[str, Any], field: str) -> SessionAttendee:
    if row.get("user") is not None:
        user = member(session.program_id, row["user"], field=field)
        role = _role(session.program_id, user, row.get("role"), field)
        attendee = SessionAttendee(session=session, user=user, role=role)
    else:
        name, role = str(row.get("name") or "").strip(), str(row.get("role") or "").strip()
        if not name or not role:
            raise ValidationError({field: "a person without an account needs a name and a role"})
        attendee = SessionAttendee(session=session, name=name, role=role)
    _save(attendee)
    return attendee


@transaction.atomic
def add_session_attendee(
    *, actor: Any, session: DecisionSession, user: Any = None, name: str = "", role: str = ""
) -> SessionAttendee:
    require(actor, "decision.record", session)
    attendee = _add_attendee(session, {"user": user, "name": name, "role": role}, "user")
    audit(actor=actor, action="decision.session_attendee_added", obj=session, after=_attendee_json(attendee))
    return attendee


# --- Calculations ----------------------------------------------------------------------------------------


def _reference(result: Any) -> str:
    if isinstance(result, dict) and isinstance(result.get("reference"), str):
        return str(result["reference"])
    return ""


@transaction.atomic
def save_calculation(
    *,
    actor: Any,
    run: EcmoRun,
    calculator: str,
    arguments: Mapping[str, Any],
    decision: Decision | None = None,
    note: str = "",
    not_computed_reason: str = "",
    computed_at: dt.datetime | None = None,
) -> SavedCalculation:
    """Run ``calculator`` on ``arguments`` and keep the result (InputError/InfeasibleError propagate, naming the
    field). With ``not_computed_reason`` and no arguments, the score is kept empty with that reason."""
    require(actor, "decision.record", run)
    if decision is not None and decision.run_id != run.pk:
        raise ValidationError({"decision": "belongs to another run"})
    if not_computed_reason.strip() and not arguments:
        from ecmo_core.calc import get_calculator

        get_calculator(calculator)  # unknown names are an InputError naming "name"
        result: Any = None
    else:
        result = run_calculator(calculator, dict(arguments))["result"]
        not_computed_reason = ""
    calc = SavedCalculation(
        run=run,
        decision=decision,
        calculator=calculator,
        arguments=jsonable(dict(arguments)),
        result=result,
        not_computed_reason=not_computed_reason.strip(),
        core_version=core_version(),
        reference=_reference(result),
        note=note,
        computed_at=computed_at or timezone.now(),
        computed_by=user_of(actor),
    )
    _save(calc)
    audit(actor=actor, action="decision.calculation_saved", obj=calc, after=snapshot(calc))
    return calc


@transaction.atomic
def attach_calculation(*, actor: Any, calculation: SavedCalculation, decision: Decision) -> SavedCalculation:
    require(actor, "decision.record", decision)
    if calculation.run_id != decision.run_id:
        raise ValidationError({"calculation": "belongs to another run"})
    if calculation.decision_id not in (None, decision.pk):
        raise ValidationError({"calculation": "is already part of another decision"})
    before = snapshot(calculation)
    calculation.decision = decision
    calculation.save(update_fields=["decision"])
    audit(
        actor=actor,
        action="decision.calculation_attached",
        obj=calculation,
        before=before,
        after=snapshot(calculation),
    )
    return calculation


# --- Decisions -------------------------------------------------------------------------------------------


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
    if role is None or "decision.record" not in MATRIX[role]:
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
        recommended_by_role=member_role(run.program_id, rec_user) if rec_user else "",
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
    _form: Any = None,
) -> Decision:
    """Close an open decision: who decided (a member whose role can decide) and when; then apply what the
    decision sets: targets (set_target, so the surveillance rules see them), a configuration change, an MCS
    setting."""
    require(actor, "decision.record", decision)
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
            item.note = f"decided by {decision.decided_by.get_full_name() or decision.decided_by}"[:300]
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


# --- Checklists ------------------------------------------------------------------------------------------


@transaction.atomic
def mark_checklist_item(
    *,
    actor: Any,
    item: ChecklistItem,
    status: str,
    waiver_reason: str = "",
    note: str = "",
    done_at: dt.datetime | None = None,
) -> ChecklistItem:
    """Mark an item done, or waived with a reason. A marked item is not changed again (the record stays as
    written); a completed checklist is closed."""
    require(actor, "pathway.record", item)
    decision = item.decision
    if decision.completed_at is not None:
        raise ValidationError({"status": "the checklist is already complete"})
    if item.status != ChecklistItem.ItemStatus.PENDING:
        raise ValidationError({"status": f"“{item.label}” is already {item.get_status_display().lower()}"})
    if status not in (ChecklistItem.ItemStatus.DONE, ChecklistItem.ItemStatus.WAIVED):
        raise ValidationError({"status": "mark the item done or waived"})
    if status == ChecklistItem.ItemStatus.WAIVED and not waiver_reason.strip():
        raise ValidationError({"waiver_reason": "a waived item needs its reason"})
    now = timezone.now()
    before = snapshot(item)
    item.status, item.waiver_reason, item.note = status, waiver_reason.strip(), note.strip()
    item.done_at = _when(decision.run, "done_at", done_at) if done_at is not None else now
    item.recorded_by, item.recorded_at = user_of(actor), now
    item.recorded_by_role = member_role(decision.run.program_id, actor) or ""
    _save(item)
    audit(
        actor=actor,
        action="decision.checklist_item_marked",
        obj=item,
        before=before,
        after=snapshot(item),
        reason=item.waiver_reason,
    )
    return item


def checklist_status(decision: Decision) -> pathways.ChecklistStatus:
    items = list(decision.checklist_items.all())
    specs = [pathways.ChecklistItemSpec(i.key, i.label, i.group, i.source) for i in items]
    states = {i.key: pathways.ItemState(i.status, i.waiver_reason) for i in items}
    return pathways.checklist_status(specs, states)


@transaction.atomic
def complete_checklist(
    *,
    actor: Any,
    decision: Decision,
    completed_at: dt.datetime,
    end_run: bool = False,
    outcome: str = Outcome.WEANED,
) -> Decision:
    """Complete a decannulation or transport checklist. Refused until the decision is decided and every item is
    done or waived with a reason. For decannulation, ``end_run`` also ends the run (run.end_run)."""
    require(actor, "pathway.record", decision)
    if decision.kind not in (Kind.DECANNULATION, Kind.TRANSPORT):
        raise ValidationError({"kind": "only decannulation and transport decisions have a checklist"})
    if decision.status != Status.DECIDED:
        raise ValidationError({"checklist": "the decision must be decided before its checklist is completed"})
    if decision.completed_at is not None:
        raise ValidationError({"checklist": "the checklist is already complete"})
    status = checklist_status(decision)
    if not status.complete:
        labels = dict(decision.checklist_items.values_list("key", "label"))
        missing = "; ".join(f"{labels[k]} ({why})" for k, why in status.problems.items())
        raise ValidationError({"checklist": f"{len(status.problems)} item(s) outstanding: {missing}"})
    completed_at = _when(decision.run, "completed_at", completed_at)
    before = snapshot(decision)
    decision.completed_at, decision.completed_by, decision.outcome = (
        completed_at,
        user_of(actor),
        "completed",
    )
    decision.save(update_fields=["completed_at", "completed_by", "outcome"])
    audit(
        actor=actor,
        action="decision.checklist_completed",
        obj=decision,
        before=before,
        after={**snapshot(decision), "checklist": status.as_dict()},
    )
    if end_run and decision.kind == Kind.DECANNULATION and decision.run.ended_at is None:
        run_actions.end_run(
            actor=actor,
            run=decision.run,
            ended_at=completed_at,
            outcome=outcome,
            reason=f"decannulated: decision {decision.pk}",
        )
    return decision


# --- Weaning trials --------------------------------------------------------------------------------------


def trial_observations(decision: Decision) -> list[pathways.TrialObservation]:
    return [
        pathways.observation_from_mapping(o.values, minutes=o.minutes) for o in decision.observations.all()
    ]


def evaluate_trial(decision: Decision) -> pathways.PathwayResult:
    """The trial judged now against the program's criteria (as they stood when the trial started)."""
    started = dt.datetime.fromisoformat(decision.content["started_at"])
    observations = trial_observations(decision)
    if decision.content.get("trial_type") == "va_flow_reduction":
        return pathways.va_flow_reduction_trial(
            observations, criteria_for(decision.run.program_id, "va_flow_reduction", started)
        )
    return pathways.vv_sweep_off_trial(
        observations, criteria_for(decision.run.program_id, "vv_sweep_off", started)
    )


@transaction.atomic
def record_observation(
    *,
    actor: Any,
    decision: Decision,
    at: dt.datetime,
    values: Mapping[str, Any],
    step: str = "",
    note: str = "",
) -> TrialObservation:
    """A timed observation in a weaning trial (codes of ecmo_core.pathways.OBSERVATION_FIELDS)."""
    require(actor, "pathway.record", decision)
    if decision.kind != Kind.WEANING_TRIAL:
        raise ValidationError({"decision": "observations belong to weaning trials"})
    if decision.completed_at is not None:
        raise ValidationError({"at": "the trial is concluded"})
    at = _when(decision.run, "at", at)
    started = dt.datetime.fromisoformat(decision.content["started_at"])
    if at < started:
        raise ValidationError({"at": "cannot be before the trial started"})
    minutes = (at - started).total_seconds() / 60.0
    try:
        pathways.observation_from_mapping(values, minutes=minutes)
    except InputError as err:
        raise ValidationError({err.field: err.message}) from None
    clean = {k: v for k, v in values.items() if v is not None}
    if not clean:
        raise ValidationError({"values": "record at least one value"})
    obs = TrialObservation(
        decision=decision,
        at=at,
        minutes=minutes,
        step=step.strip(),
        values=clean,
        note=note.strip(),
        recorded_by=user_of(actor),
    )
    _save(obs)
    audit(actor=actor, action="decision.trial_observation_recorded", obj=obs, after=snapshot(obs))
    return obs


@transaction.atomic
def conclude_trial(
    *, actor: Any, decision: Decision, outcome: str, concluded_at: dt.datetime, reason: str = ""
) -> Decision:
    """Conclude a weaning trial as passed, failed or abandoned. The evaluation against the criteria is stored
    with it; an outcome that differs from the evaluation needs a reason (the clinician's judgement stands,
    and says why)."""
    require(actor, "decision.record", decision)
    if decision.kind != Kind.WEANING_TRIAL:
        raise ValidationError({"outcome": "only weaning trials are concluded"})
    if decision.completed_at is not None:
        raise ValidationError({"outcome": "the trial is already concluded"})
    if outcome not in ("passed", "failed", "abandoned"):
        raise ValidationError({"outcome": "passed, failed or abandoned"})
    evaluation = evaluate_trial(decision)
    expected = {"pass": "passed", "fail": "failed"}.get(evaluation.status)
    if outcome != expected and not reason.strip():
        raise ValidationError(
            {
                "reason": f"the criteria say {evaluation.status.replace('_', ' ')}: "
                f"give a reason to record the trial as {outcome}"
            }
        )
    concluded_at = _when(decision.run, "concluded_at", concluded_at)
    before = snapshot(decision)
    decision.content = {**decision.content, "evaluation": evaluation.as_dict()}
    decision.completed_at, decision.completed_by = concluded_at, user_of(actor)
    decision.outcome, decision.outcome_reason = outcome, reason.strip()
    decision.save(update_fields=["content", "completed_at", "completed_by", "outcome", "outcome_reason"])
    audit(
        actor=actor,
        action="decision.trial_concluded",
        obj=decision,
        before=before,
        after=snapshot(decision),
        reason=reason,
    )
    return decision


# --- Transport -------------------------------------------------------------------------------------------


@transaction.atomic
def add_transport_leg(
    *,
    actor: Any,
    decision: Decision,
    route: str,
    planned_minutes: int | None = None,
    uses_cylinder_oxygen: bool = True,
    on_battery: bool = True,
    oxygen_source: str = "",
    departed_at: dt.datetime | None = None,
    arrived_at: dt.datetime | None = None,
    note: str = "",
) -> TransportLeg:
    require(actor, "pathway.record", decision)
    if decision.kind != Kind.TRANSPORT:
        raise ValidationError({"decision": "legs belong to transport decisions"})
    if not route.strip():
        raise ValidationError({"route": "describe the leg"})
    run = decision.run
    dep = _when(run, "departed_at", departed_at) if departed_at else None
    arr = _when(run, "arrived_at", arrived_at) if arrived_at else None
    if dep and arr and arr < dep:
        raise ValidationError({"arrived_at": "cannot be before the departure"})
    if planned_minutes is not None and not 0 <= planned_minutes <= 24 * 60:
        raise ValidationError({"planned_minutes": "must be between 0 and 1440 minutes"})
    position = decision.legs.count() + 1
    leg = TransportLeg(
        decision=decision,
        position=position,
        route=route.strip(),
        planned_minutes=planned_minutes,
        uses_cylinder_oxygen=uses_cylinder_oxygen,
        on_battery=on_battery,
        oxygen_source=oxygen_source.strip(),
        departed_at=dep,
        arrived_at=arr,
        note=note.strip(),
    )
    _save(leg)
    audit(actor=actor, action="decision.transport_leg_added", obj=leg, after=snapshot(leg))
    return leg


@transaction.atomic
def record_leg_times(
    *,
    actor: Any,
    leg: TransportLeg,
    departed_at: dt.datetime | None = None,
    arrived_at: dt.datetime | None = None,
) -> TransportLeg:
    """Fill in a leg's departure or arrival as it happens (a time already recorded is not overwritten)."""
    require(actor, "pathway.record", leg)
    before = snapshot(leg)
    run = leg.decision.run
    if departed_at is not None:
        if leg.departed_at is not None:
            raise ValidationError({"departed_at": "already recorded"})
        leg.departed_at = _when(run, "departed_at", departed_at)
    if arrived_at is not None:
        if leg.arrived_at is not None:
            raise ValidationError({"arrived_at": "already recorded"})
        leg.arrived_at = _when(run, "arrived_at", arrived_at)
    if leg.departed_at and leg.arrived_at and leg.arrived_at < leg.departed_at:
        raise ValidationError({"arrived_at": "cannot be before the departure"})
    leg.save(update_fields=["departed_at", "arrived_at"])
    audit(actor=actor, action="decision.transport_leg_timed", obj=leg, before=before, after=snapshot(leg))
    return leg


def transport_supplies(decision: Decision) -> pathways.TransportSupplies | None:
    c = decision.content
    legs = [
        pathways.TransportLegPlan(leg.route, leg.planned_minutes, leg.uses_cylinder_oxygen, leg.on_battery)
        for leg in decision.legs.all()
        if leg.planned_minutes is not None
    ]
    try:
        return pathways.transport_supplies(
            legs=legs,
            sweep_gas_l_min=c["sweep_gas_l_min"],
            ventilator_o2_l_min=c["ventilator_o2_l_min"],
            oxygen_carried_l=c["oxygen_carried_l"],
            battery_runtime_min=c["battery_runtime_min"],
        )
    except (KeyError, InputError):
        return None


@transaction.atomic
def add_transport_event(
    *,
    actor: Any,
    decision: Decision,
    at: dt.datetime,
    category: str,
    description: str,
    action_taken: str = "",
) -> TransportEvent:
    require(actor, "pathway.record", decision)
    if decision.kind != Kind.TRANSPORT:
        raise ValidationError({"decision": "in-transit events belong to transport decisions"})
    event = TransportEvent(
        decision=decision,
        at=_when(decision.run, "at", at),
        category=category,
        description=description.strip(),
        action_taken=action_taken.strip(),
        recorded_by=user_of(actor),
    )
    _save(event)
    audit(actor=actor, action="decision.transport_event_recorded", obj=event, after=snapshot(event))
    return event


# --- Ambulation ------------------------------------------------------------------------------------------


@transaction.atomic
def record_ambulation_session(
    *,
    actor: Any,
    decision: Decision,
    started_at: dt.datetime,
    duration_min: int,
    ims_level: int,
    pre_check: str,
    post_check: str,
    activities: str = "",
    distance_m: int | None = None,
    team_size: int | None = None,
    lowest_spo2: float | None = None,
    events: str = "",
    stopped_early: bool = False,
) -> AmbulationSession:
    """Log a mobilisation session: the IMS level reached and the cannula checks before and after (both needed:
    a session without them is not a safe record)."""
    require(actor, "pathway.record", decision)
    if decision.kind != Kind.AMBULATION:
        raise ValidationError({"decision": "sessions belong to ambulation decisions"})
    if decision.status != Status.DECIDED:
        raise ValidationError(
            {"decision": "the readiness decision must be decided before a session is logged"}
        )
    if not pre_check.strip():
        raise ValidationError({"pre_check": "record the cannula check before the session"})
    if not post_check.strip():
        raise ValidationError({"post_check": "record the cannula check after the session"})
    try:
        pathways.counts_for_mobilisation_kpi(ims_level)
        if lowest_spo2 is not None:
            from ecmo_core.validate import fraction

            fraction("lowest_spo2", lowest_spo2)
    except InputError as err:
        raise ValidationError({err.field: err.message}) from None
    session = AmbulationSession(
        decision=decision,
        started_at=_when(decision.run, "started_at", started_at),
        duration_min=duration_min,
        ims_level=ims_level,
        activities=activities.strip(),
        distance_m=distance_m,
        team_size=team_size,
        lowest_spo2=lowest_spo2,
        pre_check=pre_check.strip(),
        post_check=post_check.strip(),
        events=events.strip(),
        stopped_early=stopped_early,
        recorded_by=user_of(actor),
    )
    _save(session)
    audit(actor=actor, action="decision.ambulation_session_recorded", obj=session, after=snapshot(session))
    return session


# --- MCS checks ------------------------------------------------------------------------------------------


@transaction.atomic
def record_mcs_check(
    *,
    actor: Any,
    device: McsDevice,
    at: dt.datetime,
    readings: Mapping[str, Any] | None = None,
    position_confirmed: bool | None = None,
    position_note: str = "",
    limb_perfusion_ok: bool | None = None,
    alarms: str = "",
    note: str = "",
) -> McsCheck:
    """A perfusionist's (or physician's) check of an IABP, Impella or VAD: position, limb, alarms and the
    device's own readings (MCS_READINGS names and ranges per kind)."""
    require(actor, "mcs.edit", device)
    at = aware(at, field="at")
    if at < device.inserted_at:
        raise ValidationError({"at": "cannot be before the device was inserted"})
    if device.removed_at is not None and at > device.removed_at:
        raise ValidationError({"at": "cannot be after the device was removed"})
    not_in_future(at, field="at", now=timezone.now())
    allowed = MCS_READINGS.get(device.kind, {})
    clean: dict[str, float] = {}
    for key, value in (readings or {}).items():
        if value is None or value == "":
            continue
        if key not in allowed:
            raise ValidationError(
                {
                    f"readings.{key}": f"not a {device.get_kind_display()} reading; use "
                    f"{', '.join(allowed) or 'none'}"
                }
            )
        low, high, unit, _label = allowed[key]
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValidationError({f"readings.{key}": "must be a number"}) from None
        if not low <= number <= high:
            raise ValidationError(
                {f"readings.{key}": f"{number:g} is outside {low:g}–{high:g} {unit}".strip()}
            )
        clean[key] = number
    check = McsCheck(
        device=device,
        at=at,
        readings=clean,
        position_confirmed=position_confirmed,
        position_note=position_note.strip(),
        limb_perfusion_ok=limb_perfusion_ok,
        alarms=alarms.strip(),
        note=note.strip(),
        checked_by=user_of(actor),
        checked_by_role=member_role(device.run.program_id, actor) or "",
    )
    _save(check)
    audit(actor=actor, action="mcs.check_recorded", obj=check, after=snapshot(check))
    return check


# --- Criteria settings -----------------------------------------------------------------------------------


@transaction.atomic
def set_criteria(
    *,
    actor: Any,
    program: Program,
    criteria_set: str,
    overrides: Mapping[str, Any],
    reason: str,
    effective_from: dt.datetime | None = None,
) -> PathwayCriteria:
    """Change a program's pathway criteria (a new row; the history stays)."""
    require(actor, "settings.manage", program)
    if criteria_set not in DEFAULTS:
        raise ValidationError({"criteria_set": f"use one of {', '.join(DEFAULTS)}"})
    if not reason.strip():
        raise ValidationError({"reason": "say why the criteria change (and the source)"})
    try:
        pathways.with_overrides(DEFAULTS[criteria_set], overrides)
    except InputError as err:
        raise ValidationError({f"overrides.{err.field}": err.message}) from None
    row = PathwayCriteria(
        program=program,
        criteria_set=criteria_set,
        overrides=jsonable(dict(overrides)),
        effective_from=effective_from or timezone.now(),
        reason=reason.strip(),
        set_by=user_of(actor),
    )
    _save(row)
    audit(actor=actor, action="settings.pathway_criteria_set", obj=row, after=snapshot(row), reason=reason)
    return row
