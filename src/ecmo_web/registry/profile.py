"""Perfusion's research contributions, for the role profile (``perfusion.profile``).

A contributor row carries no date of its own; it counts at the moment it was recorded (its audit event).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from ecmo_core.profile import Record
from ecmo_web.audit.models import AuditEvent
from ecmo_web.registry.models import Contributor


def research(who: Any, start: dt.datetime, end: dt.datetime) -> Iterable[Record]:
    """Each CRediT role held on one of the program's studies by the person (or a perfusionist)."""
    rows = {
        str(pk): (study_id, role)
        for pk, study_id, role in Contributor.objects.filter(
            study__program=who.program, user__in=who.users()
        ).values_list("pk", "study_id", "credit_role")
    }
    recorded = AuditEvent.objects.filter(
        action="study.contributor_added", object_id__in=list(rows), at__gte=start, at__lt=end
    ).values_list("object_id", "at")
    labels = dict(Contributor._meta.get_field("credit_role").choices or [])
    for object_id, at in recorded:
        study_id, role = rows[object_id]
        yield Record(
            "research",
            at,
            f"Study contributor: {labels.get(role, role)}",
            reverse("study_detail", args=[study_id]),
        )
