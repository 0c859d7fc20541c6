"""M&M cases: opening a case on a run (and an event), the committee's discussion, each discipline's input,
contributing factors, and actions with an owner and a due date that stay open until someone closes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_web import kernel, timezones
from ecmo_web.accounts.models import Role
from ecmo_web.audit.chain import snapshot
from ecmo_web.permissions import can
from ecmo_web.quality.models import (
    AdverseEvent,
    ContributingFactor,
    FactorKind,
    MmAction,
    MmCase,
    MmContribution,
)
from ecmo_web.runs.models import EcmoRun

# Each role speaks for its discipline in the case (a perfusionist's input is the perfusion input).
DISCIPLINE_OF_ROLE: dict[str, str] = {
    Role.PERFUSIONIST: "perfusion",
    Role.ECMO_SPECIALIST: "perfusion",
    Role.INTENSIVIST: "medical",
    Role.DIRECTOR: "medical",
    Role.CARDIOLOGIST: "cardiology",
    Role.SURGEON: "surgery",
    Role.BEDSIDE_NURSE: "nursing",
    Role.PHARMACIST: "pharmacy",
    Role.PHYSIOTHERAPIST: "physiotherapy",
    Role.QUALITY: "quality",
}
DISCIPLINE_LABELS: dict[str, str] = {
    "perfusion": "Perfusion",
    "medical": "Medical",
    "cardiology": "Cardiology",
    "surgery": "Surgery",
    "nursing": "Nursing",
    "pharmacy": "Pharmacy",
    "physiotherapy": "Physiotherapy",
    "quality": "Quality and safety",
}


@transaction.atomic
def open_case(
    *,
    actor: Any,
    run: EcmoRun,
    title: str,
    event: AdverseEvent | None = None,
    meeting_on: dt.date | None = None,
    summary: str = "",
    now: dt.datetime | None = None,
) -> MmCase:
    kernel.require(actor, "mm.manage", run)
    if event is not None and event.run_id != run.pk:
        raise ValidationError({"event": "that adverse event is not on this run"})
    if not title.strip():
        raise ValidationError({"title": "give the case a title"})
    if len(title.strip()) > 200:
        raise ValidationError({"title": "at most 200 characters"})
    case = MmCase.objects.create(
        run=run,
        event=event,
        title=title.strip(),
        meeting_on=meeting_on,
        summary=summary.strip(),
        created_by=kernel.user_of(actor),
        created_at=now or timezone.now(),
    )
    kernel.audit(actor, "mm_case.opened", case, after=snapshot(case))
    return case


@transaction.atomic
def update_case(
    *,
    actor: Any,
    case: MmCase,
    discussion: str | None = None,
    summary: str | None = None,
    meeting_on: dt.date | None = None,
    status: str | None = None,
    version: kernel.Submitted = None,
) -> MmCase:
    """Write the discussion or summary, set the meeting date, or close/reopen the case (a case closes only when
    every action is closed). ``version``: the case's version the editor read (stale: kernel.VersionConflict)."""
    kernel.require(actor, "mm.manage", case)
    kernel.lock(case)
    kernel.expect_version(case, version)
    before = snapshot(case)
    fields: list[str] = []
    if discussion is not None:
        case.discussion = discussion.strip()
        fields.append("discussion")
    if summary is not None:
        case.summary = summary.strip()
        fields.append("summary")
    if meeting_on is not None:
        case.meeting_on = meeting_on
        fields.append("meeting_on")
    if status is not None:
        if status not in MmCase.Status.values:
            raise ValidationError({"status": "open or closed"})
        if status == MmCase.Status.CLOSED and case.actions.filter(closed_at__isnull=True).exists():
            raise ValidationError({"status": "close every action before closing the case"})
        case.status = status
        fields.append("status")
    if not fields:
        return case
    case.save(update_fields=fields)
    kernel.audit(actor, "mm_case.updated", case, before=before, after=snapshot(case))
    return case


@transaction.atomic
def add_contribution(
    *, actor: Any, case: MmCase, text: str, now: dt.datetime | None = None
) -> MmContribution:
    """A member's input to the case, filed under their role's discipline."""
    kernel.require(actor, "mm.contribute", case)
    if not text.strip():
        raise ValidationError({"text": "write your input"})
    role = kernel.member_role(case.run.program_id, actor) or ""
    row = MmContribution.objects.create(
        case=case,
        discipline=DISCIPLINE_OF_ROLE.get(role, "medical"),
        text=text.strip(),
        author=kernel.user_of(actor),
        author_role=role,
        written_at=now or timezone.now(),
    )
    kernel.audit(actor, "mm_case.input_added", row, after=snapshot(row))
    return row


@transaction.atomic
def add_factor(*, actor: Any, case: MmCase, kind: str, text: str) -> ContributingFactor:
    kernel.require(actor, "mm.manage", case)
    if kind not in FactorKind.values:
        raise ValidationError({"kind": f"use one of {', '.join(FactorKind.values)}"})
    if not text.strip():
        raise ValidationError({"text": "describe the factor"})
    if len(text.strip()) > 500:
        raise ValidationError({"text": "at most 500 characters"})
    factor = ContributingFactor.objects.create(case=case, kind=kind, text=text.strip())
    kernel.audit(actor, "mm_case.factor_added", factor, after=snapshot(factor))
    return factor


@transaction.atomic
def add_action(*, actor: Any, case: MmCase, text: str, owner: Any, due_on: dt.date) -> MmAction:
    kernel.require(actor, "mm.manage", case)
    if not text.strip():
        raise ValidationError({"text": "say what is to be done"})
    if len(text.strip()) > 500:
        raise ValidationError({"text": "at most 500 characters"})
    if not isinstance(due_on, dt.date):
        raise ValidationError({"due_on": "give a due date"})
    member = kernel.member(case.run.program_id, owner, field="owner")
    action = MmAction.objects.create(case=case, text=text.strip(), owner=member, due_on=due_on)
    kernel.audit(actor, "mm_case.action_added", action, after=snapshot(action))
    return action


@transaction.atomic
def close_action(*, actor: Any, action: MmAction, note: str, now: dt.datetime | None = None) -> MmAction:
    """Close an action with a note of what was done: its owner or anyone who manages M&M."""
    is_owner = getattr(actor, "pk", None) == action.owner_id and can(actor, "run.view", action)
    if not is_owner:
        kernel.require(actor, "mm.manage", action)
    kernel.lock(action)  # two people closing at once: the second reads the first's close and is refused
    if action.closed_at is not None:
        by = action.closed_by
        who = (by.get_full_name() or by.get_username()) if by is not None else "someone"
        when = timezones.to_local(action.closed_at, action.case.run.program)
        raise ValidationError(
            {
                "note": f"this action is already closed, by {who} at {when:%Y-%m-%d %H:%M}: {action.closing_note}"
            }
        )
    if not note.strip():
        raise ValidationError({"note": "say what was done"})
    before = snapshot(action)
    action.closed_at = now or timezone.now()
    action.closed_by = kernel.user_of(actor)
    action.closing_note = note.strip()[:500]
    action.save(update_fields=["closed_at", "closed_by", "closing_note"])
    kernel.audit(actor, "mm_case.action_closed", action, before=before, after=snapshot(action))
    return action
