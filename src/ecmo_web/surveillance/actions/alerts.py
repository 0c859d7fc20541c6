"""Alerts by hand: acknowledge, escalate, resolve, link to what answered them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from ecmo_web.accounts.models import Role
from ecmo_web.audit.chain import hold, snapshot
from ecmo_web.kernel import SystemActor, audit, require, user_of
from ecmo_web.permissions import program_id_of
from ecmo_web.runs.models import Component
from ecmo_web.surveillance import notify
from ecmo_web.surveillance.actions.common import _when
from ecmo_web.surveillance.actions.evaluate import evaluate_run, lock_evaluation
from ecmo_web.surveillance.evaluation import config_of, setting_at
from ecmo_web.surveillance.models import (
    ESCALATION_ROLES,
    Alert,
    AlertLink,
    AlertStatus,
)
from ecmo_web.timezones import to_local


@transaction.atomic
def acknowledge_alert(
    *,
    actor: Any,
    alert: Alert,
    comment: str = "",
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Alert:
    """Acknowledge an open alert: who, when and what they make of it."""
    require(actor, "alert.acknowledge", alert)
    now = now or timezone.now()
    hold()  # the lock order (audit.chain.hold): chain head, then the alert
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.resolved_at is not None:
        raise ValidationError({"alert": "this alert is already resolved"})
    if alert.acknowledged_at is not None:
        raise ValidationError(
            {"alert": f"already acknowledged at {alert.acknowledged_at:%Y-%m-%d %H:%M} UTC"}
        )
    when = _when("at", at, now, not_before=alert.opened_at)
    before = snapshot(alert)
    alert.acknowledged_by, alert.acknowledged_at, alert.acknowledged_comment = (
        user_of(actor),
        when,
        comment.strip(),
    )
    alert.save(update_fields=["acknowledged_by", "acknowledged_at", "acknowledged_comment"])
    audit(actor, action="alert.acknowledged", obj=alert, before=before, after=snapshot(alert), reason=comment)
    return alert


@transaction.atomic
def escalate_alert(
    *,
    actor_or_system: Any,
    alert: Alert,
    role: str,
    reason: str = "",
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Alert:
    """Escalate an open alert to a named role (by hand, or by the worker when it went unacknowledged)."""
    require(actor_or_system, "alert.acknowledge", alert)
    now = now or timezone.now()
    if role not in ESCALATION_ROLES:
        names = ", ".join(str(Role(r).label) for r in ESCALATION_ROLES)
        raise ValidationError({"role": f"escalate only to a clinical role: {names}"})
    hold()
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.resolved_at is not None:
        raise ValidationError({"alert": "this alert is already resolved"})
    if alert.escalated_at is not None:
        raise ValidationError({"alert": f"already escalated to {alert.get_escalated_to_role_display()}"})
    when = _when("at", at, now, not_before=alert.opened_at)
    before = snapshot(alert)
    alert.escalated_at, alert.escalated_to_role = when, role
    alert.save(update_fields=["escalated_at", "escalated_to_role"])
    notify.queue_escalation(alert, now=now)
    audit(
        actor_or_system,
        action="alert.escalated",
        obj=alert,
        before=before,
        after=snapshot(alert),
        reason=reason,
    )
    return alert


def _link_target(alert: Alert, target: Model) -> None:
    if program_id_of(target) != alert.run.program_id:
        raise ValidationError({"link": "can only link records of the same program"})


@transaction.atomic
def resolve_alert(
    *,
    actor: Any,
    alert: Alert,
    comment: str,
    component: Component | None = None,
    link: Model | None = None,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Alert:
    """Resolve an alert, linking what followed: the component fitted (a circuit change) and/or a record such as a
    decision (stored as an ``AlertLink`` with relation "resolved_by")."""
    require(actor, "alert.resolve", alert)
    now = now or timezone.now()
    if not comment or not comment.strip():
        raise ValidationError({"comment": "say what was done (e.g. oxygenator changed, decision to observe)"})
    if at is None:  # the run is judged again below: its evaluation cursor comes first in the lock order
        lock_evaluation(alert.run)
    hold()
    alert = Alert.objects.select_for_update().select_related("run").get(pk=alert.pk)
    if alert.resolved_at is not None:
        raise ValidationError({"alert": "this alert is already resolved"})
    if component is not None and component.circuit.run_id != alert.run_id:
        raise ValidationError({"component": "the component must belong to this run"})
    when = _when("at", at, now, not_before=alert.opened_at)
    before = snapshot(alert)
    alert.resolved_by, alert.resolved_at, alert.resolved_comment = user_of(actor), when, comment.strip()
    alert.resolved_component = component
    alert.save(update_fields=["resolved_by", "resolved_at", "resolved_comment", "resolved_component"])
    if link is not None:
        _link_target(alert, link)
        AlertLink.objects.create(
            alert=alert,
            relation="resolved_by",
            target_type=ContentType.objects.get_for_model(link),
            target_id=link.pk,
            created_by=user_of(actor),
            created_at=now,
        )
    audit(
        actor,
        action="alert.resolved",
        obj=alert,
        before=before,
        after={**snapshot(alert), "link": None if link is None else f"{link._meta.label}:{link.pk}"},
        reason=comment,
    )
    if at is None:
        # What followed (typically a new component) changes the rules' context: judge the run again now, so the
        # run page shows e.g. a new oxygenator's baseline forming rather than the state before the change.
        evaluate_run(alert.run, now=now)
    return alert


# The check-overdue rule (ecmo_core.surveillance.rules.documentation) and who resolves its alerts by themselves.
CHECK_OVERDUE = "documentation.check_overdue"
CHECK_RECORDED = SystemActor("system:check-recorded")


def resolve_answered_check_overdue(*, check: Any, now: dt.datetime) -> list[Alert]:
    """A recorded check answers an overdue check: resolve the run's open "check overdue" alerts that the rule
    has cleared, when the program's ``documentation.check_overdue.resolve_on_next_check`` setting is on (the
    default). Called by ``record_check`` inside its transaction, after the run is judged again; each resolution
    is audited with the check that answered it. An alert still firing (the check is older than the limit) stays
    open for a person."""
    run = check.run
    if not config_of(setting_at(run.program_id, now)).check_overdue.resolve_on_next_check:
        return []
    resolved = []
    hold()
    for alert in Alert.objects.select_for_update().filter(
        run=run, rule_id=CHECK_OVERDUE, resolved_at__isnull=True, status=AlertStatus.CLEAR
    ):
        before = snapshot(alert)
        alert.resolved_at = now
        local = to_local(check.observed_at, run.program)
        alert.resolved_comment = (
            f"Resolved by itself: the circuit check of {local:%Y-%m-%d %H:%M} was recorded."
        )
        alert.save(update_fields=["resolved_at", "resolved_comment"])
        audit(
            CHECK_RECORDED,
            action="alert.resolved",
            obj=alert,
            before=before,
            after={**snapshot(alert), "check": check.pk},
            reason=alert.resolved_comment,
        )
        resolved.append(alert)
    return resolved


@transaction.atomic
def link_alert(
    *,
    actor: Any,
    alert: Alert,
    target: Model,
    relation: str,
    note: str = "",
    permission: str = "alert.acknowledge",
) -> AlertLink:
    """Link an alert to a record that builds on it (relation e.g. "adverse_event", "mm_case", "decision")."""
    require(actor, permission, alert)
    if not relation.strip():
        raise ValidationError({"relation": "name the relation (adverse_event, mm_case, decision …)"})
    _link_target(alert, target)
    link, created = AlertLink.objects.get_or_create(
        alert=alert,
        relation=relation.strip()[:40],
        target_type=ContentType.objects.get_for_model(target),
        target_id=target.pk,
        defaults={"note": note[:300], "created_by": user_of(actor), "created_at": timezone.now()},
    )
    if created:
        audit(
            actor,
            action="alert.linked",
            obj=alert,
            after={"relation": link.relation, "target": f"{target._meta.label}:{target.pk}"},
        )
    return link
