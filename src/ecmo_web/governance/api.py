"""Governance API (read-only):

- ``GET /api/v1/policies?program_id=&on=YYYY-MM-DD`` — each policy of the caller's programs with the version in
  force on ``on`` (default: today in the program's zone), the versions awaiting sign-off and the roles missing;
- ``GET /api/v1/policy-reviews?program_id=&within_days=30`` — policies whose version in force is due for review;
- ``GET /api/v1/qi-measures/{measure_id}/run-chart`` — a measure's points, median, signals and flagged points.

Readers need ``run.view`` in the program (auditors read; researchers do not).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router

from ecmo_web.accounts.models import Program
from ecmo_web.governance import views
from ecmo_web.governance.actions import policies
from ecmo_web.governance.actions._common import local_today
from ecmo_web.governance.models import Policy, QiMeasure
from ecmo_web.permissions import programs_for
from ecmo_web.shortcuts import get_checked

router = Router(tags=["governance"])


def _programs(request: HttpRequest, program_id: int | None) -> list[Program]:
    ids = programs_for(request.user, "run.view")
    if program_id is not None:
        if program_id not in ids:
            raise Http404("not found")
        ids = [program_id]
    elif not ids:
        raise PermissionDenied("your role does not see governance")
    return list(Program.objects.filter(pk__in=ids).order_by("name"))


def _version(v: Any) -> dict[str, Any]:
    return {
        "number": v.number,
        "summary": v.summary,
        "effective_on": v.effective_on,
        "review_on": v.review_on,
        "required_roles": list(v.required_roles),
        "missing_roles": policies.missing_roles(v),
        "in_force_from": policies.in_force_from(v),
    }


@router.get("/policies", response=list[dict[str, Any]])
def policy_list(
    request: HttpRequest, program_id: int | None = None, on: str | None = None
) -> list[dict[str, Any]]:
    """The library with the version in force on ``on`` for each policy."""
    day: dt.date | None = None
    if on:
        try:
            day = dt.date.fromisoformat(on)
        except ValueError:
            raise ValidationError({"on": f"{on!r} is not a date: use YYYY-MM-DD"}) from None
    out = []
    for program in _programs(request, program_id):
        when = day or local_today(program, timezone.now())
        for p in (
            Policy.objects.filter(program=program)
            .select_related("program")
            .prefetch_related("versions__signoffs")
        ):
            current = policies.version_in_force(p, when)
            out.append(
                {
                    "policy_id": p.pk,
                    "program_id": program.pk,
                    "title": p.title,
                    "topic": p.topic,
                    "on": when,
                    "in_force": _version(current) if current else None,
                    "awaiting_sign_off": [_version(v) for v in p.versions.all() if v.fully_signed_at is None],
                }
            )
    return out


@router.get("/policy-reviews", response=list[dict[str, Any]])
def policy_reviews(
    request: HttpRequest, program_id: int | None = None, within_days: int = 30
) -> list[dict[str, Any]]:
    """Policies whose version in force is due for review within ``within_days`` (0–365), overdue first."""
    if not 0 <= within_days <= 365:
        raise ValidationError({"within_days": "between 0 and 365 days"})
    now = timezone.now()
    return [
        {
            "policy_id": d.policy.pk,
            "program_id": program.pk,
            "title": d.policy.title,
            "version": d.version.number,
            "review_on": d.review_on,
            "days_left": d.days_left,
        }
        for program in _programs(request, program_id)
        for d in policies.due_reviews(program, now, within_days)
    ]


@router.get("/qi-measures/{measure_id}/run-chart", response=dict[str, Any])
def run_chart(request: HttpRequest, measure_id: int) -> dict[str, Any]:
    """A measure's run chart: ``dates``, ``values``, ``median``, ``flagged`` (indices) and ``signals``."""
    measure = get_checked(
        QiMeasure.objects.select_related("project__program"), request.user, "run.view", pk=measure_id
    )
    return {"measure_id": measure.pk, "kpi_key": measure.kpi_key, **views.chart_data(measure)}
