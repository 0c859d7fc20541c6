"""Background jobs (ecmo_web.jobs): in-process without a broker, on a real Celery worker with one.

- without ECMO_BROKER_URL a dispatched job runs now, in the caller, and returns its result (an escalation
  written through the escalation action, audited as the surveillance worker)
- an unknown job name fails in the caller, naming the jobs there are; arguments that cannot travel as JSON (a
  model instance) are refused in-process too, so nothing works locally that would fail on a worker
- with a broker a job is queued only when the caller's transaction commits, and a real `ecmo worker` (Celery on
  the local Redis, database 7) runs it against the same database: the alert is escalated and audited. Redis not
  reachable fails the test; it never skips. PostgreSQL leg: the worker uses the live test database. SQLite leg:
  the test database is copied to a file the worker uses, and copied back to read the result.
- `ecmo worker` without a broker refuses to start (exit with a message), and `ecmo surveil --loop` with a broker
  queues the pass instead of running it
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from ecmo_core.surveillance import Sample
from ecmo_web import jobs
from ecmo_web.audit.models import AuditEvent
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions, worker
from ecmo_web.surveillance.management.commands import surveil as surveil_command
from ecmo_web.surveillance.models import Alert
from tests.web.conftest import T0

REDIS_DB = 7
BROKER = f"redis://127.0.0.1:6379/{REDIS_DB}"
ECMO = [sys.executable, "-c", "from ecmo_web.cli import main; raise SystemExit(main())"]
LATER = T0 + dt.timedelta(hours=2)


def _air_alert(run: EcmoRun) -> Alert:
    """A critical alert, firing since T0 + 1 min and acknowledged by nobody."""
    at = T0 + dt.timedelta(minutes=1)
    actions.ingest_samples(
        actor_or_system=actions.DEMO, run=run, samples=[Sample(at, "bubble_detected", 1.0)], now=at
    )
    return Alert.objects.get(run=run, rule_id="air.detected")


def test_it_runs_a_job_in_process_without_a_broker(run: EcmoRun, settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    alert = _air_alert(run)
    assert jobs.dispatch("surveillance.escalate", now=LATER) == 1
    alert.refresh_from_db()
    assert alert.escalated_at == LATER
    assert AuditEvent.objects.get(action="alert.escalated").actor_name == "system:surveil"
    assert jobs.dispatch("surveillance.escalate", now=LATER) == 0  # once only


def test_it_evaluates_a_run_by_id(run: EcmoRun, settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    assert jobs.dispatch("surveillance.evaluate_run", run_id=run.pk, now=T0 + dt.timedelta(hours=1)) >= 0
    run.refresh_from_db()
    assert run.evaluation_cursor.evaluated_through == T0 + dt.timedelta(hours=1)


def test_it_refuses_an_unknown_job_naming_the_known_ones(db: Any) -> None:
    with pytest.raises(jobs.UnknownJob, match=r"no job named 'surveillance\.nap'.*surveillance\.escalate"):
        jobs.dispatch("surveillance.nap")


def test_it_refuses_arguments_that_cannot_travel_to_a_worker(run: EcmoRun, settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    with pytest.raises(TypeError, match="JSON-able"):
        jobs.dispatch("surveillance.evaluate_run", run_id=run, now=LATER)


def test_it_will_not_start_a_worker_without_a_broker(settings: Any) -> None:
    settings.CELERY_BROKER_URL = ""
    with pytest.raises(CommandError, match="ECMO_BROKER_URL is not set"):
        call_command("worker")


@pytest.fixture
def broker(settings: Any) -> Iterator[redis.Redis]:
    """Redis database 7 on this machine, emptied; the test fails (never skips) if Redis is not there."""
    client = redis.Redis.from_url(BROKER)
    client.flushdb()
    settings.CELERY_BROKER_URL = BROKER
    yield client
    client.flushdb()
    client.close()


def _queued(broker: redis.Redis) -> list[tuple[str, dict[str, Any]]]:
    """(job name, arguments) of every message waiting on the queue, oldest first."""
    found = []
    for raw in reversed(broker.lrange("ecmo", 0, -1)):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append((args[0], args[1]))
    return found


def test_it_queues_the_surveillance_pass_from_the_loop_with_a_broker(
    db: Any, broker: redis.Redis, django_capture_on_commit_callbacks: Any
) -> None:
    passes: list[str] = []
    with django_capture_on_commit_callbacks(execute=True):
        worker.loop(interval_s=1, write=passes.append, passes=1, run_pass=surveil_command.queue_pass)
    assert passes == ["surveillance pass queued for the workers"]
    assert _queued(broker) == [("surveillance.pass", {})]


@pytest.fixture
def shared_database(tmp_path: Path) -> Iterator[tuple[dict[str, str], Callable[[], None]]]:
    """(environment for a subprocess that uses this test's database, a function that makes the subprocess's
    writes visible here)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ECMO_TEST_DB_SUFFIX"}}
    env["ECMO_VAR_DIR"] = str(tmp_path / "var")
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        server = (
            f"{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
        )
        env["DATABASE_URL"] = f"postgres://{server}/{settings['NAME']}"
        yield env, lambda: None
        return
    # SQLite: the test database may live in memory, where no other process can reach it.
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as copy:
        connection.connection.backup(copy)
    env["DATABASE_URL"] = f"sqlite:///{path}"

    def sync() -> None:
        with sqlite3.connect(path) as copy:
            copy.backup(connection.connection)

    yield env, sync


@pytest.mark.django_db(transaction=True)
def test_it_runs_a_job_on_a_real_celery_worker(
    transactional_db: Any,
    run: EcmoRun,
    broker: redis.Redis,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    alert = _air_alert(run)
    env, sync = request.getfixturevalue("shared_database")
    with transaction.atomic():
        assert jobs.dispatch("surveillance.escalate", now=LATER) is None
        assert broker.llen("ecmo") == 0  # not before the caller's transaction commits
    assert broker.llen("ecmo") == 1

    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [*ECMO, "worker", "--concurrency", "1"],
        env={**env, "ECMO_BROKER_URL": BROKER},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            sync()
            alert.refresh_from_db()
            if alert.escalated_at is not None or worker.poll() is not None:
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    output = (tmp_path / "worker.log").read_text()
    assert alert.escalated_at == LATER, output
    assert AuditEvent.objects.get(action="alert.escalated").actor_name == "system:surveil"
    assert broker.llen("ecmo") == 0
    assert "job surveillance.escalate done" in output, output


def test_it_queues_an_export_for_the_workers_with_a_broker(
    run: EcmoRun, personas: dict[str, Any], broker: redis.Redis, django_capture_on_commit_callbacks: Any
) -> None:
    from ecmo_web.registry import actions as registry_actions
    from ecmo_web.registry import jobs as export_jobs

    with django_capture_on_commit_callbacks(execute=True):
        job = registry_actions.request_export(actor=personas["director"], program=run.program, kind="elso")
        assert export_jobs.start(job) is None  # no thread in this process: a worker runs it
    assert _queued(broker) == [("registry.export", {"job_id": job.pk})]
    # what the worker runs: the export itself, to its end
    assert export_jobs.run_export(job.pk) == "done"
