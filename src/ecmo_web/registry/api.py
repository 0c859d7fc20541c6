"""API: FHIR bundle per run, registry/research exports (200 with the file, or 202 with a job URL), jobs, the
ELSO completeness check and the submission log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from ecmo_core.exports import elso
from ecmo_core.exports.fhir import run_bundle
from ecmo_web.accounts.models import Program
from ecmo_web.permissions import can, programs_for, restrict, role_in
from ecmo_web.registry import actions, jobs
from ecmo_web.registry.loaders import iter_runs
from ecmo_web.registry.models import ExportJob, ExportKind, RegistrySubmission
from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked

router = Router(tags=["exports"])


@router.get("/runs/{run_id}/fhir", response={200: dict})
def run_fhir(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run as a FHIR R4 Bundle. Identifiers only for roles that may see them; never for the researcher."""
    run = get_checked(EcmoRun.objects.all(), request.user, "run.view", pk=run_id)
    identified = can(request.user, "patient.identify", run)
    record = next(iter_runs(EcmoRun.objects.filter(pk=run.pk), identified=identified, with_checks=True))
    bundle = run_bundle(record, now=timezone.now(), identified=identified)
    return JsonResponse(bundle, content_type="application/fhir+json")


def resolve_program(user: Any, action: str, program_id: int | None) -> Program:
    """The program to export: the one named, or the only one where the user may ``action``."""
    if program_id is not None:
        program = Program.objects.filter(pk=program_id).first()
        if program is None or role_in(user, program) is None:
            raise Http404("not found")
        if not can(user, action, program):
            raise PermissionDenied(f"your role does not permit {action}")
        return program
    allowed = programs_for(user, action)
    if not allowed:
        raise PermissionDenied(f"your role does not permit {action}")
    if len(allowed) > 1:
        raise ValidationError({"program_id": f"choose a program: one of {', '.join(map(str, allowed))}"})
    return Program.objects.get(pk=allowed[0])


class JobOut(Schema):
    id: int
    kind: str
    status: str
    progress_done: int
    progress_total: int
    progress_pct: int
    row_counts: dict[str, int]
    result_sha256: str
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    url: str
    result_url: str | None


def job_out(job: ExportJob) -> dict[str, Any]:
    done = job.status == ExportJob.Status.DONE
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "progress_done": job.progress_done,
        "progress_total": job.progress_total,
        "progress_pct": job.progress_pct,
        "row_counts": job.row_counts,
        "result_sha256": job.result_sha256,
        "error": job.error,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "url": reverse("api-v1:export_job", kwargs={"job_id": job.pk}),
        "result_url": reverse("api-v1:export_job_result", kwargs={"job_id": job.pk}) if done else None,
    }


def result_response(job: ExportJob) -> FileResponse:
    path = Path(job.result_path)
    attachment = job.content_type != "application/json"
    return FileResponse(
        path.open("rb"), content_type=job.content_type, as_attachment=attachment, filename=job.result_name
    )


class CompletenessOut(Schema):
    run_id: int
    patient_id: str
    complete: bool
    missing: list[dict[str, str]]


@router.get("/exports/elso/completeness", response=list[CompletenessOut])
def elso_completeness(request: HttpRequest, program_id: int | None = None) -> list[dict[str, Any]]:
    """Mandatory ELSO fields missing per run, to fix before export."""
    program = resolve_program(request.user, "export.registry", program_id)
    runs = restrict(EcmoRun.objects.filter(program=program), request.user, "export.registry")
    return [elso.completeness(record) for record in iter_runs(runs, identified=False)]


class SubmissionOut(Schema):
    run_id: int
    job_id: int
    submitted_at: dt.datetime
    submitted_by: str
    file_sha256: str
    note: str


@router.get("/exports/elso/submissions", response=list[SubmissionOut])
def elso_submissions(request: HttpRequest, program_id: int | None = None) -> list[dict[str, Any]]:
    """The submission log: which runs were sent to the registry, in which file, when and by whom."""
    program = resolve_program(request.user, "export.registry", program_id)
    rows = RegistrySubmission.objects.filter(run__program=program).order_by("-submitted_at", "run_id")
    return [
        {
            "run_id": s.run_id,
            "job_id": s.job_id,
            "submitted_at": s.submitted_at,
            "submitted_by": s.submitted_by_name,
            "file_sha256": s.file_sha256,
            "note": s.note,
        }
        for s in rows
    ]


class ExportFilters(Schema):
    program_id: int | None = None
    format: str = ""
    run_id: list[int] = []
    background: bool = False


@router.get("/exports/{kind}", response={200: Any, 202: JobOut})
def export(request: HttpRequest, kind: str, filters: Query[ExportFilters]) -> Any:
    """Export ``elso`` (``format=json|csv``), ``ecls-cdm`` (ZIP of CSV tables) or ``research`` (de-identified
    ZIP). Up to ECMO_EXPORT_SYNC_MAX_RUNS runs answer 200 with the file; more (or ``background=true``) answer
    202 with the job's URL, whose ``result_url`` serves the file when it is done."""
    if kind not in ExportKind.values:
        raise Http404("not found")
    action = actions.EXPORT_ACTIONS[ExportKind(kind)]
    program = resolve_program(request.user, action, filters.program_id)
    job = actions.request_export(
        actor=request.user, program=program, kind=kind, fmt=filters.format, run_ids=filters.run_id or None
    )
    runs = jobs.job_runs(job).count()
    if filters.background or runs > settings.ECMO_EXPORT_SYNC_MAX_RUNS:
        jobs.start(job)
        response = JsonResponse(job_out(job), status=202)
        response["Location"] = job_out(job)["url"]
        return response
    job = jobs.run_job(job.pk)
    if job.status != ExportJob.Status.DONE:
        return JsonResponse({"detail": f"the export failed: {job.error}"}, status=500)
    return result_response(job)


def checked_job(user: Any, job_id: int) -> ExportJob:
    """The job if ``user`` may read it: 404 outside their programs (and for another person's research extract)."""
    job = ExportJob.objects.filter(pk=job_id).select_related("program").first()
    if job is None or role_in(user, job.program) is None:
        raise Http404("not found")
    action = actions.EXPORT_ACTIONS[ExportKind(job.kind)]
    if not can(user, action, job.program):
        raise PermissionDenied(f"your role does not permit {action}")
    if job.kind == ExportKind.RESEARCH and job.requested_by_id != user.pk:
        # A research extract is handed to the person who asked for it (the export log names them).
        raise Http404("not found")
    return job


@router.get("/jobs/{job_id}", response=JobOut, url_name="export_job")
def export_job(request: HttpRequest, job_id: int) -> dict[str, Any]:
    return job_out(checked_job(request.user, job_id))


@router.get("/jobs/{job_id}/result", url_name="export_job_result")
def export_job_result(request: HttpRequest, job_id: int) -> Any:
    job = checked_job(request.user, job_id)
    if job.status != ExportJob.Status.DONE:
        return JsonResponse({"detail": f"the export is {job.status}", "job": job_out(job)}, status=409)
    return result_response(job)


class SubmissionIn(Schema):
    note: str = ""


@router.post("/jobs/{job_id}/submission", response={201: list[SubmissionOut]})
def submit_job(request: HttpRequest, job_id: int, payload: SubmissionIn) -> Any:
    """Record that this ELSO export was sent to the registry."""
    job = checked_job(request.user, job_id)
    made = actions.record_submission(actor=request.user, job=job, note=payload.note)
    return Status(
        201,
        [
            {
                "run_id": s.run_id,
                "job_id": s.job_id,
                "submitted_at": s.submitted_at,
                "submitted_by": s.submitted_by_name,
                "file_sha256": s.file_sha256,
                "note": s.note,
            }
            for s in made
        ],
    )
