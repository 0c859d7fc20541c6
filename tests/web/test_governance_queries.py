"""Governance pages cost a fixed number of queries, whatever the size of the library, the project or the roster.

- the governance overview with 1 policy and with 4 (each with a signed version): the same count
- a policy page with 1 version and with 3: the same count
- a QI project with 1 measure of 3 points and with 3 measures of 6 points and 3 PDSA cycles: the same count
- a shift of 1 member and of 4 members, against 1 and 3 competencies with awards: the same count
- the education page with 1 and 3 sessions: the same count
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecmo_web.accounts.models import Program
from ecmo_web.governance.actions import education, policies, qi
from tests.web.conftest import T0
from tests.web.governance_support import TODAY, make_measure, make_policy, make_project, make_version
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(T0, tick=False):
        yield


def count(client: BrowserClient, path: str) -> int:
    client.get(path)  # warm the session and the per-request caches the same way each time
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def _signed_policy(personas: dict[str, Any], program: Program, title: str) -> Any:
    policy = make_policy(personas, program, title)
    version = make_version(personas, policy, required_roles=("perfusionist",))
    policies.sign_off(actor=personas["perfusionist"], version=version)
    return policy


def test_it_reads_the_overview_and_a_policy_in_fixed_queries(
    personas: dict[str, Any], program: Program
) -> None:
    client = BrowserClient(personas["auditor"])
    first = _signed_policy(personas, program, "P0")
    home = f"/programs/{program.pk}/governance/"
    one, page_one = count(client, home), count(client, f"/policies/{first.pk}/")
    for i in range(1, 4):
        _signed_policy(personas, program, f"P{i}")
    for _ in range(2):
        version = make_version(personas, first, required_roles=("perfusionist", "intensivist"))
        policies.sign_off(actor=personas["perfusionist"], version=version)
    assert count(client, home) == one
    assert count(client, f"/policies/{first.pk}/") == page_one


def test_it_reads_a_project_in_fixed_queries(personas: dict[str, Any], program: Program) -> None:
    client = BrowserClient(personas["auditor"])
    project = make_project(personas, program)
    measures = [make_measure(personas, project)]

    def points(measure: Any, n: int) -> None:
        for week in range(n):
            qi.record_point(
                actor=personas["perfusionist"],
                measure=measure,
                period_start=TODAY - dt.timedelta(weeks=week + 1),
                value=float(week),
            )

    points(measures[0], 3)
    one = count(client, f"/qi/{project.pk}/")
    for name in ("B", "C"):
        measure = qi.add_measure(actor=personas["quality"], project=project, name=name)
        points(measure, 6)
    for n in range(3):
        qi.record_cycle(
            actor=personas["perfusionist"], project=project, change=f"c{n}", plan="p", started_on=TODAY
        )
    assert count(client, f"/qi/{project.pk}/") == one


def test_it_reads_a_shift_and_the_education_page_in_fixed_queries(
    personas: dict[str, Any], program: Program
) -> None:
    client = BrowserClient(personas["auditor"])
    comps = [
        education.create_competency(
            actor=personas["quality"],
            program=program,
            name=f"C{i}",
            validity_months=12,
            required_for_roles=["perfusionist", "bedside_nurse"],
        )
        for i in range(3)
    ]
    education.award_competency(
        actor=personas["director"], competency=comps[0], holder=personas["perfusionist"], awarded_on=TODAY
    )

    def shift(members: list[str]) -> Any:
        return education.create_shift(
            actor=personas["quality"],
            program=program,
            name="Day",
            starts_at=T0,
            ends_at=T0 + dt.timedelta(hours=12),
            members_on=[personas[m] for m in members],
        )

    def session() -> None:
        education.record_session(
            actor=personas["perfusionist"],
            program=program,
            kind="water_drill",
            title="Drill",
            held_at=T0,
            duration_min=60,
            attendees=[personas["bedside_nurse"], personas["ecmo_specialist"]],
        )

    small = shift(["perfusionist"])
    session()
    one = count(client, f"/shifts/{small.pk}/")
    edu = count(client, f"/programs/{program.pk}/education/")
    for comp in comps[1:]:
        education.award_competency(
            actor=personas["director"], competency=comp, holder=personas["bedside_nurse"], awarded_on=TODAY
        )
    big = shift(["perfusionist", "bedside_nurse", "ecmo_specialist", "intensivist"])
    session()
    session()
    assert count(client, f"/shifts/{big.pk}/") == one
    assert count(client, f"/programs/{program.pk}/education/") == edu
