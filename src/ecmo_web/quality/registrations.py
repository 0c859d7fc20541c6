"""What the quality app contributes at start-up: navigation entries, the run-page panel and the adverse-event
lane on the run timeline."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from ecmo_web import navigation, timeline
from ecmo_web.runs.models import EcmoRun

RUN_PANEL = ("quality/panel_run.html", "run.view")
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
                detail=event.get_severity_display(),
                url=reverse("quality_event_detail", args=[event.pk]),
            )
        )
    return [lane]


def register_all() -> None:
    from ecmo_web.runs.views import run_panels

    if RUN_PANEL not in run_panels:
        run_panels.append(RUN_PANEL)
    timeline.register(adverse_event_lane)
    navigation.register(navigation.NavItem("Adverse events", "quality_events", "run.view", order=70))
    navigation.register(navigation.NavItem("M&M", "quality_mm_cases", "run.view", order=71))
    navigation.register(navigation.NavItem("Quality", "quality_dashboard", "kpi.view", order=72))
    navigation.register(navigation.NavItem("Audits", "quality_audits", "kpi.view", order=73))


register_all()
