"""Pathway checklists: ticking items and completing the checklist."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_core import pathways
from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions.actions.common import _save, _when
from ecmo_web.decisions.models import (
    ChecklistItem,
    Decision,
    Kind,
    Status,
)
from ecmo_web.kernel import audit, expect_version, lock, member_role, require, user_of
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import Outcome


@transaction.atomic
def mark_checklist_item(
    *,
    actor: Any,
    item: ChecklistItem,
    status: str,
    waiver_reason: str = "",
    note: str = "",
    done_at: dt.datetime | None = None,
) -> ChecklistItem:
    """Mark an item done, or waived with a reason. A marked item is not changed again (the record stays as
    written); a completed checklist is closed."""
    require(actor, "pathway.record", item)
    decision = item.decision
    if decision.completed_at is not None:
        raise ValidationError({"status": "the checklist is already complete"})
    if item.status != ChecklistItem.ItemStatus.PENDING:
        raise ValidationError({"status": f"“{item.label}” is already {item.get_status_display().lower()}"})
    if status not in (ChecklistItem.ItemStatus.DONE, ChecklistItem.ItemStatus.WAIVED):
        raise ValidationError({"status": "mark the item done or waived"})
    if status == ChecklistItem.ItemStatus.WAIVED and not waiver_reason.strip():
        raise ValidationError({"waiver_reason": "a waived item needs its reason"})
    now = timezone.now()
    before = snapshot(item)
    item.status, item.waiver_reason, item.note = status, waiver_reason.strip(), note.strip()
    item.done_at = _when(decision.run, "done_at", done_at) if done_at is not None else now
    item.recorded_by, item.recorded_at = user_of(actor), now
    item.recorded_by_role = member_role(decision.run.program_id, actor) or ""
    _save(item)
    audit(
        actor=actor,
        action="decision.checklist_item_marked",
        obj=item,
        before=before,
        after=snapshot(item),
        reason=item.waiver_reason,
    )
    return item


def checklist_status(decision: Decision) -> pathways.ChecklistStatus:
    items = list(decision.checklist_items.all())
    specs = [pathways.ChecklistItemSpec(i.key, i.label, i.group, i.source) for i in items]
    states = {i.key: pathways.ItemState(i.status, i.waiver_reason) for i in items}
    return pathways.checklist_status(specs, states)


@transaction.atomic
def complete_checklist(
    *,
    actor: Any,
    decision: Decision,
    completed_at: dt.datetime,
    end_run: bool = False,
    outcome: str = Outcome.WEANED,
    version: int | None = None,
) -> Decision:
    """Complete a decannulation or transport checklist. Refused until the decision is decided and every item is
    done or waived with a reason. For decannulation, ``end_run`` also ends the run (run.end_run)."""
    require(actor, "pathway.record", decision)
    lock(decision)
    expect_version(decision, version)
    if decision.kind not in (Kind.DECANNULATION, Kind.TRANSPORT):
        raise ValidationError({"kind": "only decannulation and transport decisions have a checklist"})
    if decision.status != Status.DECIDED:
        raise ValidationError({"checklist": "the decision must be decided before its checklist is completed"})
    if decision.completed_at is not None:
        raise ValidationError({"checklist": "the checklist is already complete"})
    status = checklist_status(decision)
    if not status.complete:
        labels = dict(decision.checklist_items.values_list("key", "label"))
        missing = "; ".join(f"{labels[k]} ({why})" for k, why in status.problems.items())
        raise ValidationError({"checklist": f"{len(status.problems)} item(s) outstanding: {missing}"})
    completed_at = _when(decision.run, "completed_at", completed_at)
    before = snapshot(decision)
    decision.completed_at, decision.completed_by, decision.outcome = (
        completed_at,
        user_of(actor),
        "completed",
    )
    decision.save(update_fields=["completed_at", "completed_by", "outcome"])
    audit(
        actor=actor,
        action="decision.checklist_completed",
        obj=decision,
        before=before,
        after={**snapshot(decision), "checklist": status.as_dict()},
    )
    if end_run and decision.kind == Kind.DECANNULATION and decision.run.ended_at is None:
        run_actions.end_run(
            actor=actor,
            run=decision.run,
            ended_at=completed_at,
            outcome=outcome,
            reason=f"decannulated: decision {decision.pk}",
        )
    return decision
