"""Decisions API (core-api §6): ``GET|POST /api/v1/runs/{run_id}/decisions`` and a decision's detail and decide.

POST body (JSON)::

    {"kind": "candidacy", "title": "...", "made_at": "2026-11-20T08:30:00Z",
     "recommendation": "...", "recommended_by": "perfusionist",
     "options": ["VV ECMO", {"label": "conventional care", "note": "..."}],
     "inputs": {"pf_ratio_mmhg": 68}, "content": {...the kind's fields...},
     "calculations": [{"calculator": "resp", "arguments": {...}}], "calculation_ids": [12],
     "participants": [{"username": "perfusionist", "role": "perfusionist", "contribution": "proposed"}],
     "decided_by": "intensivist", "decided_at": "...",
     "dissent": [{"username": "ecmo_specialist", "reason": "...", "resolution": "..."}],
     "session_id": 3, "target_ids": [], "alert_ids": [], "component_id": null, "mcs_device_id": null}

People are given by ``user_id`` or ``username``; a participant's role defaults to their membership role in the
run's program, and anyone outside the program is a 400. Errors name the field: ``participants[1]``,
``content.pf_ratio_mmhg``, ``calculations[0].age_years``. The body is parsed here rather than by ninja so that a
malformed body is a 400 naming the field like every other validation error (ninja's own would be a 422).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from ecmo_web import apibody
from ecmo_web.decisions import actions
from ecmo_web.decisions.kinds import normalise_kind
from ecmo_web.decisions.models import Decision, DecisionSession
from ecmo_web.decisions.serialize import decision_dict, decision_queryset
from ecmo_web.permissions import restrict
from ecmo_web.runs.models import Component, EcmoRun, McsDevice
from ecmo_web.shortcuts import get_checked

router = Router(tags=["decisions"])

Person = int | str


class ParticipantIn(Schema):
    user_id: int | None = None
    username: str | None = None
    role: str | None = None
    contribution: str = ""


class DissentIn(Schema):
    user_id: int | None = None
    username: str | None = None
    role: str | None = None
    reason: str = ""
    resolution: str = ""


class CalculationIn(Schema):
    calculator: str
    arguments: dict[str, Any] = {}
    not_computed_reason: str = ""
    note: str = ""


class OptionIn(Schema):
    label: str
    note: str = ""


class DecisionIn(Schema):
    kind: str
    title: str = ""
    made_at: dt.datetime | None = None
    recommendation: str = ""
    recommended_by: Person | None = None
    options: list[OptionIn | str] = []
    inputs: dict[str, Any] = {}
    content: dict[str, Any] = {}
    calculations: list[CalculationIn] = []
    calculation_ids: list[int] = []
    participants: list[ParticipantIn] = []
    decided_by: Person | None = None
    decided_at: dt.datetime | None = None
    dissent: list[DissentIn] = []
    session_id: int | None = None
    target_ids: list[int] = []
    alert_ids: list[int] = []
    component_id: int | None = None
    mcs_device_id: int | None = None
    supersedes_id: int | None = None


class DecideIn(Schema):
    decided_by: Person
    decided_at: dt.datetime | None = None
    recommendation: str | None = None
    version: int | None = None  # the decision's version the client read; a stale one is refused with 409


class PersonOut(Schema):
    user_id: int
    username: str
    name: str
    role: str


class ParticipantOut(PersonOut):
    contribution: str


class DissentOut(PersonOut):
    reason: str
    resolution: str
    resolved_at: dt.datetime | None


class DecisionSummaryOut(Schema):
    id: int
    run_id: int
    kind: str
    kind_label: str
    title: str
    status: str
    made_at: dt.datetime
    recommendation: str
    recommended_by: PersonOut | None
    decided_by: PersonOut | None
    decided_at: dt.datetime | None
    participants: list[ParticipantOut]
    dissent: list[DissentOut]
    completed_at: dt.datetime | None
    outcome: str


class DecisionOut(DecisionSummaryOut):
    version: (
        int  # send it back with a change (decide) to be refused, not overwrite, if someone changed it since
    )
    session: dict[str, Any] | None
    inputs: dict[str, Any]
    content: dict[str, Any]
    options: list[dict[str, Any]]
    calculations: list[dict[str, Any]]
    targets: list[dict[str, Any]]
    checklist: list[dict[str, Any]]
    observations: list[dict[str, Any]]
    legs: list[dict[str, Any]]
    transport_events: list[dict[str, Any]]
    ambulation_sessions: list[dict[str, Any]]
    alert_ids: list[int]
    component_id: int | None
    mcs_device_id: int | None
    supersedes_id: int | None
    configuration_entry_id: int | None
    outcome_reason: str


def _person(value: Person | None, username: str | None = None) -> Any:
    return value if value is not None else username


_BODY_DOC = {
    "description": "A decision (see the module docs for every field)",
    "required": True,
    "content": {
        "application/json": {
            "schema": {"type": "object"},
            "example": {
                "kind": "candidacy",
                "title": "VV candidacy",
                "content": {"modality": "vv"},
                "participants": [{"username": "perfusionist"}],
                "decided_by": "intensivist",
            },
        }
    },
}


@router.get("/runs/{run_id}/decisions", response=list[DecisionSummaryOut])
def list_decisions(
    request: HttpRequest, run_id: int, kind: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """The run's decisions, newest first, each with its participants (user and role), who decided and dissent."""
    run = get_checked(EcmoRun.objects.select_related("program"), request.user, "run.view", pk=run_id)
    qs = decision_queryset().filter(run=run)
    if kind:
        normal = normalise_kind(kind)
        if normal is None:
            raise ValidationError({"kind": f"unknown kind {kind!r}"})
        qs = qs.filter(kind=normal)
    if status:
        qs = qs.filter(status=status)
    return [decision_dict(d, full=False) for d in qs]


@router.post(
    "/runs/{run_id}/decisions", response={201: DecisionOut}, openapi_extra={"requestBody": _BODY_DOC}
)
def create_decision(request: HttpRequest, run_id: int) -> Status[dict[str, Any]]:
    """Record a decision (decided at once when ``decided_by`` is given, else left open)."""
    run = get_checked(EcmoRun.objects.select_related("program"), request.user, "decision.record", pk=run_id)
    body: DecisionIn = apibody.parse(request, DecisionIn)
    kind = normalise_kind(body.kind)
    if kind is None:
        raise ValidationError({"kind": f"unknown kind {body.kind!r}"})
    session = None
    if body.session_id is not None:
        session = (
            restrict(DecisionSession.objects.all(), request.user, "run.view")
            .filter(pk=body.session_id)
            .first()
        )
        if session is None:
            raise ValidationError({"session_id": "no such session in your programs"})
    component = mcs_device = supersedes = None
    if body.component_id is not None:
        component = Component.objects.filter(pk=body.component_id, circuit__run=run).first()
        if component is None:
            raise ValidationError({"component_id": "not a component of this run"})
    if body.mcs_device_id is not None:
        mcs_device = McsDevice.objects.filter(pk=body.mcs_device_id, run=run).first()
        if mcs_device is None:
            raise ValidationError({"mcs_device_id": "not an MCS device of this run"})
    if body.supersedes_id is not None:
        supersedes = Decision.objects.filter(pk=body.supersedes_id, run=run).first()
        if supersedes is None:
            raise ValidationError({"supersedes_id": "not a decision of this run"})
    decision = actions.record_decision(
        actor=request.user,
        run=run,
        kind=kind,
        title=body.title or dict_label(kind),
        made_at=body.made_at or timezone.now(),
        content=body.content,
        inputs=body.inputs,
        options=[o if isinstance(o, str) else o.model_dump() for o in body.options],
        recommendation=body.recommendation,
        recommended_by=body.recommended_by,
        participants=[
            {"user": _person(p.user_id, p.username), "role": p.role, "contribution": p.contribution}
            for p in body.participants
        ],
        decided_by=body.decided_by,
        decided_at=body.decided_at,
        dissent=[
            {
                "user": _person(x.user_id, x.username),
                "role": x.role,
                "reason": x.reason,
                "resolution": x.resolution,
            }
            for x in body.dissent
        ],
        session=session,
        calculations=[c.model_dump() for c in body.calculations],
        calculation_ids=body.calculation_ids,
        target_ids=body.target_ids,
        alert_ids=body.alert_ids,
        component=component,
        mcs_device=mcs_device,
        supersedes=supersedes,
    )
    return Status(201, decision_dict(decision_queryset().get(pk=decision.pk)))


def dict_label(kind: str) -> str:
    from ecmo_web.decisions.models import Kind

    return str(Kind(kind).label)


@router.get("/decisions/{decision_id}", response=DecisionOut)
def get_decision(request: HttpRequest, decision_id: int) -> dict[str, Any]:
    """One decision with its inputs, calculations, content, checklist, observations, legs and sessions."""
    decision = get_checked(decision_queryset(), request.user, "run.view", pk=decision_id)
    return decision_dict(decision)


@router.post("/decisions/{decision_id}/decide", response=DecisionOut)
def decide_decision(request: HttpRequest, decision_id: int) -> dict[str, Any]:
    """Close an open decision: who decided and when (targets it sets are applied to the run)."""
    decision = get_checked(decision_queryset(), request.user, "decision.record", pk=decision_id)
    body: DecideIn = apibody.parse(request, DecideIn)
    actions.decide(
        actor=request.user,
        decision=decision,
        decided_by=body.decided_by,
        decided_at=body.decided_at or timezone.now(),
        recommendation=body.recommendation,
        version=body.version,
    )
    return decision_dict(decision_queryset().get(pk=decision.pk))
