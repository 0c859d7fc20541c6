"""What the background worker runs: escalation when acknowledgement is overdue, notifying transitions,
evaluating every active run.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import hooks
from ecmo_web.surveillance.actions.alerts import escalate_alert
from ecmo_web.surveillance.actions.common import WORKER
from ecmo_web.surveillance.actions.evaluate import evaluate_run
from ecmo_web.surveillance.evaluation import setting_at
from ecmo_web.surveillance.models import (
    Alert,
    AlertStatus,
    AlertTransition,
    SurveillanceSetting,
)


@transaction.atomic
def escalate_due_alerts(now: dt.datetime) -> list[Alert]:
    """Escalate every alert left unacknowledged longer than its program allows (minutes per severity).

    Alerts still firing, and those whose data have since gone missing (indeterminate: nobody knows whether the
    problem persists), count; one that cleared by itself does not.
    """
    due: list[Alert] = []
    candidates = Alert.objects.filter(
        acknowledged_at__isnull=True,
        escalated_at__isnull=True,
        resolved_at__isnull=True,
        status__in=[AlertStatus.FIRING, AlertStatus.INDETERMINATE],
    ).select_related("run__program")
    settings_cache: dict[int, SurveillanceSetting | None] = {}
    for alert in candidates:
        program_id = alert.run.program_id
        if program_id not in settings_cache:
            settings_cache[program_id] = setting_at(program_id, now)
        setting = settings_cache[program_id] or SurveillanceSetting()
        minutes = setting.escalation_minutes(alert.severity)
        since = alert.firing_since or alert.opened_at
        if now - since >= dt.timedelta(minutes=minutes):
            due.append(
                escalate_alert(
                    actor_or_system=WORKER,
                    alert=alert,
                    role=setting.escalate_to_role,
                    now=now,
                    reason=f"unacknowledged {alert.severity} alert for {minutes} min or more",
                )
            )
    return due


@transaction.atomic
def process_transitions(*, now: dt.datetime, limit: int = 500) -> int:
    """Hand unprocessed transitions to the notifiers (``notifiers`` in an app's ``contributions()``) once, oldest first."""
    batch = list(
        AlertTransition.objects.select_for_update()
        .filter(processed=False)
        .order_by("created_at", "pk")[:limit]
    )
    for transition in batch:
        hooks.notify(transition)
    AlertTransition.objects.filter(pk__in=[t.pk for t in batch]).update(processed=True, processed_at=now)
    return len(batch)


def evaluate_active_runs(*, now: dt.datetime) -> int:
    """Evaluate every run on ECMO at ``now`` (time-driven rules: checks overdue, data going stale)."""
    count = 0
    for run in EcmoRun.objects.filter(ended_at__isnull=True):
        count += len(evaluate_run(run, now=now))
    return count
