"""The policy library: policies, versions (authors, required sign-off by role, effective and review dates),
sign-offs, the version in force on a date, reviews due, and the link from a decision to the policy it followed.

``governance.manage`` creates policies and versions. ``policy.signoff`` lets a member sign a version off for
their own role, and only when that role's sign-off is required. A version is in force from its effective date
once every required role has signed it off (``ecmo_core.policy``: the day of the last sign-off if that is later).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from ecmo_core import policy as rule
from ecmo_web import kernel
from ecmo_web.accounts.models import Program, Role
from ecmo_web.audit.chain import snapshot
from ecmo_web.decisions.models import Decision
from ecmo_web.governance.actions._common import (
    date_value,
    local_today,
    member_role,
    members,
    roles,
    text,
    user_of,
)
from ecmo_web.governance.models import (
    DecisionPolicyLink,
    Policy,
    PolicySignoff,
    PolicyTopic,
    PolicyVersion,
    ReviewReminder,
)
from ecmo_web.permissions import MATRIX
from ecmo_web.timezones import to_local

# Roles whose sign-off a version may require: those whose role grants policy.signoff.
SIGNOFF_ROLES: frozenset[str] = frozenset(r for r, actions in MATRIX.items() if "policy.signoff" in actions)


@transaction.atomic
def create_policy(*, actor: Any, program: Program, title: str, topic: str) -> Policy:
    kernel.require(actor, "governance.manage", program)
    if topic not in PolicyTopic.values:
        raise ValidationError({"topic": f"one of {', '.join(PolicyTopic.values)}"})
    title = text(title, field="title", max_length=200)
    if Policy.objects.filter(program=program, title=title).exists():
        raise ValidationError({"title": "the library already has a policy of that title"})
    found = Policy(program=program, title=title, topic=topic, created_by=user_of(actor))
    found.save()
    kernel.audit(actor, "policy.created", found, after=snapshot(found))
    return found


@transaction.atomic
def draft_version(
    *,
    actor: Any,
    policy: Policy,
    summary: str,
    text_body: str,
    authors: list[Any],
    effective_on: dt.date,
    review_on: dt.date,
    required_roles: list[str],
) -> PolicyVersion:
    """A new version (numbered after the last). It awaits the sign-off of every role in ``required_roles``."""
    kernel.require(actor, "governance.manage", policy)
    effective_on = date_value(effective_on, field="effective_on")
    review_on = date_value(review_on, field="review_on")
    if review_on <= effective_on:
        raise ValidationError({"review_on": f"must be after the effective date ({effective_on})"})
    needed = roles(required_roles, field="required_roles", allowed=SIGNOFF_ROLES)
    if not needed:
        raise ValidationError({"required_roles": "choose at least one role whose sign-off is required"})
    people = members(policy.program, authors, field="authors")
    if not people:
        raise ValidationError({"authors": "name at least one author"})
    locked = Policy.objects.select_for_update().get(pk=policy.pk)  # version numbers are taken one at a time
    number = (locked.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PolicyVersion(
        policy=policy,
        number=number,
        summary=text(summary, field="summary", max_length=300),
        text=text(text_body, field="text_body", max_length=50_000),
        effective_on=effective_on,
        review_on=review_on,
        required_roles=needed,
        created_by=user_of(actor),
    )
    version.save()
    version.authors.set(people)
    kernel.audit(
        actor,
        "policy.version_drafted",
        version,
        after={**snapshot(version), "authors": [u.pk for u in people]},
    )
    return version


def missing_roles(version: PolicyVersion) -> list[str]:
    signed = {s.role for s in version.signoffs.all()}
    return [r for r in version.required_roles if r not in signed]


@transaction.atomic
def sign_off(
    *, actor: Any, version: PolicyVersion, comment: str = "", now: dt.datetime | None = None
) -> PolicySignoff:
    """Sign ``version`` off for the actor's own role. The sign-off that completes the set puts the version in
    force (from its effective date, or from today if that is later)."""
    kernel.require(actor, "policy.signoff", version)
    now = now or timezone.now()
    locked = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    role = member_role(locked.policy.program_id, actor)
    if role is None or role not in locked.required_roles:
        raise PermissionDenied(
            f"this version needs sign-off from {', '.join(Role(r).label for r in locked.required_roles)}"
        )
    if locked.signoffs.filter(role=role).exists():
        raise ValidationError({"role": f"{Role(role).label} has already signed this version off"})
    signoff = PolicySignoff(
        version=locked,
        role=role,
        user=actor,
        signed_at=now,
        comment=text(comment, field="comment", max_length=300, required=False),
    )
    try:
        with transaction.atomic():
            signoff.save()
    except IntegrityError:
        raise ValidationError({"role": f"{Role(role).label} has already signed this version off"}) from None
    complete = not missing_roles(locked)
    if complete:
        locked.fully_signed_at = now
        locked.save(update_fields=["fully_signed_at"])
    version.fully_signed_at = locked.fully_signed_at
    kernel.audit(
        actor,
        "policy.signed_off",
        locked,
        after={"role": role, "comment": signoff.comment, "complete": complete, "signed_at": now},
    )
    return signoff


def _state(version: PolicyVersion, program: Program) -> rule.VersionState:
    signed = to_local(version.fully_signed_at, program)  # the day of the last sign-off, program-local
    return rule.VersionState(version.number, version.effective_on, signed.date() if signed else None)


def in_force_from(version: PolicyVersion) -> dt.date | None:
    return rule.in_force_from(_state(version, version.policy.program))


def version_in_force(policy: Policy, on: dt.date) -> PolicyVersion | None:
    """The version of ``policy`` in force on ``on`` (program-local date), or None."""
    versions = list(policy.versions.all())
    chosen = rule.in_force_on([_state(v, policy.program) for v in versions], on)
    return next((v for v in versions if chosen is not None and v.number == chosen.number), None)


@dataclass(frozen=True)
class DueReview:
    policy: Policy
    version: PolicyVersion
    review_on: dt.date
    days_left: int  # negative: overdue

    @property
    def overdue_days(self) -> int:
        return max(0, -self.days_left)


def due_reviews(program: Program, now: dt.datetime, within_days: int = 30) -> list[DueReview]:
    """Policies whose version in force is due for review within ``within_days`` days (or overdue), soonest first.

    A read, not an action: the program page lists these and the surveillance worker may call it to remind.
    """
    today = local_today(program, now)
    policies = Policy.objects.filter(program=program).select_related("program").prefetch_related("versions")
    due: list[DueReview] = []
    for p in policies:
        current = version_in_force(p, today)
        if current is not None and rule.due_for_review(current.review_on, today, within_days):
            due.append(DueReview(p, current, current.review_on, (current.review_on - today).days))
    return sorted(due, key=lambda d: (d.review_on, d.policy.title))


REMINDER_WINDOW_DAYS = 30  # local practice: a month's notice to convene a review
REMINDER = kernel.SystemActor("system:governance")


@transaction.atomic
def remind_reviews(now: dt.datetime, within_days: int = REMINDER_WINDOW_DAYS) -> list[ReviewReminder]:
    """For every program, remind once that a version in force is due for review within ``within_days``, and once
    more when it is overdue. The surveillance worker calls this on every pass (a periodic contribution); a second
    call at the same ``now`` creates nothing. Returns the reminders created."""
    now = kernel.aware(now, field="now")
    created: list[ReviewReminder] = []
    for program in Program.objects.all():
        for due in due_reviews(program, now, within_days):
            kind = ReviewReminder.Kind.OVERDUE if due.days_left < 0 else ReviewReminder.Kind.DUE
            if ReviewReminder.objects.filter(version=due.version, kind=kind).exists():
                continue
            when = f"was due on {due.review_on}" if due.days_left < 0 else f"is due by {due.review_on}"
            reminder = ReviewReminder.objects.create(
                version=due.version,
                kind=kind,
                message=f"The review of {due.policy.title} (version {due.version.number}) {when}"[:300],
                created_at=now,
            )
            kernel.audit(REMINDER, f"policy.review_reminder_{kind}", reminder, after=snapshot(reminder))
            created.append(reminder)
    return created


@transaction.atomic
def link_decision(
    *, actor: Any, decision: Decision, version: PolicyVersion, note: str = ""
) -> DecisionPolicyLink:
    """Record that ``decision`` followed ``version`` (a signed-off version of a policy of the same program)."""
    kernel.require(actor, "decision.record", decision)
    if version.policy.program_id != decision.run.program_id:
        raise ValidationError({"version": "that policy belongs to another program"})
    if version.fully_signed_at is None:
        raise ValidationError({"version": "a draft awaiting sign-off cannot have been followed"})
    if DecisionPolicyLink.objects.filter(decision=decision, version=version).exists():
        raise ValidationError({"version": f"the decision is already linked to {version}"})
    link = DecisionPolicyLink(
        decision=decision,
        version=version,
        note=text(note, field="note", max_length=300, required=False),
        linked_by=user_of(actor),
    )
    link.save()
    kernel.audit(
        actor,
        "policy.decision_linked",
        decision,
        after={
            "policy_version_id": version.pk,
            "policy": version.policy.title,
            "version": version.number,
            "note": link.note,
        },
    )
    return link
