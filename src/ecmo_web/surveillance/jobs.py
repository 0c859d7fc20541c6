"""The surveillance worker's work as background jobs (``ecmo_web.jobs.dispatch``), for ``ecmo worker``.

Each takes JSON-able arguments (a run id, an aware ``now``; ``now`` defaults to the worker's clock) and is safe
to run twice or on two workers at once: evaluation skips moments before the run's cursor, escalation and the
hand-on of transitions are conditional updates (``surveillance.worker``).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import worker


def surveillance_pass(now: dt.datetime | None = None) -> str:
    """One pass of ``ecmo surveil``: evaluate, escalate, hand on, notify, expire uploads."""
    return worker.one_pass(now)


def escalate(now: dt.datetime | None = None) -> int:
    """Escalate every alert left unacknowledged too long; returns how many were escalated."""
    return len(worker.escalate_due_alerts(now or timezone.now()))


def evaluate_run(run_id: int, now: dt.datetime | None = None, replay_from: dt.datetime | None = None) -> int:
    """Evaluate one run (from ``replay_from`` when given: a late batch, an imported span); returns the number
    of transitions stored."""
    from ecmo_web.surveillance.actions import evaluate_run as evaluate

    with transaction.atomic():
        run = EcmoRun.objects.get(pk=run_id)
        return len(evaluate(run, now=now or timezone.now(), replay_from=replay_from))


def evaluate_pending(now: dt.datetime | None = None) -> int:
    """Evaluate the runs the HL7 listener queued (``evaluation_queue``); returns how many were evaluated."""
    from ecmo_web.surveillance.evaluation_queue import evaluate_pending as evaluate

    return evaluate(now=now).runs
