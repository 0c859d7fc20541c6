"""Export jobs: queued by an action, run by :func:`run_job` — in a thread of this process by default, or by a
Celery worker when a broker is configured (the task body is just ``run_job(job_id)``).

A job is taken with a conditional update (``queued`` → ``running``), so two runners never run the same job; its
progress is written as it goes; its file lands under ``var/exports``; a failure is stored on the job (never
raised into the web request). Completion appends an audit event with the file's SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from ecmo_web.audit.chain import append
from ecmo_web.registry import writers
from ecmo_web.registry.models import ExportJob, ExportKind
from ecmo_web.runs.models import EcmoRun

log = logging.getLogger(__name__)

RESULT_TYPES = {
    ("elso", "json"): ("application/json", "json"),
    ("elso", "csv"): ("text/csv", "csv"),
    ("ecls-cdm", ""): ("application/zip", "zip"),
    ("research", ""): ("application/zip", "zip"),
}


def exports_dir() -> Path:
    path = Path(settings.VAR_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_runs(job: ExportJob) -> Any:
    runs = EcmoRun.objects.filter(program_id=job.program_id)
    run_ids = job.params.get("run_ids")
    if run_ids:
        runs = runs.filter(pk__in=run_ids)
    return runs


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def run_job(job_id: int, on_progress: Callable[[int, int], None] | None = None) -> ExportJob:
    """Run one queued job to completion (or failure). Safe to call twice: only one caller takes the job.

    ``on_progress(done, total)`` is called as runs are written, besides the progress stored on the job.
    """
    taken = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now()
    )
    job = ExportJob.objects.select_related("program", "requested_by").get(pk=job_id)
    if not taken:
        return job
    fmt = job.params.get("format", "") if job.kind == ExportKind.ELSO else ""
    content_type, extension = RESULT_TYPES[(job.kind, fmt)]
    stamp = job.created_at.strftime("%Y%m%dT%H%M%SZ")
    name = f"{job.kind}-{job.program_id}-{stamp}-{job.pk}.{extension}"
    out = exports_dir() / name

    def progress(done: int, total: int) -> None:
        ExportJob.objects.filter(pk=job_id).update(progress_done=done, progress_total=total)
        if on_progress is not None:
            on_progress(done, total)

    runs = job_runs(job)
    now = timezone.now()
    try:
        if job.kind == ExportKind.ELSO:
            counts = writers.write_elso(runs, out, progress, fmt=fmt, now=now)
        elif job.kind == ExportKind.ECLS_CDM:
            counts = writers.write_ecls_cdm(runs, out, progress, now=now)
        else:
            counts = writers.write_research(
                runs, out, progress, key=writers.research_key(job.program_id), now=now
            )
    except Exception as error:  # a failed export is reported on the job, never lost in a thread
        log.exception("export job %s failed", job_id)
        out.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    sha = _sha256(out)
    with transaction.atomic():
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.DONE,
            result_path=str(out),
            result_name=name,
            content_type=content_type,
            result_sha256=sha,
            result_bytes=out.stat().st_size,
            row_counts=counts,
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        append(
            actor=job.requested_by,
            actor_name=job.requested_by_name,
            action="export.completed",
            obj=job,
            after={"kind": job.kind, "sha256": sha, "rows": counts, "params": job.params},
        )
    return job


def _thread_main(job_id: int) -> None:
    close_old_connections()
    try:
        run_job(job_id)
    finally:
        connection.close()


def run_export(job_id: int) -> str:
    """The ``registry.export`` job (``ecmo_web.jobs``): run the export; its final status."""
    return str(run_job(job_id).status)


def start(job: ExportJob) -> threading.Thread | None:
    """Start ``job`` once the current transaction commits: on a Celery worker when a broker is configured
    (``ECMO_BROKER_URL``), otherwise in a thread of this process."""
    from ecmo_web import jobs as background

    if background.broker_configured():
        background.dispatch("registry.export", job_id=job.pk)
        return None
    thread = threading.Thread(target=_thread_main, args=(job.pk,), name=f"export-{job.pk}", daemon=True)
    transaction.on_commit(thread.start)
    return thread
