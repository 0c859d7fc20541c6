"""Decisions, weaning trials, transports, mobilisation sessions and MCS checks on the run timeline.

One provider, a fixed number of queries per run page (decisions with their pathway rows, and MCS checks).
"""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from ecmo_web import timeline
from ecmo_web.decisions.models import Decision, Kind, McsCheck, Status
from ecmo_web.runs.models import EcmoRun

_KIND_TONE: dict[str, str] = {
    Kind.CANDIDACY: "vv",
    Kind.MODALITY: "hybrid",
    Kind.CIRCUIT_CHANGE: "warning",
    Kind.DECANNULATION: "done",
    Kind.WEANING_TRIAL: "done",
}


def decision_lanes(run: EcmoRun, now: dt.datetime) -> list[timeline.Lane]:
    decisions = list(
        Decision.objects.filter(run=run)
        .exclude(status=Status.SUPERSEDED)
        .select_related("decided_by")
        .prefetch_related("observations", "legs", "ambulation_sessions")
        .order_by("made_at")
    )
    lane = timeline.Lane("Decisions", order=45)
    trials = timeline.Lane("Weaning trials", order=46)
    transport = timeline.Lane("Transport", order=47)
    mobility = timeline.Lane("Mobilisation", order=48)
    for d in decisions:
        who = d.decided_by.get_full_name() or d.decided_by.get_username() if d.decided_by else "open"
        lane.points.append(
            timeline.Point(
                f"{d.get_kind_display()}: {d.title}",
                d.decided_at or d.made_at,
                tone="warning" if d.status == Status.OPEN else _KIND_TONE.get(d.kind, "neutral"),
                detail=f"decided by {who}" if d.decided_by else "open",
                url=reverse("decision_detail", args=[d.pk]),
            )
        )
        if d.kind == Kind.WEANING_TRIAL:
            observations = list(d.observations.all())
            start = (
                dt.datetime.fromisoformat(d.content["started_at"])
                if d.content.get("started_at")
                else d.made_at
            )
            end = d.completed_at or (observations[-1].at if observations else None)
            tone = {"passed": "done", "failed": "critical"}.get(d.outcome, "warning")
            trials.bars.append(
                timeline.Bar(
                    f"{d.title} {d.outcome or 'running'}",
                    start,
                    end if d.completed_at else None,
                    tone=tone,
                    detail=f"{len(observations)} observations",
                )
            )
        if d.kind == Kind.TRANSPORT:
            for leg in d.legs.all():
                if leg.departed_at:
                    transport.bars.append(
                        timeline.Bar(
                            leg.route,
                            leg.departed_at,
                            leg.arrived_at or leg.departed_at,
                            tone="hybrid",
                            detail=leg.oxygen_source,
                        )
                    )
        if d.kind == Kind.AMBULATION:
            for s in d.ambulation_sessions.all():
                mobility.bars.append(
                    timeline.Bar(
                        f"IMS {s.ims_level}",
                        s.started_at,
                        s.started_at + dt.timedelta(minutes=s.duration_min),
                        tone="done",
                        detail=s.activities,
                    )
                )
    checks = timeline.Lane("MCS checks", order=41)
    for check in McsCheck.objects.filter(device__run=run).select_related("device", "checked_by"):
        checks.points.append(
            timeline.Point(
                f"{check.device} check",
                check.at,
                tone="critical" if check.position_confirmed is False else "neutral",
                detail=check.position_note,
                url=reverse("mcs_device", args=[check.device_id]),
            )
        )
    return [lane, trials, transport, mobility, checks]
