"""Decisions as JSON-ready dicts (the API and the rounds board use the same shape)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from ecmo_web.decisions.models import Decision, DecisionParticipant, Dissent, SessionAttendee


def decision_queryset() -> QuerySet[Decision]:
    return Decision.objects.select_related(
        "run", "run__program", "recommended_by", "decided_by", "session", "completed_by"
    ).prefetch_related(
        Prefetch("participants", queryset=DecisionParticipant.objects.select_related("user")),
        Prefetch("dissents", queryset=Dissent.objects.select_related("user")),
        Prefetch("session__attendees", queryset=SessionAttendee.objects.select_related("user")),
        "calculations",
        "targets",
        "checklist_items",
        "observations",
        "legs",
        "transport_events",
        "ambulation_sessions",
        "alerts",
    )


def person(user: Any, role: str = "") -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "user_id": user.pk,
        "username": user.get_username(),
        "name": user.get_full_name() or user.get_username(),
        "role": role,
    }


def decision_dict(d: Decision, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.pk,
        "run_id": d.run_id,
        "kind": d.kind,
        "kind_label": d.get_kind_display(),
        "title": d.title,
        "status": d.status,
        "version": d.version,
        "made_at": d.made_at,
        "recommendation": d.recommendation,
        "recommended_by": person(d.recommended_by, d.recommended_by_role),
        "decided_by": person(d.decided_by, d.decided_by_role),
        "decided_at": d.decided_at,
        "participants": [
            {**(person(p.user, p.role) or {}), "contribution": p.contribution} for p in d.participants.all()
        ],
        "dissent": [
            {
                **(person(x.user, x.role) or {}),
                "reason": x.reason,
                "resolution": x.resolution,
                "resolved_at": x.resolved_at,
            }
            for x in d.dissents.all()
        ],
        "completed_at": d.completed_at,
        "outcome": d.outcome,
    }
    if not full:
        return out
    session = d.session
    out.update(
        {
            "session": None
            if session is None
            else {
                "id": session.pk,
                "kind": session.kind,
                "title": session.title,
                "started_at": session.started_at,
                "attendees": [
                    {"user_id": a.user_id, "name": a.display_name(), "role": a.role}
                    for a in session.attendees.all()
                ],
            },
            "inputs": d.inputs,
            "content": d.content,
            "options": d.options,
            "calculations": [
                {
                    "id": c.pk,
                    "calculator": c.calculator,
                    "arguments": c.arguments,
                    "result": c.result,
                    "not_computed_reason": c.not_computed_reason,
                    "core_version": c.core_version,
                    "reference": c.reference,
                    "summary": c.summary(),
                    "computed_at": c.computed_at,
                }
                for c in d.calculations.all()
            ],
            "targets": [
                {
                    "id": t.pk,
                    "parameter": t.parameter,
                    "low": t.low,
                    "high": t.high,
                    "agent": t.agent,
                    "effective_from": t.effective_from,
                }
                for t in d.targets.all()
            ],
            "checklist": [
                {
                    "key": i.key,
                    "label": i.label,
                    "group": i.group,
                    "status": i.status,
                    "waiver_reason": i.waiver_reason,
                    "note": i.note,
                    "done_at": i.done_at,
                }
                for i in d.checklist_items.all()
            ],
            "observations": [
                {"at": o.at, "minutes": o.minutes, "step": o.step, "values": o.values, "note": o.note}
                for o in d.observations.all()
            ],
            "legs": [
                {
                    "position": leg.position,
                    "route": leg.route,
                    "planned_minutes": leg.planned_minutes,
                    "departed_at": leg.departed_at,
                    "arrived_at": leg.arrived_at,
                    "uses_cylinder_oxygen": leg.uses_cylinder_oxygen,
                    "on_battery": leg.on_battery,
                    "oxygen_source": leg.oxygen_source,
                }
                for leg in d.legs.all()
            ],
            "transport_events": [
                {
                    "at": e.at,
                    "category": e.category,
                    "description": e.description,
                    "action_taken": e.action_taken,
                }
                for e in d.transport_events.all()
            ],
            "ambulation_sessions": [
                {
                    "started_at": s.started_at,
                    "duration_min": s.duration_min,
                    "ims_level": s.ims_level,
                    "activities": s.activities,
                    "distance_m": s.distance_m,
                    "pre_check": s.pre_check,
                    "post_check": s.post_check,
                    "events": s.events,
                }
                for s in d.ambulation_sessions.all()
            ],
            "alert_ids": [a.pk for a in d.alerts.all()],
            "component_id": d.component_id,
            "mcs_device_id": d.mcs_device_id,
            "supersedes_id": d.supersedes_id,
            "configuration_entry_id": d.configuration_entry_id,
            "outcome_reason": d.outcome_reason,
        }
    )
    return out
