"""What a decided circuit selection writes: the chosen parts become the run's components and cannulas,
through the runs actions (each with its own audit event)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import CatalogueItem, ComponentKind

COMPONENTS = (
    ("oxygenator", ComponentKind.OXYGENATOR),
    ("pump", ComponentKind.PUMP_HEAD),
    ("tubing_pack", ComponentKind.TUBING_PACK),
    ("console", ComponentKind.CONSOLE),
)


def _describe(item: CatalogueItem) -> str:
    return f"{item.maker} {item.model}"[:120]


def apply_selection(*, actor: Any, decision: Any, data: dict[str, Any]) -> None:
    run, when = decision.run, decision.decided_at
    reason = f"circuit selection decision {decision.pk}: {decision.title}"[:300]
    for name, kind in COMPONENTS:
        item = data.get(name)
        if item is None:
            continue
        in_place = run_actions.current_circuit(run)
        same = in_place.components.filter(kind=kind, removed_at__isnull=True).first() if in_place else None
        if same is not None and same.catalogue_item_id == item.pk:
            continue  # already on the circuit
        run_actions.install_component(
            actor=actor,
            run=run,
            kind=kind,
            maker="",
            model="",
            catalogue_item=item,
            installed_at=when,
            reason_replaced=reason,
        )
    cannulas = [
        ("dual_lumen", data.get("dual_lumen_cannula"), "drainage_site"),
        ("drainage", data.get("drainage_cannula"), "drainage_site"),
        ("return", data.get("return_cannula"), "return_site"),
    ]
    for purpose, item, site_field in cannulas:
        if item is None:
            continue
        site = data.get(site_field)
        if not site:  # the form fills in a default site for every cannula it keeps; never store a blank one
            raise ValidationError({f"content.{site_field}": "choose where this cannula goes in"})
        run_actions.add_cannula(
            actor=actor,
            run=run,
            purpose=purpose,
            site=str(site),
            size_fr=int(item.size_fr),
            length_cm=item.length_cm,
            maker_model=_describe(item),
            inserted_at=when,
        )
