"""Pages: registry exports (completeness, jobs with progress, submission log), the research export, studies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from ecmo_core.exports import elso, research
from ecmo_web.accounts.models import Program
from ecmo_web.permissions import can, restrict
from ecmo_web.registry import actions, jobs
from ecmo_web.registry.api import checked_job, result_response
from ecmo_web.registry.loaders import iter_runs
from ecmo_web.registry.models import (
    CreditRole,
    ExportJob,
    ExportKind,
    RegistrySubmission,
    Study,
    StudyOutput,
)
from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked


def _program(request: HttpRequest, program_id: int, action: str) -> Program:
    return get_checked(Program.objects.all(), request.user, action, pk=program_id)


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        for problem in problems:
            messages.error(request, f"{field.replace('_', ' ')}: {problem}")


def _jobs(program: Program, user: Any, kinds: Sequence[str]) -> dict[str, Any]:
    """The latest jobs of these kinds (research extracts: the user's own), and whether the table should poll."""
    found = ExportJob.objects.filter(program=program, kind__in=kinds).prefetch_related("submissions")[:20]
    shown = [j for j in found if j.kind != ExportKind.RESEARCH or j.requested_by_id == user.pk]
    running = (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING)
    return {
        "jobs": shown,
        "polling": any(j.status in running for j in shown),
        "research": kinds == [ExportKind.RESEARCH],
    }


@login_required
def exports_page(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "export.registry")
    runs = EcmoRun.objects.filter(program=program)
    completeness = [elso.completeness(r) for r in iter_runs(runs, identified=False)]
    return render(
        request,
        "registry/exports.html",
        {
            "program": program,
            "completeness": completeness,
            "incomplete": sum(1 for c in completeness if not c["complete"]),
            **_jobs(program, request.user, [ExportKind.ELSO, ExportKind.ECLS_CDM]),
            "submissions": RegistrySubmission.objects.filter(run__program=program).select_related(
                "run__patient"
            )[:50],
            "fields": elso.ELSO_FIELDS,
        },
    )


@login_required
def jobs_partial(request: HttpRequest, program_id: int) -> HttpResponse:
    """The jobs table alone, polled by the page while an export runs (progress)."""
    research_only = request.GET.get("kind") == ExportKind.RESEARCH
    program = _program(request, program_id, "export.research" if research_only else "export.registry")
    kinds = [ExportKind.RESEARCH] if research_only else [ExportKind.ELSO, ExportKind.ECLS_CDM]
    return render(request, "registry/_jobs.html", {"program": program, **_jobs(program, request.user, kinds)})


@login_required
@require_POST
def start_export(request: HttpRequest, program_id: int) -> HttpResponse:
    kind, _, fmt = request.POST.get("kind", "").partition(":")
    research_kind = kind == ExportKind.RESEARCH
    target = "registry_research" if research_kind else "registry_exports"
    program = _program(request, program_id, "export.research" if research_kind else "export.registry")
    try:
        job = actions.request_export(actor=request.user, program=program, kind=kind, fmt=fmt)
    except ValidationError as error:
        _errors(request, error)
        return redirect(target, program_id=program.pk)
    jobs.start(job)
    messages.success(request, f"{job.get_kind_display()} export started.")
    return redirect(target, program_id=program.pk)


@login_required
def download(request: HttpRequest, job_id: int) -> HttpResponseBase:
    job = checked_job(request.user, job_id)
    if job.status != ExportJob.Status.DONE:
        messages.error(request, "That export has not finished.")
        return redirect("registry_exports", program_id=job.program_id)
    response = result_response(job)
    response["Content-Disposition"] = f'attachment; filename="{job.result_name}"'
    return response


@login_required
@require_POST
def submit(request: HttpRequest, job_id: int) -> HttpResponse:
    job = checked_job(request.user, job_id)
    try:
        made = actions.record_submission(actor=request.user, job=job, note=request.POST.get("note", ""))
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, f"Recorded {len(made)} run(s) as sent to the ELSO registry.")
    return redirect("registry_exports", program_id=job.program_id)


@login_required
def research_page(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "export.research")
    return render(
        request,
        "registry/research.html",
        {
            "program": program,
            **_jobs(program, request.user, [ExportKind.RESEARCH]),
            "safe_harbor": research.SAFE_HARBOR,
            "dictionary": research.DATA_DICTIONARY,
            "run_count": EcmoRun.objects.filter(program=program).count(),
        },
    )


@login_required
def study_list(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "study.manage")
    if request.method == "POST":
        approved = request.POST.get("ethics_approved_on") or None
        try:
            study = actions.create_study(
                actor=request.user,
                program=program,
                title=request.POST.get("title", ""),
                kind=request.POST.get("kind", ""),
                status=request.POST.get("status", Study.Status.PLANNED),
                protocol_ref=request.POST.get("protocol_ref", ""),
                ethics_ref=request.POST.get("ethics_ref", ""),
                ethics_approved_on=_date(approved),
                registration=request.POST.get("registration", ""),
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            return redirect("study_detail", study_id=study.pk)
    studies = Study.objects.filter(program=program).prefetch_related("contributors", "outputs", "enrolments")
    return render(
        request,
        "registry/studies.html",
        {
            "program": program,
            "studies": studies,
            "kinds": Study.Kind.choices,
            "statuses": Study.Status.choices,
        },
    )


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({"date": "use YYYY-MM-DD"}) from None


def _study(request: HttpRequest, study_id: int) -> Study:
    return get_checked(Study.objects.select_related("program"), request.user, "study.manage", pk=study_id)


@login_required
def study_detail(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _study(request, study_id)
    can_see_runs = can(request.user, "run.view", study.program)
    enrolments = (
        study.enrolments.select_related("run__patient").order_by("enrolled_at") if can_see_runs else []
    )
    candidates = []
    if can_see_runs:
        enrolled = study.enrolments.values_list("run_id", flat=True)
        candidates = list(
            restrict(EcmoRun.objects.filter(program=study.program), request.user, "run.view")
            .exclude(pk__in=enrolled)
            .select_related("patient")
        )
    contributors = list(study.contributors.all())
    by_person: dict[str, dict[str, Any]] = {}
    for c in contributors:
        entry = by_person.setdefault(c.name, {"name": c.name, "discipline": c.discipline, "roles": []})
        entry["roles"].append(c.get_credit_role_display())
    return render(
        request,
        "registry/study.html",
        {
            "program": study.program,
            "study": study,
            "people": list(by_person.values()),
            "outputs": study.outputs.all(),
            "enrolments": enrolments,
            "enrolled_count": study.enrolments.count(),
            "candidates": candidates,
            "can_see_runs": can_see_runs,
            "credit_roles": CreditRole.choices,
            "output_kinds": StudyOutput.Kind.choices,
        },
    )


@login_required
@require_POST
def add_contributor(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _study(request, study_id)
    try:
        actions.add_contributor(
            actor=request.user,
            study=study,
            name=request.POST.get("name", ""),
            discipline=request.POST.get("discipline", ""),
            credit_role=request.POST.get("credit_role", ""),
        )
    except ValidationError as error:
        _errors(request, error)
    return redirect("study_detail", study_id=study.pk)


@login_required
@require_POST
def add_output(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _study(request, study_id)
    try:
        actions.add_output(
            actor=request.user,
            study=study,
            kind=request.POST.get("kind", ""),
            title=request.POST.get("title", ""),
            authors=request.POST.get("authors", "").split(";"),
            reference=request.POST.get("reference", ""),
            published_on=_date(request.POST.get("published_on")),
        )
    except ValidationError as error:
        _errors(request, error)
    return redirect("study_detail", study_id=study.pk)


@login_required
@require_POST
def enrol(request: HttpRequest, study_id: int) -> HttpResponse:
    study = _study(request, study_id)
    run = get_checked(EcmoRun.objects.all(), request.user, "run.view", pk=request.POST.get("run") or 0)
    try:
        actions.enrol_run(actor=request.user, study=study, run=run)
    except ValidationError as error:
        _errors(request, error)
    return redirect("study_detail", study_id=study.pk)
