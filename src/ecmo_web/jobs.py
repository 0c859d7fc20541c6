"""Background jobs: run in-process without a broker, on Celery workers with one (docs/decisions/0003-jobs.md).

A job is a named function that takes JSON-able keyword arguments (strings, numbers, lists, dicts, datetimes)
and does its writes through actions. Apps declare theirs in ``contributions()``::

    Contributions(jobs=(Job("surveillance.escalate", "ecmo_web.surveillance.worker:escalate_job"),))

Callers never care where a job runs::

    jobs.dispatch("surveillance.evaluate_run", run_id=run.pk, now=now)

- **No broker** (``ECMO_BROKER_URL`` unset: a single machine, SQLite): the job runs now, in the caller's process,
  and ``dispatch`` returns its result.
- **With a broker** (``ECMO_BROKER_URL=redis://…`` or ``amqp://…``): the job is queued for ``ecmo worker`` once
  the caller's transaction commits (a worker never sees a job for rows it cannot read yet), and ``dispatch``
  returns ``None``. Celery acknowledges the message after the job ran (``acks_late``), so a worker that dies
  mid-job leaves it for another worker; jobs are written to be safe to run twice (conditional updates, cursors).

Arguments travel through Celery's JSON in both cases, so a job that works in-process works on a worker too
(a model instance or an ``object()`` is refused at dispatch, not on the worker).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from django.conf import settings
from django.db import transaction
from kombu.utils import json as kombu_json

from ecmo_web.contributions import Job

__all__ = ["Job", "UnknownJob", "app", "broker_configured", "dispatch", "registered", "run"]

logger = logging.getLogger("ecmo.jobs")

TASK_NAME = "ecmo.run_job"


class UnknownJob(LookupError):
    pass


app = Celery("ecmo_web")
app.conf.update(
    broker_url=settings.CELERY_BROKER_URL
    or None,  # `ecmo worker` reads it; dispatch reads settings each time
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_acks_late=True,  # a job whose worker died is delivered again, not lost
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # long jobs: a worker takes one at a time
    worker_hijack_root_logger=False,  # Django's LOGGING stays in charge
    task_default_queue="ecmo",
)


def broker_configured() -> bool:
    return bool(settings.CELERY_BROKER_URL)


def registered() -> dict[str, Job]:
    """Every job the installed apps offer, by name."""
    from ecmo_web import contributions

    found: dict[str, Job] = {}
    for entry in contributions.collected():
        for job in entry.contributions.jobs:
            if job.name in found and found[job.name] != job:
                raise ValueError(
                    f"job {job.name!r} is offered twice ({found[job.name].target}, {job.target})"
                )
            found[job.name] = job
    return found


def _job(name: str) -> Job:
    jobs = registered()
    if name not in jobs:
        raise UnknownJob(f"no job named {name!r}; known jobs: {', '.join(sorted(jobs)) or 'none'}")
    return jobs[name]


def _travelled(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments as a worker would receive them (Celery's JSON, datetimes kept)."""
    try:
        loaded: dict[str, Any] = kombu_json.loads(kombu_json.dumps(kwargs))
    except TypeError as exc:
        raise TypeError(f"job arguments must be JSON-able (ids, not objects): {exc}") from exc
    return loaded


def run(name: str, **kwargs: Any) -> Any:
    """Run a job here and now (what a worker does with a message)."""
    return _job(name).function()(**kwargs)


@app.task(name=TASK_NAME)
def run_job(name: str, kwargs: dict[str, Any]) -> None:
    logger.info("job %s started", name)
    run(name, **kwargs)
    logger.info("job %s done", name)


def dispatch(name: str, **kwargs: Any) -> Any:
    """Run the job in-process (no broker: returns its result) or queue it after commit (broker: returns None)."""
    _job(name)  # an unknown name fails here, in the caller, not later on a worker
    payload = _travelled(kwargs)
    if not broker_configured():
        return run(name, **payload)
    transaction.on_commit(lambda: _send(name, payload))
    return None


def _send(name: str, payload: dict[str, Any]) -> None:
    with app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
        run_job.apply_async(args=(name, payload), connection=connection)
