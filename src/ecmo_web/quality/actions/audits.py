"""Clinical audits: define one (criterion, standard, sample) and run it over a period; each round is kept so the
audit page shows compliance over time."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ecmo_core import quality as core
from ecmo_core.errors import InputError
from ecmo_web import kernel
from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import snapshot
from ecmo_web.quality.data import load
from ecmo_web.quality.models import AuditRound, ClinicalAudit


@transaction.atomic
def define_audit(
    *,
    actor: Any,
    program: Program,
    title: str,
    criterion: str,
    standard_fraction: float,
    sample_size: int | None = None,
    notes: str = "",
    now: dt.datetime | None = None,
) -> ClinicalAudit:
    kernel.require(actor, "clinical_audit.manage", program)
    if not title.strip():
        raise ValidationError({"title": "give the audit a title"})
    try:
        core.audit_criterion(criterion)
    except InputError as exc:
        raise ValidationError({"criterion": "choose a criterion from the list"}) from exc
    if not 0.0 < standard_fraction <= 1.0:
        raise ValidationError(
            {"standard_fraction": "the standard is a share between 0 and 1 (e.g. 0.9 for 90 %)"}
        )
    if sample_size is not None and sample_size < 1:
        raise ValidationError({"sample_size": "at least 1, or empty for every eligible case"})
    audit = ClinicalAudit.objects.create(
        program=program,
        title=title.strip()[:200],
        criterion=criterion,
        standard_fraction=standard_fraction,
        sample_size=sample_size,
        notes=notes.strip(),
        created_by=kernel.user_of(actor),
        created_at=now or timezone.now(),
    )
    kernel.audit(actor, "clinical_audit.defined", audit, after=snapshot(audit))
    return audit


@transaction.atomic
def run_audit(
    *,
    actor: Any,
    audit: ClinicalAudit,
    period_start: dt.datetime,
    period_end: dt.datetime,
    now: dt.datetime | None = None,
) -> AuditRound:
    """Apply the audit's criterion to the period's cases and keep the result as one round."""
    kernel.require(actor, "clinical_audit.manage", audit)
    now = now or timezone.now()
    try:
        period = core.Period(period_start, period_end)
    except InputError as exc:
        raise ValidationError({f"period_{exc.field}": exc.message}) from exc
    if period.start > now:
        raise ValidationError({"period_start": "the period has not begun yet"})
    data = load(audit.program, period, now=now)
    result = core.run_audit(audit.criterion, data, period, sample_size=audit.sample_size)
    round_ = AuditRound.objects.create(
        audit=audit,
        period_start=period.start,
        period_end=period.end,
        sample_count=result.sample_count,
        compliant_count=result.compliant_count,
        details=[
            {
                "subject": item.subject,
                "run_id": item.run_id,
                "at": item.at.isoformat(),
                "compliant": item.compliant,
                "note": item.note,
            }
            for item in result.items
        ],
        run_by=kernel.user_of(actor),
        run_at=now,
    )
    kernel.audit(
        actor,
        "clinical_audit.run",
        round_,
        after={k: v for k, v in snapshot(round_).items() if k != "details"},
    )
    return round_
