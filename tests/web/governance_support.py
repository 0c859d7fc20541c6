"""Shared set-up for the governance tests: a policy with a version awaiting sign-off, a QI project with a
measure, a competency; every write through the actions as the quality officer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecmo_web.accounts.models import Program
from ecmo_web.audit.models import AuditEvent
from ecmo_web.governance.actions import education, policies, qi
from ecmo_web.governance.models import Competency, Policy, PolicyVersion, QiMeasure, QiProject

TODAY = dt.date(2026, 11, 20)  # T0 (2026-11-20 10:00 UTC) in Europe/London


def make_policy(personas: dict[str, Any], program: Program, title: str = "Anticoagulation") -> Policy:
    return policies.create_policy(
        actor=personas["quality"], program=program, title=title, topic="anticoagulation"
    )


def make_version(
    personas: dict[str, Any],
    policy: Policy,
    *,
    effective_on: dt.date = TODAY - dt.timedelta(days=10),
    review_on: dt.date = TODAY + dt.timedelta(days=365),
    required_roles: tuple[str, ...] = ("perfusionist", "intensivist"),
) -> PolicyVersion:
    return policies.draft_version(
        actor=personas["quality"],
        policy=policy,
        summary="Anti-Xa 0.3–0.5",
        text_body="Heparin to anti-Xa 0.30–0.50 IU/mL.",
        authors=[personas["perfusionist"].pk],
        effective_on=effective_on,
        review_on=review_on,
        required_roles=list(required_roles),
    )


def make_project(personas: dict[str, Any], program: Program) -> QiProject:
    return qi.create_project(
        actor=personas["quality"],
        program=program,
        title="Checks",
        aim="95 % of hourly checks",
        started_on=TODAY,
    )


def make_measure(personas: dict[str, Any], project: QiProject) -> QiMeasure:
    return qi.add_measure(actor=personas["quality"], project=project, name="Completeness", unit="fraction")


def make_competency(personas: dict[str, Any], program: Program, months: int | None = 12) -> Competency:
    return education.create_competency(
        actor=personas["quality"],
        program=program,
        name="Water drill",
        validity_months=months,
        required_for_roles=["perfusionist", "ecmo_specialist"],
    )


def audit_count(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()
