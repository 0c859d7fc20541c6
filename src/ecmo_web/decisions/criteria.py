"""A program's pathway criteria: the ecmo_core defaults with the program's latest settings applied."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecmo_core import pathways
from ecmo_web.accounts.models import Program
from ecmo_web.decisions.models import PathwayCriteria

DEFAULTS: dict[str, pathways.CriteriaSet] = {
    "vv_sweep_off": pathways.VVSweepOffCriteria(),
    "va_flow_reduction": pathways.VAFlowReductionCriteria(),
    "vv_entry": pathways.VVEntryCriteria(),
    "ecpr": pathways.EcprCriteria(),
    "ambulation": pathways.AmbulationCriteria(),
    "lv_distension": pathways.LvDistensionCriteria(),
    "differential_hypoxia": pathways.DifferentialHypoxiaCriteria(),
}


def setting_for(program: Program | int, name: str, at: dt.datetime | None = None) -> PathwayCriteria | None:
    qs = PathwayCriteria.objects.filter(program=program, criteria_set=name)
    if at is not None:
        qs = qs.filter(effective_from__lte=at)
    return qs.order_by("-effective_from", "-id").first()


def criteria_for(program: Program | int, name: str, at: dt.datetime | None = None) -> Any:
    """The criteria set ``name`` as the program has it (at ``at``, or now)."""
    setting = setting_for(program, name, at)
    default = DEFAULTS[name]
    return pathways.with_overrides(default, setting.overrides) if setting is not None else default
