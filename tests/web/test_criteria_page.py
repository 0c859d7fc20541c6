"""The program's pathway criteria page (/programs/{id}/pathway-criteria/) reads a form (CriteriaForm).

- every member who may view runs reads the criteria; changing them needs settings.manage (others get a 403)
- a change names its set, its overrides (a JSON object) and a reason, and is kept as a new row of history
- overrides that are not a JSON object, an unknown set or a missing reason are refused with a 400 naming
  what to fix, and nothing is written
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecmo_web.decisions.models import PathwayCriteria
from ecmo_web.runs.models import EcmoRun
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db

OVERRIDE = {"lateral_s_prime_cm_s": {"op": ">", "value": 10, "source": "review [S28]"}}


def _url(run: EcmoRun) -> str:
    return f"/programs/{run.program_id}/pathway-criteria/"


def _post(user: Any, run: EcmoRun, **data: str) -> Any:
    return BrowserClient(user).post(_url(run), data)


def test_it_saves_a_change_with_its_reason(personas: dict[str, Any], run: EcmoRun) -> None:
    response = _post(
        personas["director"],
        run,
        criteria_set="va_flow_reduction",
        overrides=json.dumps(OVERRIDE),
        reason="local protocol 2026",
    )
    assert response.status_code == 302
    row = PathwayCriteria.objects.get(program=run.program)
    assert row.criteria_set == "va_flow_reduction" and row.overrides == OVERRIDE
    assert row.reason == "local protocol 2026" and row.set_by == personas["director"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"criteria_set": "va_flow_reduction", "overrides": "[1, 2]", "reason": "x"}, "give a JSON object"),
        (
            {"criteria_set": "va_flow_reduction", "overrides": "{not json", "reason": "x"},
            "give a JSON object",
        ),
        ({"criteria_set": "no_such_set", "overrides": "{}", "reason": "x"}, "criteria_set: use one of"),
        ({"criteria_set": "va_flow_reduction", "overrides": json.dumps(OVERRIDE), "reason": " "}, "reason"),
    ],
)
def test_it_refuses_what_it_cannot_save_naming_the_field(
    personas: dict[str, Any], run: EcmoRun, data: dict[str, str], says: str
) -> None:
    response = _post(personas["director"], run, **data)
    assert response.status_code == 400 and says in response.content.decode()
    assert not PathwayCriteria.objects.exists()


def test_only_settings_managers_change_criteria(personas: dict[str, Any], run: EcmoRun) -> None:
    assert BrowserClient(personas["perfusionist"]).get(_url(run)).status_code == 200
    response = _post(personas["perfusionist"], run, criteria_set="vv_sweep_off", overrides="{}", reason="x")
    assert response.status_code == 403 and not PathwayCriteria.objects.exists()
