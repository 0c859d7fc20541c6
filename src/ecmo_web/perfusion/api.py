"""Perfusion API (core-api §6): ``GET /api/v1/catalogue[?kind=]`` — the site catalogue (cannulas with
``size_fr`` and pressure–flow points); ``GET /api/v1/programs/{program_id}/standby-circuits``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Router

from ecmo_web.accounts.models import Program
from ecmo_web.perfusion import catalogue
from ecmo_web.perfusion.models import StandbyCircuit
from ecmo_web.permissions import programs_for
from ecmo_web.runs.models import CatalogueItem, CatalogueKind
from ecmo_web.shortcuts import get_checked

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
