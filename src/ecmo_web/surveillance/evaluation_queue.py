"""The live path's evaluation queue: rule passes after commit, coalesced per run, durable across crashes.

The HL7 listener commits a message's samples and acknowledges it; it does not evaluate. In the same transaction as
the samples it upserts the run's ``EvaluationRequest`` (:func:`request_evaluations`), so a request can no more be
lost than the samples it describes. :func:`evaluate_pending` then evaluates each pending run at most once per
``interval_s`` (default 1 s) — however many messages arrived in between — from the earliest new observation, by
calling ``actions.evaluate_run`` (the same entry point every other way in uses).

Who calls :func:`evaluate_pending`: the evaluator thread that ``ecmo mllp-listen`` starts (:class:`Evaluator`),
each pass of ``ecmo surveil``, or a task worker. Several may run at once, in several processes: a run is claimed
in a short transaction of its own (the request row locked, then marked not pending, with the span it claims kept
in ``claimed_from``), so exactly one of them evaluates it within an interval; the evaluation follows in its own
transaction, and the claim is cleared after it commits. The request row is therefore never locked while a run is
judged, and the listener's commits, which upsert it, never wait for an evaluation (on PostgreSQL they did, for
the whole evaluation). A crash mid-evaluation leaves the claim: the run is due again after the interval, from the
claimed span (``claimed_from``) and whatever arrived since.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from ecmo_web import contributions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions, sqlrows
from ecmo_web.surveillance.models import EvaluationRequest

log = logging.getLogger("ecmo.evaluator")

DEFAULT_INTERVAL_S = 1.0


def interval_s() -> float:
    """Seconds between two evaluations of one run (``ECMO_EVALUATION_INTERVAL_S``, default 1 s)."""
    return float(getattr(settings, "ECMO_EVALUATION_INTERVAL_S", DEFAULT_INTERVAL_S))


def request_evaluations(requests: Iterable[tuple[int, dt.datetime]], *, now: dt.datetime) -> None:
    """Mark runs as having new telemetry from ``replay_from``: one upsert per run, in the caller's transaction.

    A run already pending keeps its first request time and the earlier of the two ``replay_from``.
    """
    earliest: dict[int, dt.datetime] = {}
    for run_id, replay_from in requests:
        earliest[run_id] = min(replay_from, earliest.get(run_id, replay_from))
    if not earliest:
        return
    qn = connection.ops.quote_name
    table = qn(EvaluationRequest._meta.db_table)
    adapt = sqlrows.datetime_adapter()
    # Table and column names come from the model; values are bound parameters. One statement for all the runs (each
    # once, in id order: concurrent writers lock the rows in the same order).
    sqlrows.insert(
        EvaluationRequest,
        ("run_id", "pending", "replay_from", "requested_at", "evaluated_at"),
        [(run_id, True, adapt(at), adapt(now), None) for run_id, at in sorted(earliest.items())],
        "ON CONFLICT (run_id) DO UPDATE SET "
        f"replay_from = CASE WHEN {table}.pending AND {table}.replay_from < excluded.replay_from "
        f"THEN {table}.replay_from ELSE excluded.replay_from END, "
        f"requested_at = CASE WHEN {table}.pending THEN {table}.requested_at ELSE excluded.requested_at END, "
        "pending = excluded.pending",
    )


@dataclass
class PassResult:
    """What one :func:`evaluate_pending` pass did; ``waited_s``: request → evaluation, per run evaluated."""

    runs: int = 0
    transitions: int = 0
    failed: int = 0
    waited_s: list[float] = field(default_factory=list)


def _due(now: dt.datetime, every_s: float) -> Q:
    """Pending, or claimed by an evaluation that has not finished (or died), and not claimed within ``every_s``."""
    return (Q(pending=True) | Q(claimed_from__isnull=False)) & (
        Q(evaluated_at__isnull=True) | Q(evaluated_at__lte=now - dt.timedelta(seconds=every_s))
    )


def evaluate_pending(
    *, now: dt.datetime | None = None, every_s: float | None = None, limit: int = 100
) -> PassResult:
    """Evaluate every run whose request is due (pending, and not evaluated within ``every_s``), oldest first.

    Each run is claimed and evaluated in its own transaction. A run whose evaluation raises is logged and left
    pending until its next interval (it cannot stall the others or make the caller crash-loop).
    """
    every_s = interval_s() if every_s is None else every_s
    result = PassResult()
    due = list(
        EvaluationRequest.objects.filter(_due(now or timezone.now(), every_s))
        .order_by("requested_at")
        .values_list("run_id", flat=True)[:limit]
    )
    for run_id in due:
        at = now or timezone.now()
        try:
            claimed = _claim_and_evaluate(run_id, at, every_s)
        except Exception:
            log.exception("evaluation of run %s failed; it stays pending", run_id)
            result.failed += 1
            with transaction.atomic():
                EvaluationRequest.objects.filter(run_id=run_id).update(evaluated_at=at)
            continue
        if claimed is None:
            continue  # another evaluator took it
        requested_at, transitions = claimed
        result.runs += 1
        result.transitions += len(transitions)
        # From the oldest unevaluated message's commit to its transitions being stored.
        result.waited_s.append(max((timezone.now() - requested_at).total_seconds(), 0.0))
    return result


def _claim(run_id: int, at: dt.datetime, every_s: float) -> tuple[dt.datetime, dt.datetime | None] | None:
    """Claim the run's request if it is due, in a short transaction of its own: (requested_at, replay_from), or
    None when it is not due (or another evaluator took it). The span claimed stays in ``claimed_from`` until the
    evaluation has committed: a request left claimed by an evaluation that failed or died is due again."""
    with transaction.atomic():
        request = (
            EvaluationRequest.objects.select_for_update().filter(_due(at, every_s), run_id=run_id).first()
        )
        if request is None:
            return None
        spans = [request.claimed_from, request.replay_from if request.pending else None]
        replay_from = min((t for t in spans if t is not None), default=None)
        EvaluationRequest.objects.filter(pk=request.pk).update(
            pending=False, claimed_from=replay_from or at, evaluated_at=at
        )
        return request.requested_at, replay_from


def _claim_and_evaluate(run_id: int, at: dt.datetime, every_s: float) -> tuple[dt.datetime, list[Any]] | None:
    """Claim the run's request if it is due, evaluate it, then clear the claim, each in its own transaction; None
    when not due (or taken). Messages committed meanwhile leave a new pending request (the claim made the row not
    pending), evaluated at the next interval."""
    claimed = _claim(run_id, at, every_s)
    if claimed is None:
        return None
    requested_at, replay_from = claimed
    run = EcmoRun.objects.get(pk=run_id)
    transitions = actions.evaluate_run(run, now=at, replay_from=replay_from)
    # Only this claim's (a slower evaluation's claim may have been taken over by another evaluator since).
    EvaluationRequest.objects.filter(run_id=run_id, evaluated_at=at).update(claimed_from=None)
    return requested_at, transitions


def evaluate_if_due(
    run_id: int, *, now: dt.datetime | None = None, every_s: float | None = None
) -> list[Any] | None:
    """Evaluate one run now if its request is due (the API, after committing a batch): its transitions, or None
    when the run was evaluated less than ``every_s`` ago — the request then stays pending for the evaluator (or the
    next batch), so a client posting many batches a second costs at most one evaluation per interval."""
    every_s = interval_s() if every_s is None else every_s
    at = now or timezone.now()
    try:
        claimed = _claim_and_evaluate(run_id, at, every_s)
    except Exception:  # the batch is committed: a failing rule pass must not turn its answer into an error
        log.exception("evaluation of run %s failed; it stays pending", run_id)
        with transaction.atomic():
            EvaluationRequest.objects.filter(run_id=run_id).update(evaluated_at=at)
        return None
    return None if claimed is None else claimed[1]


def next_due_in_s(*, now: dt.datetime, every_s: float) -> float | None:
    """Seconds until the earliest pending request falls due (0 if one is due now), or None when none is pending."""
    pending = EvaluationRequest.objects.filter(Q(pending=True) | Q(claimed_from__isnull=False)).values_list(
        "evaluated_at", flat=True
    )
    waits = [
        0.0 if last is None else max((last + dt.timedelta(seconds=every_s) - now).total_seconds(), 0.0)
        for last in pending[:1000]
    ]
    return min(waits) if waits else None


class Evaluator:
    """A thread that drains the evaluation queue: the listener's in-process evaluator.

    It wakes when told that messages were committed (:meth:`wake`) or when the next pending run falls due, and at
    least every ``poll_s`` (requests committed by other processes). Wakes are coalesced: after a pass it rests at
    least ``min_gap_s`` (default a tenth of the interval, at most 0.1 s), so that a listener committing hundreds of
    groups a second does not run hundreds of queue look-ups a second beside them.
    """

    def __init__(
        self, *, every_s: float | None = None, poll_s: float = 0.5, min_gap_s: float | None = None
    ) -> None:
        self.every_s = interval_s() if every_s is None else every_s
        self.poll_s = poll_s
        self.min_gap_s = min(self.every_s / 10, 0.1) if min_gap_s is None else min_gap_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ecmo-evaluator", daemon=True)
        self.passes: list[PassResult] = []

    def start(self) -> Evaluator:
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        # Read the apps' contributions (the weaning-trial providers an evaluation asks for) before the first
        # evaluation: the first read imports modules, half a second that would otherwise be spent inside the first
        # evaluation's transaction — on SQLite, holding the write lock the listener's commits wait for.
        contributions.collected()
        try:
            while not self._stop.is_set():
                wait = self.poll_s
                self._wake.clear()
                try:
                    close_old_connections()
                    now = timezone.now()
                    result = evaluate_pending(now=now, every_s=self.every_s)
                    if result.runs or result.failed:
                        self.passes.append(result)
                        del self.passes[:-1000]
                    due = next_due_in_s(now=timezone.now(), every_s=self.every_s)
                    if due is not None:
                        wait = min(wait, max(due, 0.01))
                except Exception:  # a database outage must not kill the thread; retry after the poll interval
                    log.exception("evaluator pass failed")
                if self.min_gap_s > 0 and self._stop.wait(min(self.min_gap_s, wait)):
                    break
                self._wake.wait(max(wait - self.min_gap_s, 0.0))
        finally:
            connections.close_all()


_in_process: Evaluator | None = None


def start_in_process() -> Evaluator:
    """This process's evaluator (started once): ``ecmo serve`` starts one in each web worker when no broker is set,
    so a run whose evaluation a request queued (a large batch, a second batch within the interval) is evaluated
    within the interval even when no listener or ``ecmo surveil`` runs beside it. Several are safe side by side:
    each run is claimed by a conditional update."""
    global _in_process
    if _in_process is None:
        _in_process = Evaluator().start()
    return _in_process


def wake_in_process() -> None:
    """Tell this process's evaluator, if it has one, that a request was queued."""
    if _in_process is not None:
        _in_process.wake()
