"""Perfusion's part in QI, policy sign-off and education, for the role profile (``perfusion.profile``).

Each source takes ``who`` (the program, and one person or perfusion as a whole: ``users()`` and
``by_role(user_field, role_field)``), a period ``[start, end)`` and yields ``ecmo_core.profile.Record``s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from ecmo_core.profile import Record
from ecmo_web.governance.models import EducationSession, MeasurePoint, PdsaCycle, PolicySignoff, QiProject


def qi(who: Any, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    """QI projects led (counted when created), PDSA cycles and measure data points recorded."""
    users = who.users()
    for pk, at in QiProject.objects.filter(
        program=who.program, lead__in=users, created_at__gte=start, created_at__lt=end
    ).values_list("pk", "created_at"):
        yield Record("audits_qi", at, "Leads a QI project", reverse("qi_project", args=[pk]))
    for project_id, at in PdsaCycle.objects.filter(
        project__program=who.program, recorded_by__in=users, recorded_at__gte=start, recorded_at__lt=end
    ).values_list("project_id", "recorded_at"):
        yield Record(
            "audits_qi", at, "PDSA cycle recorded", reverse("qi_project", args=[project_id]) + "#pdsa"
        )
    for project_id, at in MeasurePoint.objects.filter(
        measure__project__program=who.program,
        recorded_by__in=users,
        recorded_at__gte=start,
        recorded_at__lt=end,
    ).values_list("measure__project_id", "recorded_at"):
        yield Record("audits_qi", at, "QI measure recorded", reverse("qi_project", args=[project_id]))


def policy_signoff(who: Any, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    """Policy versions signed off in the perfusion role (or by the person)."""
    for policy_id, title, at in PolicySignoff.objects.filter(
        who.by_role("user_id", "role"),
        version__policy__program=who.program,
        signed_at__gte=start,
        signed_at__lt=end,
    ).values_list("version__policy_id", "version__policy__title", "signed_at"):
        yield Record("policy_signoff", at, f"Signed off: {title}", reverse("policy_page", args=[policy_id]))


def education(who: Any, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    """Education sessions facilitated (delivered, not attended)."""
    for title, at in EducationSession.objects.filter(
        program=who.program, facilitator__in=who.users(), held_at__gte=start, held_at__lt=end
    ).values_list("title", "held_at"):
        yield Record("education", at, f"Taught: {title}", reverse("education_page", args=[who.program.pk]))
