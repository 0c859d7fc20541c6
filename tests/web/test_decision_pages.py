"""Decision pages: the run panel, the list, a form per kind, the detail with its people, decide/participant/dissent.

Spec checklist:
- the run page shows a Decisions panel with a "Record a decision" button and open/recent decisions
- every kind's form renders; a POST records the decision and redirects (to the pathway page for trials,
  checklists, transports and mobilisation)
- participant rows: each with role (defaulting to the membership role) and contribution; HTMX adds a row
- the detail shows who took part with their role, who decided (and their role), the dissent and its reason,
  and the saved calculator results
- "Check criteria" previews the pathway evaluation without saving
- errors are shown beside the field that caused them (content fields, participant rows); nothing is saved
- decide, add a participant, record and resolve dissent from the detail page; audit events written
- 404 outside the program, 403 without decision.record; read-only roles see the detail without the forms
"""

from __future__ import annotations

from typing import Any

import pytest

from ecmo_web.audit.models import AuditEvent
from ecmo_web.decisions import actions
from ecmo_web.decisions.kinds import KIND_FORMS
from ecmo_web.decisions.models import Decision, Dissent
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_for() -> Any:
    return BrowserClient


LOCAL = "2026-11-20T10:30"  # Europe/London = UTC in November


def _common(personas: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "title": "VV candidacy",
        "made_at": LOCAL,
        "recommendation": "Cannulate",
        "recommended_by": str(personas["perfusionist"].pk),
        "participant_user_0": str(personas["perfusionist"].pk),
        "participant_contribution_0": "proposed",
        "participant_user_1": str(personas["surgeon"].pk),
        "decided_by": str(personas["intensivist"].pk),
        "decided_at": LOCAL,
        **extra,
    }


def test_it_shows_the_decisions_panel_on_the_run_page(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="modality",
        title="Stay V-V",
        made_at=T0,
        content={"mode": "vv", "rationale": "lungs only"},
    )
    page = client_for(personas["bedside_nurse"]).get(f"/runs/{run.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    # The nurse reads the decisions; recording one is for roles holding decision.record (issue 11 §6).
    assert "Stay V-V" in html and "open" in html and "Record a decision" not in html
    own = client_for(personas["perfusionist"]).get(f"/runs/{run.pk}/").content.decode()
    assert "Record a decision" in own


@pytest.mark.parametrize("kind", list(KIND_FORMS))
def test_it_renders_the_form_of_every_kind(
    personas: dict[str, Any], run: EcmoRun, client_for: Any, kind: str
) -> None:
    page = client_for(personas["perfusionist"]).get(f"/runs/{run.pk}/decisions/new/{kind}/")
    assert page.status_code == 200
    assert 'name="participant_user_0"' in page.content.decode()


def test_it_lists_the_kinds_to_choose_from(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    page = client_for(personas["perfusionist"]).get(f"/runs/{run.pk}/decisions/new/")
    assert page.status_code == 200 and "Weaning trial" in page.content.decode()
    assert (
        client_for(personas["perfusionist"]).get(f"/runs/{run.pk}/decisions/new/nonsense/").status_code == 302
    )


def test_it_records_a_candidacy_from_the_form_and_shows_who_took_part(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    client = client_for(personas["perfusionist"])
    response = client.post(
        f"/runs/{run.pk}/decisions/new/candidacy/",
        _common(
            personas,
            **{
                "k-modality": "vv",
                "k-indications": ["eolia_pf_80_6h"],
                "k-pf_ratio_mmhg": "68",
                "k-pf_hours": "7",
                "options": "VV ECMO: P/F 68\nConventional care",
                "inputs": "P/F: 68 on FiO2 1.0",
                "dissent_user_0": str(personas["ecmo_specialist"].pk),
                "dissent_reason_0": "access site",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    decision = Decision.objects.get()
    assert response["Location"] == f"/decisions/{decision.pk}/"
    assert decision.options == [
        {"label": "VV ECMO", "note": "P/F 68"},
        {"label": "Conventional care", "note": ""},
    ]
    assert decision.inputs == {"P/F": "68 on FiO2 1.0"}
    detail = client_for(personas["auditor"]).get(response["Location"]).content.decode()
    for text in (
        "Who decided",
        "Intensivist",
        "Perfusionist",
        "Surgeon",
        "proposed",
        "access site",
        "VV entry criteria (EOLIA)",
    ):
        assert text in detail, text
    assert "Record who decided" not in detail  # auditors read, they do not write


def test_it_previews_criteria_without_saving(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    response = client_for(personas["perfusionist"]).post(
        f"/runs/{run.pk}/decisions/new/ambulation/",
        _common(personas, preview="1", **{"k-mean_arterial_pressure_mmhg": "60", "k-spo2": "0.95"}),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ambulation readiness screen" in html and "not ready" in html
    assert not Decision.objects.exists()


def test_it_shows_errors_beside_the_field_and_saves_nothing(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    client = client_for(personas["perfusionist"])
    response = client.post(
        f"/runs/{run.pk}/decisions/new/candidacy/", _common(personas, **{"k-modality": "vv", "k-spo2": "92"})
    )
    assert response.status_code == 400
    assert "fraction" in response.content.decode() or "less than or equal to 1" in response.content.decode()
    response = client.post(
        f"/runs/{run.pk}/decisions/new/candidacy/",
        _common(personas, decided_by=str(personas["physiotherapist"].pk), **{"k-modality": "vv"}),
    )
    assert response.status_code == 400
    assert "cannot make decisions" in response.content.decode()
    assert not Decision.objects.exists()


def test_it_adds_a_participant_row_with_htmx(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    response = client_for(personas["perfusionist"]).get(
        f"/runs/{run.pk}/decisions/participant-row/?index=6", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'name="participant_user_6"' in response.content.decode()


def test_it_accepts_rows_beyond_the_first_six(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    data = _common(
        personas,
        **{
            "k-modality": "vv",
            "participant_user_7": str(personas["pharmacist"].pk),
            "participant_role_7": "pharmacist",
        },
    )
    response = client_for(personas["perfusionist"]).post(f"/runs/{run.pk}/decisions/new/candidacy/", data)
    assert response.status_code == 302
    assert Decision.objects.get().participants.filter(user=personas["pharmacist"], role="pharmacist").exists()


def test_it_decides_adds_participants_and_dissent_from_the_detail(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    decision = actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="modality",
        title="Stay V-V",
        made_at=T0,
        content={"mode": "vv", "rationale": "lungs only"},
    )
    client = client_for(personas["intensivist"])
    assert (
        client.post(
            f"/decisions/{decision.pk}/participants/",
            {"p-user": personas["cardiologist"].pk, "p-contribution": "echo"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/decisions/{decision.pk}/dissent/",
            {"d-user": personas["surgeon"].pk, "d-reason": "prefers V-A"},
        ).status_code
        == 302
    )
    dissent = Dissent.objects.get()
    assert (
        client.post(f"/dissent/{dissent.pk}/resolve/", {"r-resolution": "echo shows good RV"}).status_code
        == 302
    )
    response = client.post(
        f"/decisions/{decision.pk}/decide/", {"decided_by": personas["intensivist"].pk, "decided_at": LOCAL}
    )
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.status == "decided" and decision.decided_by == personas["intensivist"]
    html = client.get(f"/decisions/{decision.pk}/").content.decode()
    assert "echo shows good RV" in html and "prefers V-A" in html and "Cardiologist" in html
    assert {
        "decision.participant_added",
        "decision.dissent_recorded",
        "decision.dissent_resolved",
        "decision.decided",
    } <= set(AuditEvent.objects.values_list("action", flat=True))
    again = client.post(
        f"/decisions/{decision.pk}/decide/", {"decided_by": personas["intensivist"].pk, "decided_at": LOCAL}
    )
    assert again.status_code == 400


def test_it_hides_and_forbids(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    decision = actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="modality",
        title="Stay V-V",
        made_at=T0,
        content={"mode": "vv", "rationale": "x"},
    )
    outsider = client_for(personas["outsider"])
    assert outsider.get(f"/runs/{run.pk}/decisions/").status_code == 404
    assert outsider.get(f"/decisions/{decision.pk}/").status_code == 404
    nurse = client_for(personas["bedside_nurse"])
    assert nurse.get(f"/runs/{run.pk}/decisions/new/candidacy/").status_code == 403
    assert nurse.post(f"/decisions/{decision.pk}/decide/", {}).status_code == 403
    assert nurse.get(f"/runs/{run.pk}/decisions/").status_code == 200
    assert client_for(personas["researcher"]).get(f"/decisions/{decision.pk}/").status_code == 403


def test_it_puts_decisions_trials_and_sessions_on_the_run_timeline(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    import datetime as dt

    from ecmo_web import timeline

    start = T0 + dt.timedelta(hours=2)
    trial = actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="weaning_trial",
        title="Sweep off",
        made_at=start,
        content={"trial_type": "vv_sweep_off", "started_at": start.isoformat()},
        decided_by=personas["intensivist"],
    )
    actions.record_observation(
        actor=personas["perfusionist"], decision=trial, at=start, values={"sao2": 0.95}
    )
    walk = actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="ambulation",
        title="Walk",
        made_at=start,
        content={"spo2": 0.95},
        decided_by=personas["intensivist"],
    )
    actions.record_ambulation_session(
        actor=personas["physiotherapist"],
        decision=walk,
        started_at=start,
        duration_min=20,
        ims_level=4,
        pre_check="ok",
        post_check="ok",
    )
    lanes = {lane.title: lane for lane in timeline.build(run, T0 + dt.timedelta(days=1)).lanes}
    assert {"Decisions", "Weaning trials", "Mobilisation"} <= set(lanes)
    assert lanes["Decisions"].points[0].url.startswith("/decisions/")
    html = client_for(personas["bedside_nurse"]).get(f"/runs/{run.pk}/").content.decode()
    assert "Weaning trials" in html and "IMS 4" in html
