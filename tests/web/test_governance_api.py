"""Governance API: the library with the version in force on a date, reviews due, a measure's run chart.

- GET /api/v1/policies: each policy with the version in force on ``on`` (default today) and the versions
  awaiting sign-off with the roles missing; a bad date is a 400 naming ``on``
- GET /api/v1/policy-reviews: due within ``within_days`` (0–365, else 400 naming the field)
- GET /api/v1/qi-measures/{id}/run-chart: median, flagged points and signals
- researchers get 403, another program's id 404, no credentials 401
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client

from ecmo_web.accounts.models import ApiToken, Program
from ecmo_web.governance.actions import policies, qi
from tests.web.conftest import T0
from tests.web.governance_support import TODAY, make_measure, make_policy, make_project, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(T0, tick=False):
        yield


def bearer(user: Any) -> dict[str, str]:
    _, raw = ApiToken.issue(user)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_it_lists_the_version_in_force_on_a_date(personas: dict[str, Any], program: Program) -> None:
    policy = make_policy(personas, program)
    v1 = make_version(
        personas, policy, required_roles=("perfusionist",), review_on=TODAY + dt.timedelta(days=20)
    )
    policies.sign_off(actor=personas["perfusionist"], version=v1)
    make_version(personas, policy, required_roles=("perfusionist", "intensivist"))
    client = Client()
    body = client.get("/api/v1/policies", **bearer(personas["auditor"])).json()
    assert [(p["title"], p["in_force"]["number"]) for p in body] == [("Anticoagulation", 1)]
    assert body[0]["in_force"]["in_force_from"] == "2026-11-20"
    assert [(v["number"], v["missing_roles"]) for v in body[0]["awaiting_sign_off"]] == [
        (2, ["perfusionist", "intensivist"])
    ]
    before = client.get("/api/v1/policies?on=2026-11-19", **bearer(personas["auditor"])).json()
    assert before[0]["in_force"] is None
    bad = client.get("/api/v1/policies?on=tomorrow", **bearer(personas["auditor"]))
    assert bad.status_code == 400 and "on" in bad.json()["detail"]
    reviews = client.get("/api/v1/policy-reviews?within_days=30", **bearer(personas["auditor"])).json()
    assert [(r["title"], r["days_left"]) for r in reviews] == [("Anticoagulation", 20)]
    assert client.get("/api/v1/policy-reviews?within_days=10", **bearer(personas["auditor"])).json() == []
    bad = client.get("/api/v1/policy-reviews?within_days=400", **bearer(personas["auditor"]))
    assert bad.status_code == 400 and "within_days" in bad.json()["detail"]


def test_it_serves_a_run_chart(personas: dict[str, Any], program: Program) -> None:
    measure = make_measure(personas, make_project(personas, program))
    # 9 8 7 6 5: five points going down → a trend; median 7.
    for week, value in enumerate([9, 8, 7, 6, 5]):
        qi.record_point(
            actor=personas["perfusionist"],
            measure=measure,
            period_start=TODAY - dt.timedelta(weeks=5 - week),
            value=value,
        )
    body = Client().get(f"/api/v1/qi-measures/{measure.pk}/run-chart", **bearer(personas["quality"])).json()
    assert body["median"] == 7 and body["flagged"] == [0, 1, 2, 3, 4]
    assert [(s["rule"], s["direction"], s["length"]) for s in body["signals"]] == [("trend", "down", 5)]


def test_it_keeps_governance_from_researchers_and_outsiders(
    personas: dict[str, Any], program: Program
) -> None:
    measure = make_measure(personas, make_project(personas, program))
    client = Client()
    assert client.get("/api/v1/policies", **bearer(personas["researcher"])).status_code == 403
    assert (
        client.get(f"/api/v1/policies?program_id={program.pk}", **bearer(personas["outsider"])).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/qi-measures/{measure.pk}/run-chart", **bearer(personas["researcher"])
        ).status_code
        == 403
    )
    assert (
        client.get(f"/api/v1/qi-measures/{measure.pk}/run-chart", **bearer(personas["outsider"])).status_code
        == 404
    )
    assert client.get("/api/v1/policies").status_code == 401
