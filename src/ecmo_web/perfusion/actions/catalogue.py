"""Catalogue import: a CSV of items, all or nothing, each change in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from ecmo_web import kernel
from ecmo_web.audit.chain import snapshot
from ecmo_web.perfusion.catalogue import rows_to_items
from ecmo_web.permissions import programs_for


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _may_manage(actor: Any) -> None:
    """The catalogue is shared by every program: anyone holding catalogue.manage in a program maintains it.
    A SystemActor (the demo seed, a command run by the operator) may too."""
    if not kernel.is_system(actor) and not programs_for(actor, "catalogue.manage"):
        raise PermissionDenied("catalogue.manage is not permitted here")


@transaction.atomic
def import_catalogue(*, actor: Any, text: str, reason: str = "") -> ImportResult:
    """Add or update catalogue items from CSV text (format in ``perfusion.catalogue``). A file with any error
    raises ValidationError({"csv": ["row N, column: message", …]}) and changes nothing."""
    _may_manage(actor)
    items = rows_to_items(text)
    created = updated = 0
    for item in items:
        is_new = item.pk is None
        before = None if is_new else snapshot(type(item).objects.get(pk=item.pk))
        item.save()
        kernel.audit(
            actor,
            "catalogue.item_added" if is_new else "catalogue.item_updated",
            obj=item,
            before=before,
            after=snapshot(item),
            reason=reason or "catalogue CSV import",
        )
        created += is_new
        updated += not is_new
    return ImportResult(created=created, updated=updated)
