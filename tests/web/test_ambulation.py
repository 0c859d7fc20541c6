"""Ambulation and mobilisation: readiness screen, session log with the IMS level, cannula checks before and after.

Spec checklist:
- the ambulation decision stores the readiness screen evaluated against the program's criteria (demo Run 4: ready)
- a session needs the decision decided, and cannula checks before and after; IMS 0–10 (field named otherwise)
- IMS ≥ 3 counts for the mobilisation KPI and the page says so; physiotherapists log sessions (pathway.record)
- 403 for roles without pathway.record, 404 outside the program
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from ecmo_core.pathways import AMBULATION_FLAGS
from ecmo_web.decisions import actions
from ecmo_web.decisions.models import AmbulationSession, Decision
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db

AT = T0 + dt.timedelta(days=4)


@pytest.fixture
def client_for() -> Any:
    return BrowserClient


def ambulation(personas: dict[str, Any], run: EcmoRun, decided: bool = True, **screen: Any) -> Decision:
    content = {
        "mean_arterial_pressure_mmhg": 78,
        "spo2": 0.95,
        "rass": 0,
        "team_size": 5,
        "flags": list(AMBULATION_FLAGS),
        "planned_activity": "walk",
        **screen,
    }
    return actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="ambulation",
        title="Walk",
        made_at=AT,
        content=content,
        decided_by=personas["intensivist"] if decided else None,
    )


def test_it_screens_readiness(personas: dict[str, Any], run: EcmoRun) -> None:
    assert ambulation(personas, run).content["readiness"]["status"] == "ready"
    low = ambulation(personas, run, mean_arterial_pressure_mmhg=60)
    assert low.content["readiness"]["status"] == "not_ready"


def test_it_logs_a_session_with_ims_and_cannula_checks(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    decision = ambulation(personas, run)
    client = client_for(personas["physiotherapist"])
    response = client.post(
        f"/decisions/{decision.pk}/ambulation/sessions/",
        {
            "started_at": "2026-11-24T11:00",
            "duration_min": "22",
            "ims_level": "7",
            "distance_m": "18",
            "activities": "edge of bed, standing, marching, walked",
            "lowest_spo2": "0.89",
            "team_size": "5",
            "pre_check": "depth 15 cm, sutures intact, Q 3.6 at 3100 rpm",
            "post_check": "depth unchanged, Q 3.6",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    html = client.get(f"/decisions/{decision.pk}/ambulation/").content.decode()
    assert "7 · counts" in html and "depth 15 cm" in html
    response = client.post(
        f"/decisions/{decision.pk}/ambulation/sessions/",
        {
            "started_at": "2026-11-24T15:00",
            "duration_min": "10",
            "ims_level": "11",
            "pre_check": "x",
            "post_check": "y",
        },
    )
    assert response.status_code == 400 and AmbulationSession.objects.count() == 1


def test_it_requires_the_checks_and_a_decided_screen(personas: dict[str, Any], run: EcmoRun) -> None:
    decision = ambulation(personas, run)
    with pytest.raises(ValidationError) as err:
        actions.record_ambulation_session(
            actor=personas["physiotherapist"],
            decision=decision,
            started_at=AT,
            duration_min=10,
            ims_level=3,
            pre_check=" ",
            post_check="ok",
        )
    assert "pre_check" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        actions.record_ambulation_session(
            actor=personas["physiotherapist"],
            decision=decision,
            started_at=AT,
            duration_min=10,
            ims_level=3,
            pre_check="ok",
            post_check="ok",
            lowest_spo2=89,
        )
    assert "lowest_spo2" in err.value.message_dict
    open_decision = ambulation(personas, run, decided=False)
    with pytest.raises(ValidationError):
        actions.record_ambulation_session(
            actor=personas["physiotherapist"],
            decision=open_decision,
            started_at=AT,
            duration_min=10,
            ims_level=3,
            pre_check="ok",
            post_check="ok",
        )


def test_it_checks_permissions(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    decision = ambulation(personas, run)
    assert (
        client_for(personas["pharmacist"])
        .post(f"/decisions/{decision.pk}/ambulation/sessions/", {})
        .status_code
        == 403
    )
    assert client_for(personas["outsider"]).get(f"/decisions/{decision.pk}/ambulation/").status_code == 404
