"""Every write of the registry app: export requests, registry submissions, studies and their contributors.

Each action goes through the action kernel: permission (a ``SystemActor`` — the ``ecmo export`` command run by
the operator — is trusted and named in the audit trail), validation, the write, and an audit event in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import snapshot
from ecmo_web.kernel import SystemActor, actor_name, audit, require, user_of
from ecmo_web.registry.models import (
    Contributor,
    CreditRole,
    Enrolment,
    ExportJob,
    ExportKind,
    RegistrySubmission,
    Study,
    StudyOutput,
)
from ecmo_web.runs.models import EcmoRun

CLI = SystemActor("system:cli")
EXPORT_ACTIONS = {
    ExportKind.ELSO: "export.registry",
    ExportKind.ECLS_CDM: "export.registry",
    ExportKind.RESEARCH: "export.research",
}


@transaction.atomic
def request_export(
    *, actor: Any, program: Program, kind: str, fmt: str = "", run_ids: list[int] | None = None
) -> ExportJob:
    """Queue an export of ``program``'s runs (all, or ``run_ids``); the caller runs or starts the job."""
    if kind not in EXPORT_ACTIONS:
        raise ValidationError({"kind": f"must be one of {', '.join(EXPORT_ACTIONS)}"})
    require(actor, EXPORT_ACTIONS[ExportKind(kind)], program)
    params: dict[str, Any] = {}
    if kind == ExportKind.ELSO:
        fmt = fmt or "json"
        if fmt not in ("json", "csv"):
            raise ValidationError({"format": "must be json or csv"})
        params["format"] = fmt
    if run_ids:
        found = set(EcmoRun.objects.filter(program=program, pk__in=run_ids).values_list("pk", flat=True))
        unknown = sorted(set(run_ids) - found)
        if unknown:
            raise ValidationError({"run_ids": f"no such run in this program: {', '.join(map(str, unknown))}"})
        params["run_ids"] = sorted(found)
    job = ExportJob.objects.create(
        kind=kind,
        params=params,
        program=program,
        requested_by=user_of(actor),
        requested_by_name=actor_name(actor),
        created_at=timezone.now(),
    )
    audit(actor, "export.requested", job, after=snapshot(job))
    return job


@transaction.atomic
def record_submission(*, actor: Any, job: ExportJob, note: str = "") -> list[RegistrySubmission]:
    """Log that the runs of a finished ELSO export were sent to the registry (what, when, by whom)."""
    require(actor, "export.registry", job.program)
    if job.kind != ExportKind.ELSO:
        raise ValidationError({"job": "only an ELSO registry export can be submitted to the registry"})
    if job.status != ExportJob.Status.DONE:
        raise ValidationError({"job": "the export has not finished"})
    if job.submissions.exists():
        raise ValidationError({"job": "this export file has already been recorded as submitted"})
    if len(note) > 300:
        raise ValidationError({"note": "at most 300 characters"})
    from ecmo_web.registry.jobs import job_runs

    now = timezone.now()
    made = [
        RegistrySubmission(
            run=run,
            job=job,
            submitted_at=now,
            submitted_by=user_of(actor),
            submitted_by_name=actor_name(actor),
            file_sha256=job.result_sha256,
            note=note,
        )
        for run in job_runs(job).order_by("pk")
    ]
    RegistrySubmission.objects.bulk_create(made)
    audit(
        actor,
        "registry.submitted",
        job,
        after={"runs": [s.run_id for s in made], "sha256": job.result_sha256, "note": note},
    )
    return made


@transaction.atomic
def create_study(
    *,
    actor: Any,
    program: Program,
    title: str,
    kind: str,
    protocol_ref: str = "",
    ethics_ref: str = "",
    ethics_approved_on: dt.date | None = None,
    registration: str = "",
    status: str = Study.Status.PLANNED,
) -> Study:
    require(actor, "study.manage", program)
    if not title.strip():
        raise ValidationError({"title": "a study needs a title"})
    if kind not in Study.Kind.values:
        raise ValidationError({"kind": f"must be one of {', '.join(Study.Kind.values)}"})
    if status not in Study.Status.values:
        raise ValidationError({"status": f"must be one of {', '.join(Study.Status.values)}"})
    if status == Study.Status.ACTIVE and not ethics_ref.strip():
        raise ValidationError({"ethics_ref": "a study cannot enrol before its ethics approval is recorded"})
    study = Study.objects.create(
        program=program,
        title=title.strip(),
        kind=kind,
        status=status,
        protocol_ref=protocol_ref,
        ethics_ref=ethics_ref,
        ethics_approved_on=ethics_approved_on,
        registration=registration,
        created_by=user_of(actor),
        created_at=timezone.now(),
    )
    audit(actor, "study.created", study, after=snapshot(study))
    return study


@transaction.atomic
def enrol_run(*, actor: Any, study: Study, run: EcmoRun) -> Enrolment:
    require(actor, "study.manage", study)
    if run.program_id != study.program_id:
        raise ValidationError({"run": "the run belongs to another program"})
    if not study.ethics_ref:
        raise ValidationError({"run": "record the ethics approval before enrolling runs"})
    if study.status == Study.Status.CLOSED:
        raise ValidationError({"run": "the study is closed"})
    if Enrolment.objects.filter(study=study, run=run).exists():
        raise ValidationError({"run": "this run is already enrolled"})
    enrolment = Enrolment.objects.create(
        study=study, run=run, enrolled_at=timezone.now(), enrolled_by=user_of(actor)
    )
    audit(
        actor,
        "study.enrolled",
        enrolment,
        after=snapshot(enrolment),
    )
    return enrolment


@transaction.atomic
def add_contributor(
    *,
    actor: Any,
    study: Study,
    name: str,
    discipline: str,
    credit_role: str,
    user: Any = None,
    note: str = "",
) -> Contributor:
    require(actor, "study.manage", study)
    if not name.strip():
        raise ValidationError({"name": "a contributor needs a name"})
    if not discipline.strip():
        raise ValidationError({"discipline": "name the discipline, e.g. perfusion"})
    if credit_role not in CreditRole.values:
        raise ValidationError({"credit_role": f"must be a CRediT role: {', '.join(CreditRole.values)}"})
    if Contributor.objects.filter(study=study, name=name.strip(), credit_role=credit_role).exists():
        raise ValidationError({"credit_role": "this person already holds this role on the study"})
    contributor = Contributor.objects.create(
        study=study,
        user=user,
        name=name.strip(),
        discipline=discipline.strip().lower(),
        credit_role=credit_role,
        note=note,
    )
    audit(
        actor,
        "study.contributor_added",
        contributor,
        after=snapshot(contributor),
    )
    return contributor


@transaction.atomic
def add_output(
    *,
    actor: Any,
    study: Study,
    kind: str,
    title: str,
    authors: list[str],
    reference: str = "",
    published_on: dt.date | None = None,
) -> StudyOutput:
    require(actor, "study.manage", study)
    if kind not in StudyOutput.Kind.values:
        raise ValidationError({"kind": f"must be one of {', '.join(StudyOutput.Kind.values)}"})
    if not title.strip():
        raise ValidationError({"title": "an output needs a title"})
    names = [a.strip() for a in authors if a.strip()]
    if not names:
        raise ValidationError({"authors": "list the authors in order"})
    output = StudyOutput.objects.create(
        study=study,
        kind=kind,
        title=title.strip(),
        reference=reference,
        published_on=published_on,
        authors=names,
    )
    audit(actor, "study.output_added", output, after=snapshot(output))
    return output
