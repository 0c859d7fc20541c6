"""The surveillance worker (``ecmo surveil``): evaluate, escalate, hand on, notify — and keep going.

Built like a monitoring service's alert sender (healthchecks' ``sendalerts``):

- **Per-item isolation.** Each run is evaluated, each alert escalated and each transition handed on in its own
  transaction; an item that raises is logged, recorded as a ``WorkFailure`` and skipped, and the pass goes on
  with the next run or program. A failing item is retried after 1, 5, 15 and 60 minutes and **parked** after
  ``MAX_FAILURES`` failures (logged as an error and audited; ``ecmo surveil --retry-parked`` or deleting the
  row in the admin releases it).
- **Conditional updates.** An escalation is ``UPDATE alert … WHERE acknowledged_at IS NULL AND escalated_at IS
  NULL AND resolved_at IS NULL``: an alert acknowledged (or escalated by hand) after the worker read it is left
  alone and nothing else is rolled back. A transition is claimed with ``UPDATE … WHERE processed = false``.
- **Notifications after commit.** Notifiers (``notifiers`` in an app's ``contributions()``) and channel deliveries run after the
  transaction that claimed the item has committed, outside every lock; each delivery is logged and retried
  (``notify``).
- **A loop that survives.** ``loop`` logs an exception of a whole pass and tries again at the next interval.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone

from ecmo_web import contributions
from ecmo_web.audit.chain import hold
from ecmo_web.kernel import SystemActor, audit
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import hooks, notify
from ecmo_web.surveillance.evaluation import setting_at
from ecmo_web.surveillance.evaluation_queue import evaluate_pending
from ecmo_web.surveillance.hl7_ingest import purge_inbound_messages
from ecmo_web.surveillance.models import Alert, AlertStatus, AlertTransition, SurveillanceSetting
from ecmo_web.surveillance.worker_models import PendingUpload, WorkFailure

logger = logging.getLogger("ecmo.surveillance.worker")

WORKER = SystemActor("system:surveil")
MAX_FAILURES = 5
RETRY_DELAYS = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=15),
    dt.timedelta(minutes=60),
)


# --- failures -------------------------------------------------------------------------------------------------


def _blocked(kind: str, now: dt.datetime) -> tuple[set[int], set[int]]:
    """(ids to skip now: parked or waiting for their retry time, ids with a failure on record)."""
    rows = WorkFailure.objects.filter(kind=kind).values_list("object_id", "parked_at", "next_try_at")
    failing = {object_id for object_id, _, _ in rows}
    skip = {object_id for object_id, parked, retry in rows if parked is not None or retry > now}
    return skip, failing


def _record_failure(
    kind: str, object_id: int, program_id: int | None, error: BaseException, now: dt.datetime
) -> WorkFailure:
    text = f"{type(error).__name__}: {error}"[:2000]
    with transaction.atomic():
        failure, _ = WorkFailure.objects.select_for_update().get_or_create(
            kind=kind,
            object_id=object_id,
            defaults={
                "program_id": program_id,
                "first_failed_at": now,
                "last_failed_at": now,
                "next_try_at": now,
            },
        )
        failure.failures += 1
        failure.last_failed_at, failure.last_error = now, text
        if failure.failures >= MAX_FAILURES:
            failure.parked_at = now
        failure.next_try_at = now + RETRY_DELAYS[min(failure.failures - 1, len(RETRY_DELAYS) - 1)]
        failure.save()
        audit(
            WORKER,
            action="surveillance.work_parked" if failure.parked_at else "surveillance.work_failed",
            obj=failure,
            after={"kind": kind, "object_id": object_id, "failures": failure.failures, "error": text},
        )
    if failure.parked_at:
        logger.error("%s %s parked after %s failures: %s", kind, object_id, failure.failures, text)
    else:
        logger.warning("%s %s failed (%s): %s", kind, object_id, failure.failures, text, exc_info=error)
    return failure


def _record_success(kind: str, object_id: int) -> None:
    with transaction.atomic():
        failure = WorkFailure.objects.filter(kind=kind, object_id=object_id).first()
        if failure is None:
            return
        audit(
            WORKER,
            action="surveillance.work_recovered",
            obj=failure,
            before={"failures": failure.failures},
        )
        failure.delete()


@transaction.atomic
def retry_parked(*, kind: str | None = None) -> int:
    """Release parked work so that the next pass tries it again."""
    parked = WorkFailure.objects.filter(parked_at__isnull=False)
    if kind is not None:
        parked = parked.filter(kind=kind)
    count = 0
    for failure in parked:
        audit(
            WORKER,
            action="surveillance.work_released",
            obj=failure,
            before={"failures": failure.failures, "parked_at": failure.parked_at},
        )
        failure.delete()
        count += 1
    return count


# --- evaluation -----------------------------------------------------------------------------------------------


def evaluate_active_runs(*, now: dt.datetime) -> int:
    """Evaluate every run on ECMO at ``now`` (time-driven rules: checks overdue, data going stale), each in its
    own transaction: a run that fails is logged, recorded and skipped, and the others are evaluated."""
    from ecmo_web.surveillance.actions import evaluate_run

    skip, failing = _blocked(WorkFailure.Kind.EVALUATE, now)
    count = 0
    for run in EcmoRun.objects.filter(ended_at__isnull=True).order_by("pk"):
        if run.pk in skip:
            continue
        try:
            count += len(evaluate_run(run, now=now))
        except Exception as exc:
            _record_failure(WorkFailure.Kind.EVALUATE, run.pk, run.program_id, exc, now)
            continue
        if run.pk in failing:
            _record_success(WorkFailure.Kind.EVALUATE, run.pk)
    return count


# --- escalation -----------------------------------------------------------------------------------------------

_OPEN = {
    "acknowledged_at__isnull": True,
    "escalated_at__isnull": True,
    "resolved_at__isnull": True,
    "status__in": [AlertStatus.FIRING, AlertStatus.INDETERMINATE],
}


def escalate_if_still_due(alert: Alert, *, role: str, reason: str, now: dt.datetime) -> Alert | None:
    """Escalate ``alert`` unless someone acknowledged, escalated or resolved it since it was read (or it
    cleared): one conditional update, then the audit event and the deliveries, in one transaction."""
    with transaction.atomic():
        hold()  # the lock order (audit.chain.hold): chain head, then the alert — as a check judging its run does
        updated = Alert.objects.filter(pk=alert.pk, **_OPEN).update(escalated_at=now, escalated_to_role=role)
        if not updated:
            return None
        alert = Alert.objects.select_related("run__program").get(pk=alert.pk)
        audit(
            WORKER,
            action="alert.escalated",
            obj=alert,
            before={"escalated_at": None, "escalated_to_role": ""},
            after={"escalated_at": now, "escalated_to_role": role},
            reason=reason,
        )
        notify.queue_escalation(alert, now=now)
    return alert


def escalate_due_alerts(now: dt.datetime) -> list[Alert]:
    """Escalate every alert left unacknowledged longer than its program allows (minutes per severity).

    Alerts still firing, and those whose data have since gone missing (indeterminate: nobody knows whether the
    problem persists), count; one that cleared by itself does not. Each alert is escalated on its own: one that
    was acknowledged meanwhile is skipped, one that fails is logged and retried, and the rest go on.
    """
    skip, failing = _blocked(WorkFailure.Kind.ESCALATE, now)
    candidates = Alert.objects.filter(**_OPEN).select_related("run__program").order_by("pk")
    settings_cache: dict[int, SurveillanceSetting | None] = {}
    due: list[Alert] = []
    for alert in candidates:
        if alert.pk in skip:
            continue
        try:
            program_id = alert.run.program_id
            if program_id not in settings_cache:
                settings_cache[program_id] = setting_at(program_id, now)
            setting = settings_cache[program_id] or SurveillanceSetting()
            minutes = setting.escalation_minutes(alert.severity)
            since = alert.firing_since or alert.opened_at
            if now - since < dt.timedelta(minutes=minutes):
                continue
            escalated = escalate_if_still_due(
                alert,
                role=setting.escalate_to_role,
                reason=f"unacknowledged {alert.severity} alert for {minutes} min or more",
                now=now,
            )
        except Exception as exc:
            _record_failure(WorkFailure.Kind.ESCALATE, alert.pk, alert.run.program_id, exc, now)
            continue
        if alert.pk in failing:
            _record_success(WorkFailure.Kind.ESCALATE, alert.pk)
        if escalated is not None:
            due.append(escalated)
    return due


# --- transitions ----------------------------------------------------------------------------------------------


def _hand_on(transition: AlertTransition, now: dt.datetime, had_failed: bool) -> None:
    """After the claim committed: call the in-process notifiers; on failure give the transition back."""
    try:
        hooks.notify(transition)
    except Exception as exc:
        with transaction.atomic():
            AlertTransition.objects.filter(pk=transition.pk).update(processed=False, processed_at=None)
        _record_failure(WorkFailure.Kind.TRANSITION, transition.pk, transition.run.program_id, exc, now)
        return
    if had_failed:
        _record_success(WorkFailure.Kind.TRANSITION, transition.pk)


def process_transitions(*, now: dt.datetime, limit: int = 500) -> int:
    """Hand unprocessed transitions on, oldest first, each once: claim it (``UPDATE … WHERE processed = false``),
    queue its channel deliveries, commit, and only then call the notifiers (``notifiers`` in an app's ``contributions()``). A
    notifier that raises gives that transition back for a retry (parked after repeated failures); the others
    are not sent again."""
    skip, failing = _blocked(WorkFailure.Kind.TRANSITION, now)
    pending = (
        AlertTransition.objects.filter(processed=False)
        .exclude(pk__in=skip)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    count = 0
    for pk in list(pending):
        try:
            with transaction.atomic():
                claimed = AlertTransition.objects.filter(pk=pk, processed=False).update(
                    processed=True, processed_at=now
                )
                if not claimed:  # another worker took it
                    continue
                transition = AlertTransition.objects.select_related("alert", "run__program").get(pk=pk)
                notify.queue_firing(transition, now=now)
                transaction.on_commit(functools.partial(_hand_on, transition, now, pk in failing))
        except Exception as exc:
            program_id = AlertTransition.objects.filter(pk=pk).values_list("run__program", flat=True).first()
            _record_failure(WorkFailure.Kind.TRANSITION, pk, program_id, exc, now)
            continue
        count += 1
    return count


# --- housekeeping ---------------------------------------------------------------------------------------------


def remove_expired_uploads(*, now: dt.datetime) -> int:
    """Delete CSV uploads previewed but never confirmed once they expire (audited per run)."""
    removed = 0
    expired = PendingUpload.objects.filter(expires_at__lte=now).select_related("run").order_by("pk")
    for upload in expired:
        with transaction.atomic():
            deleted, _ = PendingUpload.objects.filter(pk=upload.pk).delete()
            if deleted:
                audit(
                    WORKER,
                    action="surveillance.upload_expired",
                    obj=upload.run,
                    after={"digest": upload.digest, "created_at": upload.created_at},
                )
                removed += 1
    return removed


# --- the pass and the loop ------------------------------------------------------------------------------------


def one_pass(now: dt.datetime | None = None) -> str:
    """One pass of the worker; each stage runs even if an earlier one failed."""
    now = now or timezone.now()
    results: dict[str, Any] = {}
    stages: list[tuple[str, Callable[[], Any]]] = [
        # Runs with new HL7 telemetry the listener queued (when it runs --no-evaluator, or crashed) first: they
        # are replayed from their earliest new sample, before the time-driven pass moves their cursor to now.
        ("queued runs evaluated", lambda: evaluate_pending(now=now).runs),
        ("transitions", lambda: evaluate_active_runs(now=now)),
        ("escalated", lambda: len(escalate_due_alerts(now))),
        ("processed", lambda: process_transitions(now=now)),
        ("notified", lambda: notify.deliver_due(now=now)),
        ("uploads expired", lambda: remove_expired_uploads(now=now)),
        ("HL7 messages purged", lambda: purge_inbound_messages(now=now)),
    ]
    # Other apps' housekeeping, declared in their AppConfig (contributions.periodic).
    stages += [(name, functools.partial(task, now)) for name, task in contributions.periodic()]
    for name, stage in stages:
        try:
            results[name] = stage()
        except Exception:
            logger.exception("surveillance worker: stage %r failed", name)
            results[name] = "failed"
    summary = ", ".join(f"{value} {name}" for name, value in results.items())
    return f"{now:%Y-%m-%d %H:%M:%S} UTC: {summary}"


def loop(
    *,
    interval_s: float,
    write: Callable[[str], Any],
    passes: int | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    run_pass: Callable[[], str] | None = None,
) -> int:
    """Run a pass every ``interval_s`` seconds until stopped (or ``passes`` passes); an exception of a whole pass
    (the database restarting, say) is logged and the next pass tries again. Returns the passes that failed.
    ``run_pass`` replaces the pass run here (``ecmo surveil --loop`` with a broker queues it for a worker)."""
    failed = done = 0
    while passes is None or done < passes:
        try:
            close_old_connections()
            write(run_pass() if run_pass is not None else one_pass())
        except Exception:
            failed += 1
            logger.exception("surveillance worker: pass failed; trying again in %s s", interval_s)
        done += 1
        if passes is None or done < passes:
            sleep(interval_s)
    return failed
