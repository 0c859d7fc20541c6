"""Governance pages: the overview (QI projects, policy library with reviews due, education), a QI project with
its run charts and PDSA cycles, a policy with its versions and sign-offs, education (sessions, competencies,
awards), shifts and who on a shift is current for what; and the decision → policy link.

Reading needs ``run.view`` (auditors read; researchers, who see no identified cases, do not). Writes go through
``governance.actions``; a refused form re-renders its page with the errors beside the fields (status 400).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ecmo_core.runchart import analyse
from ecmo_web.accounts.models import Program, Role
from ecmo_web.decisions.models import Decision
from ecmo_web.forms import submit
from ecmo_web.governance import currency, kpis
from ecmo_web.governance.actions import education, policies, qi
from ecmo_web.governance.actions._common import local_today, member_role
from ecmo_web.governance.forms import (
    AwardForm,
    CompetencyForm,
    ConcludeForm,
    CycleForm,
    LinkForm,
    MeasureForm,
    PointForm,
    PolicyForm,
    ProjectForm,
    SessionForm,
    ShiftForm,
    SignoffForm,
    VersionForm,
)
from ecmo_web.governance.models import (
    Competency,
    EducationSession,
    PdsaCycle,
    Policy,
    PolicyVersion,
    QiMeasure,
    QiProject,
    ReviewReminder,
    Shift,
)
from ecmo_web.permissions import can
from ecmo_web.shortcuts import get_checked

REVIEW_WINDOW_DAYS = 30


@dataclass(frozen=True)
class _Point:
    period_start: dt.date
    value: float


# the overview lists reviews due within this many days (?within= changes it)


def _program(request: HttpRequest, program_id: int, action: str = "run.view") -> Program:
    return get_checked(Program.objects.all(), request.user, action, pk=program_id)


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


# ----------------------------------------------------------------------------------------------------- overview
@login_required
def home(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id)
    now = timezone.now()
    try:
        within = max(0, min(365, int(request.GET.get("within", REVIEW_WINDOW_DAYS))))
    except ValueError:
        within = REVIEW_WINDOW_DAYS
    today = local_today(program, now)
    library = []
    for p in Policy.objects.filter(program=program).select_related("program").prefetch_related("versions"):
        current = policies.version_in_force(p, today)
        pending = [v for v in p.versions.all() if v.fully_signed_at is None]
        library.append({"policy": p, "current": current, "pending": pending})
    return render(
        request,
        "governance/home.html",
        {
            "program": program,
            "today": today,
            "within": within,
            "due": policies.due_reviews(program, now, within),
            "reminded": {
                r.version_id: r
                for r in ReviewReminder.objects.filter(version__policy__program=program).order_by(
                    "created_at"
                )
            },
            "projects": QiProject.objects.filter(program=program).prefetch_related("measures", "cycles"),
            "library": library,
            "sessions": EducationSession.objects.filter(program=program).prefetch_related("attendance")[:5],
            "shifts": Shift.objects.filter(program=program)[:5],
            "can_manage": can(request.user, "governance.manage", program),
            "can_educate": can(request.user, "education.record", program),
        },
    )


# ----------------------------------------------------------------------------------------------------------- QI
@login_required
def project_new(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "governance.manage")
    form = ProjectForm(request.POST or None, program=program)
    if request.method == "POST":
        done = submit(
            form,
            lambda d: qi.create_project(
                actor=request.user,
                program=program,
                title=d["title"],
                aim=d["aim"],
                started_on=d["started_on"],
                lead=_int(d["lead"]),
            ),
        )
        if done:
            return redirect("qi_project", project_id=done.value.pk)
    return render(
        request,
        "governance/form.html",
        {"program": program, "form": form, "title": "New QI project", "submit": "Create the project"},
        status=400 if form.is_bound else 200,
    )


def chart_data(measure: QiMeasure, now: dt.datetime | None = None) -> dict[str, Any]:
    """The measure's points (entered, or computed week by week from its KPI), the median, the signals and the
    flagged points, as the run chart draws them."""
    if measure.computed:
        points = [_Point(day, value) for day, value in kpis.weekly(measure, now or timezone.now())]
    else:
        points = [_Point(p.period_start, p.value) for p in measure.points.all()]
    data: dict[str, Any] = {
        "name": measure.name,
        "unit": measure.unit,
        "computed": measure.computed,
        "dates": [p.period_start.isoformat() for p in points],
        "values": [p.value for p in points],
        "median": None,
        "flagged": [],
        "signals": [],
    }
    if points:
        baseline = min(measure.baseline_points, len(points)) if measure.baseline_points else None
        chart = analyse([p.value for p in points], baseline_points=baseline)
        data["median"] = chart.median
        data["baseline_points"] = chart.baseline_points
        data["flagged"] = sorted(chart.flagged)
        data["signals"] = [
            {
                "rule": s.rule,
                "direction": s.direction,
                "length": s.length,
                "from": points[s.start].period_start.isoformat(),
                "to": points[s.end].period_start.isoformat(),
            }
            for s in chart.signals
        ]
    return data


def _project_context(request: HttpRequest, project: QiProject, **forms: Any) -> dict[str, Any]:
    program = project.program
    measures = []
    for m in project.measures.prefetch_related("points"):
        chart = chart_data(m)
        measures.append(
            {
                "measure": m,
                "kpi_label": kpis.label(m.kpi_key) if m.kpi_key else "",
                "chart": chart,
                "rows": list(zip(chart["dates"], chart["values"], strict=True)),
                "chart_id": f"runchart-{m.pk}",
                "form": forms.get(f"point_form_{m.pk}") or PointForm(program=program, prefix=f"m{m.pk}"),
            }
        )
    return {
        "program": program,
        "project": project,
        "measures": measures,
        "cycles": [
            {
                "cycle": c,
                "form": forms.get(f"conclude_form_{c.pk}")
                or ConcludeForm(program=program, prefix=f"pdsa{c.pk}", initial={"version": c.version}),
            }
            for c in project.cycles.all()
        ],
        "can_manage": can(request.user, "governance.manage", project),
        "can_record": can(request.user, "qi.record", project),
        "measure_form": forms.get("measure_form") or MeasureForm(program=program, prefix="measure"),
        "cycle_form": forms.get("cycle_form") or CycleForm(program=program, prefix="cycle"),
    }


def _project(request: HttpRequest, project_id: int, action: str = "run.view") -> QiProject:
    return get_checked(
        QiProject.objects.select_related("program", "lead"), request.user, action, pk=project_id
    )


@login_required
def project_page(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id)
    return render(request, "governance/project.html", _project_context(request, project))


def _project_error(request: HttpRequest, project: QiProject, **forms: Any) -> HttpResponse:
    return render(request, "governance/project.html", _project_context(request, project, **forms), status=400)


@login_required
@require_POST
def measure_add(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id, "governance.manage")
    form = MeasureForm(request.POST, program=project.program, prefix="measure")
    if submit(
        form,
        lambda d: qi.add_measure(
            actor=request.user,
            project=project,
            name=d["name"],
            kind=d["kind"],
            kpi_key=d["kpi_key"],
            unit=d["unit"],
            higher_is_better=d["higher_is_better"],
            baseline_points=d["baseline_points"],
            computed=d["computed"],
        ),
    ):
        return redirect("qi_project", project_id=project.pk)
    return _project_error(request, project, measure_form=form)


@login_required
@require_POST
def point_add(request: HttpRequest, measure_id: int) -> HttpResponse:
    measure = get_checked(
        QiMeasure.objects.select_related("project__program"), request.user, "qi.record", pk=measure_id
    )
    form = PointForm(request.POST, program=measure.project.program, prefix=f"m{measure.pk}")
    if submit(
        form,
        lambda d: qi.record_point(
            actor=request.user,
            measure=measure,
            period_start=d["period_start"],
            value=d["value"],
            note=d["note"],
        ),
    ):
        return redirect(f"/qi/{measure.project_id}/#measure-{measure.pk}")
    return _project_error(request, measure.project, **{f"point_form_{measure.pk}": form})


@login_required
@require_POST
def cycle_add(request: HttpRequest, project_id: int) -> HttpResponse:
    project = _project(request, project_id, "qi.record")
    form = CycleForm(request.POST, program=project.program, prefix="cycle")
    if submit(
        form,
        lambda d: qi.record_cycle(
            actor=request.user,
            project=project,
            change=d["change"],
            plan=d["plan"],
            started_on=d["started_on"],
            ended_on=d["ended_on"],
            study=d["study"],
            act=d["act"],
        ),
    ):
        return redirect(f"/qi/{project.pk}/#pdsa")
    return _project_error(request, project, cycle_form=form)


@login_required
@require_POST
def cycle_conclude(request: HttpRequest, cycle_id: int) -> HttpResponse:
    cycle = get_checked(
        PdsaCycle.objects.select_related("project__program"), request.user, "qi.record", pk=cycle_id
    )
    form = ConcludeForm(request.POST, program=cycle.project.program, prefix=f"pdsa{cycle.pk}")
    if submit(
        form,
        lambda d: qi.conclude_cycle(
            actor=request.user,
            cycle=cycle,
            ended_on=d["ended_on"],
            study=d["study"],
            act=d["act"],
            version=d["version"],
        ),
    ):
        return redirect(f"/qi/{cycle.project_id}/#pdsa")
    return _project_error(request, cycle.project, **{f"conclude_form_{cycle.pk}": form})


# ----------------------------------------------------------------------------------------------------- policies
@login_required
def policy_new(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "governance.manage")
    form = PolicyForm(request.POST or None, program=program)
    if request.method == "POST":
        done = submit(
            form,
            lambda d: policies.create_policy(
                actor=request.user, program=program, title=d["title"], topic=d["topic"]
            ),
        )
        if done:
            return redirect("policy_page", policy_id=done.value.pk)
    return render(
        request,
        "governance/form.html",
        {"program": program, "form": form, "title": "New policy", "submit": "Add to the library"},
        status=400 if form.is_bound else 200,
    )


def _policy(request: HttpRequest, policy_id: int, action: str = "run.view") -> Policy:
    return get_checked(Policy.objects.select_related("program"), request.user, action, pk=policy_id)


def _policy_context(request: HttpRequest, policy: Policy, **forms: Any) -> dict[str, Any]:
    program = policy.program
    today = local_today(program, timezone.now())
    on = today
    if request.GET.get("on"):
        try:
            on = dt.date.fromisoformat(request.GET["on"])
        except ValueError:
            raise Http404("not a date (use YYYY-MM-DD)") from None
    role = member_role(program, request.user)
    may_sign = can(request.user, "policy.signoff", policy)
    versions = []
    for v in policy.versions.prefetch_related("signoffs__user", "authors", "decision_links__decision__run"):
        signed = {s.role: s for s in v.signoffs.all()}
        versions.append(
            {
                "version": v,
                "in_force_from": policies.in_force_from(v),
                "roles": [(r, Role(r).label, signed.get(r)) for r in v.required_roles],
                "can_sign": may_sign and role in v.required_roles and role not in signed,
                "links": list(v.decision_links.all()),
            }
        )
    return {
        "program": program,
        "policy": policy,
        "versions": versions,
        "today": today,
        "on": on,
        "in_force": policies.version_in_force(policy, on),
        "my_role": Role(role).label if role else "",
        "can_manage": can(request.user, "governance.manage", policy),
        "version_form": forms.get("version_form") or VersionForm(program=program, prefix="version"),
        "signoff_form": forms.get("signoff_form") or SignoffForm(program=program, prefix="signoff"),
    }


@login_required
def policy_page(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _policy(request, policy_id)
    return render(request, "governance/policy.html", _policy_context(request, policy))


@login_required
@require_POST
def version_add(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _policy(request, policy_id, "governance.manage")
    form = VersionForm(request.POST, program=policy.program, prefix="version")
    if submit(
        form,
        lambda d: policies.draft_version(
            actor=request.user,
            policy=policy,
            summary=d["summary"],
            text_body=d["text_body"],
            authors=[int(a) for a in d["authors"]],
            effective_on=d["effective_on"],
            review_on=d["review_on"],
            required_roles=d["required_roles"],
        ),
    ):
        return redirect("policy_page", policy_id=policy.pk)
    return render(
        request, "governance/policy.html", _policy_context(request, policy, version_form=form), status=400
    )


@login_required
@require_POST
def version_signoff(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_checked(
        PolicyVersion.objects.select_related("policy__program"), request.user, "policy.signoff", pk=version_id
    )
    form = SignoffForm(request.POST, program=version.policy.program, prefix="signoff")
    done = submit(
        form, lambda d: policies.sign_off(actor=request.user, version=version, comment=d["comment"])
    )
    if done:
        complete = version.fully_signed_at is not None
        messages.success(
            request,
            f"Signed off version {version.number}."
            + (
                " Every required role has signed: it is in force from its effective date." if complete else ""
            ),
        )
        return redirect("policy_page", policy_id=version.policy_id)
    return render(
        request,
        "governance/policy.html",
        _policy_context(request, version.policy, signoff_form=form),
        status=400,
    )


@login_required
@require_POST
def decision_link(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = get_checked(
        Decision.objects.select_related("run__program"), request.user, "decision.record", pk=decision_id
    )
    program = decision.run.program
    versions = list(
        PolicyVersion.objects.filter(policy__program=program, fully_signed_at__isnull=False).select_related(
            "policy"
        )
    )
    form = LinkForm(request.POST, program=program, versions=versions)

    def perform(d: dict[str, Any]) -> Any:
        version = next(v for v in versions if v.pk == int(d["version"]))
        return policies.link_decision(actor=request.user, decision=decision, version=version, note=d["note"])

    if submit(form, perform) is None:
        errors = "; ".join(f"{e}" for errs in form.errors.values() for e in errs)
        messages.error(request, f"Policy link not recorded: {errors}")
    return redirect(f"/decisions/{decision.pk}/#policies")


# ---------------------------------------------------------------------------------------------------- education
def _education_context(request: HttpRequest, program: Program, **forms: Any) -> dict[str, Any]:
    today = local_today(program, timezone.now())
    people = [m.user for m in program.memberships.filter(active=True).select_related("user").order_by("role")]
    competencies, rows = currency.grid(program, people, today)
    return {
        "program": program,
        "today": today,
        "sessions": EducationSession.objects.filter(program=program)
        .select_related("facilitator")
        .prefetch_related("attendance__user")[:30],
        "competencies": competencies,
        "rows": [r for r in rows if any(c.required for c in r.cells)],
        "can_manage": can(request.user, "governance.manage", program),
        "can_educate": can(request.user, "education.record", program),
        "session_form": forms.get("session_form")
        or SessionForm(program=program, prefix="session", now=timezone.now()),
        "competency_form": forms.get("competency_form")
        or CompetencyForm(program=program, prefix="competency"),
        "award_form": forms.get("award_form") or AwardForm(program=program, prefix="award"),
    }


@login_required
def education_page(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id)
    return render(request, "governance/education.html", _education_context(request, program))


def _education_error(request: HttpRequest, program: Program, **forms: Any) -> HttpResponse:
    return render(
        request, "governance/education.html", _education_context(request, program, **forms), status=400
    )


@login_required
@require_POST
def session_add(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "education.record")
    form = SessionForm(request.POST, program=program, prefix="session")
    if submit(
        form,
        lambda d: education.record_session(
            actor=request.user,
            program=program,
            kind=d["kind"],
            title=d["title"],
            held_at=d["held_at"],
            duration_min=d["duration_min"],
            attendees=[int(a) for a in d["attendees"]],
            facilitator=_int(d["facilitator"]),
            notes=d["notes"],
        ),
    ):
        return redirect("education_page", program_id=program.pk)
    return _education_error(request, program, session_form=form)


@login_required
@require_POST
def competency_add(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "governance.manage")
    form = CompetencyForm(request.POST, program=program, prefix="competency")
    if submit(
        form,
        lambda d: education.create_competency(
            actor=request.user,
            program=program,
            name=d["name"],
            description=d["description"],
            validity_months=d["validity_months"],
            required_for_roles=d["required_for_roles"],
        ),
    ):
        return redirect("education_page", program_id=program.pk)
    return _education_error(request, program, competency_form=form)


@login_required
@require_POST
def award_add(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id, "education.record")
    form = AwardForm(request.POST, program=program, prefix="award")

    def perform(d: dict[str, Any]) -> Any:
        found = Competency.objects.filter(program=program, pk=int(d["competency"])).first()
        if found is None:
            from django.core.exceptions import ValidationError

            raise ValidationError({"competency": "choose one of the program's competencies"})
        return education.award_competency(
            actor=request.user,
            competency=found,
            holder=int(d["holder"]),
            awarded_on=d["awarded_on"],
            note=d["note"],
        )

    if submit(form, perform):
        return redirect("education_page", program_id=program.pk)
    return _education_error(request, program, award_form=form)


# ------------------------------------------------------------------------------------------------------- shifts
@login_required
def shifts_page(request: HttpRequest, program_id: int) -> HttpResponse:
    program = _program(request, program_id)
    form = ShiftForm(request.POST or None, program=program, prefix="shift", now=timezone.now())
    if request.method == "POST":
        _program(request, program_id, "governance.manage")
        done = submit(
            form,
            lambda d: education.create_shift(
                actor=request.user,
                program=program,
                name=d["name"],
                starts_at=d["starts_at"],
                ends_at=d["ends_at"],
                members_on=[int(m) for m in d["members_on"]],
            ),
        )
        if done:
            return redirect("shift_page", shift_id=done.value.pk)
    return render(
        request,
        "governance/shifts.html",
        {
            "program": program,
            "shifts": Shift.objects.filter(program=program).prefetch_related("members")[:30],
            "form": form,
            "can_manage": can(request.user, "governance.manage", program),
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def shift_page(request: HttpRequest, shift_id: int) -> HttpResponse:
    shift = get_checked(Shift.objects.select_related("program"), request.user, "run.view", pk=shift_id)
    people = list(shift.members.order_by("last_name", "username"))
    day = currency.shift_day(shift)
    competencies, rows = currency.grid(shift.program, people, day)
    return render(
        request,
        "governance/shift.html",
        {"program": shift.program, "shift": shift, "day": day, "competencies": competencies, "rows": rows},
    )
