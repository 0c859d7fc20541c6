"""Template tags of the HL7 live path: the run page's warning about device-bound messages of unverified identity."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count, Max

from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.models import IngestBatch

register = template.Library()


@register.simple_tag
def hl7_identity_unverified(run: EcmoRun) -> dict[str, Any]:
    """How many HL7 messages were bound to this run by console or bed while naming a patient unknown here."""
    found = IngestBatch.objects.filter(run=run, identity_unverified=True).aggregate(
        count=Count("pk"), last=Max("received_at")
    )
    return {"count": found["count"] or 0, "last": found["last"]}
