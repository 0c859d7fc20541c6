"""The role profile's expanded areas fed by other apps: M&M, audits and QI, policy sign-off, education, research.

Fixture (program North, period 20–27 Nov 2026):
- M&M: the perfusionist writes input to a case (counts), the intensivist too (not perfusion); the perfusionist
  closes an M&M action (counts) → mm 2
- audits and QI: the quality officer runs an audit round (not perfusion); the perfusionist leads a QI project,
  records a PDSA cycle and a measure point (3) → audits_qi 3; with ``user_id`` of the quality officer: 1
- policy: a version needing perfusionist and intensivist sign-off; both sign → policy_signoff 1
- education: a session facilitated by the perfusionist (counts), one by the intensivist, one by the perfusionist
  after the period → education 1
- research: the perfusionist is a contributor in two CRediT roles, a researcher in one → research 2
Each record links to its page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from ecmo_web.governance.actions import education, policies, qi
from ecmo_web.quality import actions as quality
from ecmo_web.registry import actions as registry
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0

START, END = "2026-11-20", "2026-11-27"


@pytest.fixture
def story(run: EcmoRun, personas: dict[str, Any]) -> dict[str, Any]:
    p, i, d, q = (personas[r] for r in ("perfusionist", "intensivist", "director", "quality"))
    program = run.program
    at = T0 + dt.timedelta(days=1)
    with time_machine.travel(at, tick=False):
        case = quality.open_case(actor=d, run=run, title="Oxygenator change at night", now=at)
        quality.add_contribution(actor=p, case=case, text="Rising ΔP over 12 h before the change", now=at)
        quality.add_contribution(actor=i, case=case, text="Gas exchange was stable", now=at)
        action = quality.add_action(
            actor=d, case=case, text="ΔP trend on handover", owner=p, due_on=at.date()
        )
        quality.close_action(actor=p, action=action, note="On the handover sheet", now=at)
        audit = quality.define_audit(
            actor=q, program=program, title="Checks", criterion=_criterion(), standard_fraction=0.9, now=at
        )
        quality.run_audit(
            actor=q, audit=audit, period_start=T0 - dt.timedelta(days=30), period_end=at, now=at
        )
        project = qi.create_project(
            actor=d,
            program=program,
            title="Fewer night changes",
            aim="Plan changes",
            started_on=at.date(),
            lead=p,
        )
        measure = qi.add_measure(
            actor=d, project=project, name="Night changes", kind="outcome", kpi_key="", unit="per month",
            higher_is_better=False, baseline_points=3, computed=False,
        )  # fmt: skip
        qi.record_cycle(
            actor=p, project=project, change="ΔP review at 18:00", plan="Review", started_on=at.date()
        )
        qi.record_point(actor=p, measure=measure, period_start=at.date(), value=2, note="")
        policy = policies.create_policy(
            actor=d, program=program, title="Circuit change", topic="circuit_change"
        )
        version = policies.draft_version(
            actor=d, policy=policy, summary="First", text_body="Change when ΔP doubles", authors=[p],
            effective_on=at.date(), review_on=at.date() + dt.timedelta(days=365),
            required_roles=["perfusionist", "intensivist"],
        )  # fmt: skip
        policies.sign_off(actor=p, version=version, now=at)
        policies.sign_off(actor=i, version=version, now=at)
        for facilitator, when in ((p, at), (i, at)):
            education.record_session(
                actor=d, program=program, kind="simulation", title="Air in the circuit", held_at=when,
                duration_min=60, attendees=[i], facilitator=facilitator, now=at,
            )  # fmt: skip
        study = registry.create_study(actor=d, program=program, title="ΔP and oxygenator life", kind="cohort")
        for user, role in (
            (p, "investigation"),
            (p, "writing_original_draft"),
            (personas["researcher"], "formal_analysis"),
        ):
            registry.add_contributor(
                actor=d,
                study=study,
                name=user.get_username(),
                discipline="perfusion",
                credit_role=role,
                user=user,
            )
    later = T0 + dt.timedelta(days=9)
    with time_machine.travel(later, tick=False):
        education.record_session(
            actor=d, program=program, kind="simulation", title="Pump failure", held_at=later,
            duration_min=60, attendees=[i], facilitator=p, now=later,
        )  # fmt: skip
    return {"quality": q, "case": case, "project": project, "policy": policy, "study": study}


def _criterion() -> str:
    return "hourly_checks_90"


def _profile(client: Any, **extra: Any) -> dict[str, Any]:
    response = client.get("/api/v1/role-profile", {"start": START, "end": END, **extra})
    assert response.status_code == 200, response.content
    return {item["area"]: item for item in response.json()}


def test_other_apps_feed_the_expanded_areas(
    story: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    items = _profile(client_for(personas["director"]))
    counts = {
        area: items[area]["count"] for area in ("mm", "audits_qi", "policy_signoff", "education", "research")
    }
    assert counts == {"mm": 2, "audits_qi": 3, "policy_signoff": 1, "education": 1, "research": 2}
    assert all(f"/mm-cases/{story['case'].pk}/" in link for link in items["mm"]["links"])
    assert f"/qi/{story['project'].pk}/" in items["audits_qi"]["links"][0]
    assert items["policy_signoff"]["links"] == [f"/policies/{story['policy'].pk}/"]
    assert items["research"]["links"][0] == f"/studies/{story['study'].pk}/"


def test_one_persons_profile_counts_their_own_records(
    story: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    quality_officer = _profile(client_for(personas["director"]), user_id=story["quality"].pk)
    assert quality_officer["audits_qi"]["count"] == 1 and quality_officer["mm"]["count"] == 0
    intensivist = _profile(client_for(personas["director"]), user_id=personas["intensivist"].pk)
    assert intensivist["mm"]["count"] == 1 and intensivist["policy_signoff"]["count"] == 1
    assert intensivist["education"]["count"] == 1 and intensivist["research"]["count"] == 0


def test_research_records_link_only_for_those_who_keep_the_study_register(
    story: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    url = f"/programs/{story['study'].program_id}/perfusion/profile/research/"
    keeper = client_for(personas["director"]).get(url, {"start": START, "end": END}).content.decode()
    assert f"/studies/{story['study'].pk}/" in keeper
    reader = client_for(personas["intensivist"]).get(url, {"start": START, "end": END})
    assert reader.status_code == 200
    body = reader.content.decode()
    assert "Study contributor" in body and f"/studies/{story['study'].pk}/" not in body
