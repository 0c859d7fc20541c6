"""Perfusion's part in M&M reviews and clinical audits, for the role profile (``perfusion.profile``).

Each source takes ``who`` (the program, and one person or perfusion as a whole: ``users()`` and
``by_role(user_field, role_field)``), a period ``[start, end)`` and yields ``ecmo_core.profile.Record``s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from ecmo_core.profile import Record
from ecmo_web.quality.models import AuditRound, MmAction, MmContribution


def mm(who: Any, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    """Input written to an M&M case in the perfusion role (or by the person), and M&M actions they closed."""
    for case_id, discipline, at in (
        MmContribution.objects.filter(
            who.by_role("author_id", "author_role"),
            case__run__program=who.program,
            written_at__gte=start,
            written_at__lt=end,
        )
        .values_list("case_id", "discipline", "written_at")
        .order_by("written_at")
    ):
        url = reverse("quality_mm_case", args=[case_id])
        yield Record("mm", at, f"M&M input ({discipline})", url)
    for case_id, closed_at in MmAction.objects.filter(
        case__run__program=who.program, closed_by__in=who.users(), closed_at__gte=start, closed_at__lt=end
    ).values_list("case_id", "closed_at"):
        assert closed_at is not None  # closed_at__gte: only closed actions
        yield Record("mm", closed_at, "M&M action closed", reverse("quality_mm_case", args=[case_id]))


def audits(who: Any, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    """Clinical audit rounds run by the person (or the program's perfusionists)."""
    for audit_id, at in AuditRound.objects.filter(
        audit__program=who.program, run_by__in=who.users(), run_at__gte=start, run_at__lt=end
    ).values_list("audit_id", "run_at"):
        yield Record("audits_qi", at, "Clinical audit round", reverse("quality_audit", args=[audit_id]))
