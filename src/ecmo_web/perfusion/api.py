"""Perfusion API (core-api §6): ``GET /api/v1/catalogue[?kind=]`` — the site catalogue (cannulas with
``size_fr`` and pressure–flow points); ``GET /api/v1/programs/{program_id}/standby-circuits``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router

from ecmo_core import profile as core_profile
from ecmo_web.accounts.models import Membership, Program
from ecmo_web.perfusion import catalogue, profile
from ecmo_web.perfusion.models import StandbyCircuit
from ecmo_web.permissions import programs_for
from ecmo_web.runs.models import CatalogueItem, CatalogueKind
from ecmo_web.shortcuts import get_checked
from ecmo_web.timezones import program_tz

router = Router(tags=["perfusion"])


@router.get("/catalogue", response=list[dict[str, Any]])
def catalogue_list(
    request: HttpRequest, kind: str | None = None, active: bool | None = None
) -> list[dict[str, Any]]:
    """Every catalogue item (or those of ``kind``: oxygenator, pump_head, tubing_pack, console, heater, other,
    cannula). The catalogue holds no patient data and is shared by every program: any member may read it."""
    if not programs_for(request.user, "calculator.use") and not programs_for(request.user, "run.view"):
        raise PermissionDenied("your role does not see the catalogue")
    items = CatalogueItem.objects.all()
    if kind is not None:
        if kind not in CatalogueKind.values:
            raise ValidationError({"kind": f"must be one of {', '.join(CatalogueKind.values)}"})
        items = items.filter(kind=kind)
    if active is not None:
        items = items.filter(active=active)
    return [catalogue.as_json(i) for i in items.order_by("kind", "size_fr", "maker", "model")]


@router.get("/programs/{program_id}/standby-circuits", response=list[dict[str, Any]])
def standby_list(request: HttpRequest, program_id: int) -> list[dict[str, Any]]:
    """The program's primed circuits (newest expiry last), with status, expiry and checklist."""
    program = get_checked(Program.objects.all(), request.user, "run.view", pk=program_id)
    return [
        {
            "id": c.pk,
            "label": c.label,
            "status": c.status,
            "oxygenator_id": c.oxygenator_id,
            "pump_id": c.pump_id,
            "tubing_pack_id": c.tubing_pack_id,
            "prime_type": c.prime_type,
            "prime_volume_ml": c.prime_volume_ml,
            "heparin_iu": c.heparin_iu,
            "primed_at": c.primed_at,
            "expires_at": c.expires_at,
            "checklist": c.checklist,
            "used_on_run_id": c.used_on_run_id,
        }
        for c in StandbyCircuit.objects.filter(program=program)
    ]


def _period(program: Program, start: str | None, end: str | None) -> tuple[dt.datetime, dt.datetime]:
    """``start``/``end`` as ISO dates (midnight in the program's time zone) or aware datetimes; by default the
    90 days to now. The period is [start, end)."""
    tz = program_tz(program)

    def parse(name: str, value: str) -> dt.datetime:
        try:
            if len(value) == 10:
                return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=tz)
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                {name: f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time"}
            ) from None
        if parsed.tzinfo is None:
            raise ValidationError({name: "a time needs its offset (e.g. 2026-11-20T08:00:00+00:00)"})
        return parsed

    end_at = parse("end", end) if end else timezone.now()
    start_at = parse("start", start) if start else end_at - dt.timedelta(days=90)
    if end_at <= start_at:
        raise ValidationError({"end": "must be after start"})
    return start_at, end_at


def _profile_program(request: HttpRequest, program_id: int | None) -> Program:
    if program_id is not None:
        return get_checked(Program.objects.all(), request.user, "run.view", pk=program_id)
    ids = programs_for(request.user, "run.view")
    if len(ids) != 1:
        raise ValidationError({"program_id": "say which program (you are a member of several, or of none)"})
    return Program.objects.get(pk=ids[0])


@router.get("/role-profile", response=list[dict[str, Any]])
def role_profile(
    request: HttpRequest,
    start: str | None = None,
    end: str | None = None,
    user_id: int | None = None,
    program_id: int | None = None,
) -> list[dict[str, Any]]:
    """What perfusion did in each area over [start, end): ``{"area", "scope": "technical" | "expanded", "count",
    "links"}``, counted from the records (decisions, checks, alerts, rounds …); ``user_id`` for one person."""
    program = _profile_program(request, program_id)
    start_at, end_at = _period(program, start, end)
    if user_id is not None and not Membership.objects.filter(program=program, user_id=user_id).exists():
        raise Http404("no such member of this program")
    found = profile.records(program, start=start_at, end=end_at, user_id=user_id)
    return [
        {"area": c.area, "label": c.label, "scope": c.scope, "count": c.count, "links": list(c.links)}
        for c in core_profile.summarise(found, start=start_at, end=end_at)
    ]
