"""The adverse-event lane on the run timeline (contributed through ``QualityConfig.contributions``)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from ecmo_web import timeline
from ecmo_web.runs.models import EcmoRun

_TONE = {
    "mild": "neutral",
    "moderate": "warning",
    "severe": "critical",
    "life_threatening": "critical",
    "fatal": "critical",
}


def adverse_event_lane(run: EcmoRun, now: dt.datetime) -> list[timeline.Lane]:
    lane = timeline.Lane("Adverse events", order=70)
    for event in run.adverse_events.all():
        lane.points.append(
            timeline.Point(
                event.code_label,
                event.onset_at,
                tone=_TONE.get(event.severity, "neutral"),
                detail=event.severity_short,
                url=reverse("quality_event_detail", args=[event.pk]),
            )
        )
    return [lane]
