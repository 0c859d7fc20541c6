"""GET|POST /api/v1/runs/{run_id}/decisions, GET /api/v1/decisions/{id}, POST /api/v1/decisions/{id}/decide.

Spec checklist:
- POST records kind, inputs, saved calculations (recomputed by the server), options, recommendation,
  participants with their roles (defaulting to the membership role), who decided and when, dissent with its
  reason; GET returns the same people and roles
- kinds accept the spellings of core-api and the demo script ("configuration", "circuit change")
- a decision without decided_by stays open; /decide closes it; the decider must hold decision.record
- targets a decision sets go to the run (RunTarget) so the surveillance rules see them
- 404 for a run outside the caller's programs, 403 without decision.record (GET needs run.view only)
- 400 naming the field: unknown kind, bad content, participant outside the program, bad calculator argument,
  malformed body, dissent without a reason
- every write appends audit events; nothing is half-written on error
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from ecmo_web.accounts.models import ApiToken
from ecmo_web.audit.models import AuditEvent
from ecmo_web.decisions.models import Decision, SavedCalculation
from ecmo_web.runs.models import EcmoRun, RunTarget
from tests.web.conftest import T0

pytestmark = pytest.mark.django_db

RESP = {
    "age_years": 52,
    "immunocompromised": False,
    "ventilation_hours_before_ecmo": 30,
    "diagnosis": "viral_pneumonia",
    "cns_dysfunction": False,
    "nonpulmonary_infection": False,
    "neuromuscular_blockade": True,
    "inhaled_nitric_oxide": True,
    "bicarbonate_infusion": False,
    "cardiac_arrest": False,
    "paco2_mmhg": 72,
    "peak_inspiratory_pressure_cmh2o": 36,
}


class TokenClient:
    """Calls the API with a bearer token (session posts also need the CSRF token: see the last test)."""

    def __init__(self, user: Any) -> None:
        _, raw = ApiToken.issue(user)
        self.client = Client()
        self.auth = f"Bearer {raw}"

    def get(self, path: str) -> Any:
        return self.client.get(path, HTTP_AUTHORIZATION=self.auth)

    def post(self, path: str, data: str, content_type: str) -> Any:
        return self.client.post(path, data, content_type=content_type, HTTP_AUTHORIZATION=self.auth)


@pytest.fixture
def client_for() -> Any:
    return TokenClient


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def url(run: EcmoRun) -> str:
    return f"/api/v1/runs/{run.pk}/decisions"


def candidacy(**extra: Any) -> dict[str, Any]:
    return {
        "kind": "candidacy",
        "title": "VV candidacy",
        "made_at": (T0.replace(hour=8)).isoformat(),
        "recommendation": "Cannulate for VV ECMO",
        "recommended_by": "perfusionist",
        "options": ["VV ECMO", {"label": "Continue conventional care", "note": "P/F 68 for 7 h"}],
        "inputs": {"pf_ratio_mmhg": 68, "peep_cmh2o": 16},
        "content": {
            "modality": "vv",
            "indications": ["eolia_pf_80_6h"],
            "pf_ratio_mmhg": 68,
            "pf_hours": 7,
            "arterial_ph": 7.22,
            "paco2_mmhg": 72,
            "hypercapnia_hours": 4,
        },
        "calculations": [{"calculator": "resp", "arguments": RESP}],
        "participants": [
            {"username": "perfusionist", "contribution": "proposed"},
            {"username": "ecmo_specialist"},
            {"username": "bedside_nurse", "role": "bedside_nurse"},
        ],
        "decided_by": "intensivist",
        "dissent": [
            {
                "username": "ecmo_specialist",
                "reason": "worried about femoral access",
                "resolution": "ultrasound first",
            }
        ],
        **extra,
    }


def test_it_records_a_decision_with_participants_roles_decider_and_dissent(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    client = client_for(personas["perfusionist"])
    response = post(client, url(run), candidacy())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "decided"
    assert body["decided_by"]["username"] == "intensivist" and body["decided_by"]["role"] == "intensivist"
    people = {p["username"]: (p["role"], p["contribution"]) for p in body["participants"]}
    assert people["perfusionist"][0] == "perfusionist" and "proposed" in people["perfusionist"][1]
    assert "recommended" in people["perfusionist"][1]
    assert people["ecmo_specialist"] == ("ecmo_specialist", "took part; dissented")
    assert people["intensivist"] == ("intensivist", "decided")
    assert body["dissent"][0]["reason"] == "worried about femoral access"
    assert body["dissent"][0]["resolved_at"] is not None
    calc = body["calculations"][0]
    assert (
        calc["calculator"] == "resp"
        and calc["result"]["points"] == 4
        and calc["result"]["risk_class"] == "II"
    )
    assert calc["core_version"] and "doi" in calc["reference"].lower()
    assert body["content"]["eolia"]["status"] == "met"
    assert body["options"][1] == {"label": "Continue conventional care", "note": "P/F 68 for 7 h"}

    listed = client_for(personas["auditor"]).get(url(run)).json()
    assert listed[0]["id"] == body["id"]
    assert {p["username"]: p["role"] for p in listed[0]["participants"]} == {
        p["username"]: p["role"] for p in body["participants"]
    }
    assert listed[0]["decided_by"]["username"] == "intensivist"
    detail = client_for(personas["auditor"]).get(f"/api/v1/decisions/{body['id']}").json()
    assert detail["participants"] == body["participants"]
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"decision.recorded", "decision.decided", "decision.calculation_saved"} <= actions


def test_it_leaves_a_decision_open_and_closes_it_with_decide(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    client = client_for(personas["perfusionist"])
    body = candidacy()
    body.pop("decided_by")
    created = post(client, url(run), body).json()
    assert created["status"] == "open" and created["decided_by"] is None
    decided = post(
        client,
        f"/api/v1/decisions/{created['id']}/decide",
        {"decided_by": "intensivist", "decided_at": T0.replace(hour=9).isoformat()},
    )
    assert decided.status_code == 200, decided.content
    assert decided.json()["decided_by"]["role"] == "intensivist"
    again = post(client, f"/api/v1/decisions/{created['id']}/decide", {"decided_by": "intensivist"})
    assert again.status_code == 400 and "decided_by" in again.json()["detail"]


def test_it_refuses_a_decider_whose_role_cannot_decide(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    response = post(client_for(personas["perfusionist"]), url(run), candidacy(decided_by="physiotherapist"))
    assert response.status_code == 400
    assert "decided_by" in response.json()["detail"]
    assert not Decision.objects.exists()


def test_it_accepts_core_api_kind_spellings(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    client = client_for(personas["perfusionist"])
    response = post(
        client,
        url(run),
        {
            "kind": "configuration",
            "title": "Stay V-V",
            "made_at": T0.isoformat(),
            "content": {"mode": "vv", "rationale": "lungs"},
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "modality"
    response = post(
        client,
        url(run),
        {
            "kind": "circuit change",
            "made_at": T0.isoformat(),
            "content": {"reason": "ΔP rising", "component_kind": "oxygenator", "urgency": "planned"},
        },
    )
    assert response.status_code == 201 and response.json()["kind"] == "circuit_change"
    assert response.json()["title"] == "Circuit change"
    assert client.get(url(run) + "?kind=circuit%20change").json()[0]["kind"] == "circuit_change"


def test_it_sets_the_targets_a_decision_makes_so_rules_see_them(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    client = client_for(personas["perfusionist"])
    flow = post(
        client,
        url(run),
        {
            "kind": "flow_target",
            "title": "Flow from the VV model",
            "made_at": T0.isoformat(),
            "content": {
                "target_arterial_so2": 0.88,
                "vo2_ml_min": 250,
                "hb_g_dl": 10,
                "cardiac_output_l_min": 6,
                "recirculation_fraction": 0.1,
                "post_oxygenator_po2_low_mmhg": 150,
            },
            "decided_by": "intensivist",
        },
    )
    assert flow.status_code == 201, flow.content
    body = flow.json()
    model = body["content"]["model"]["ecmo_blood_flow_l_min"]
    target = RunTarget.objects.get(run=run, parameter="blood_flow_l_min")
    assert target.low == body["content"]["blood_flow_target_l_min"] >= model
    assert target.low - model < 0.1
    assert body["calculations"][0]["calculator"] == "vv_required_blood_flow"
    assert RunTarget.objects.filter(run=run, parameter="post_oxygenator_po2_mmhg", low=150).exists()
    assert {t["parameter"] for t in body["targets"]} == {"blood_flow_l_min", "post_oxygenator_po2_mmhg"}
    anticoag = post(
        client,
        url(run),
        {
            "kind": "anticoagulation",
            "title": "UFH to anti-Xa",
            "made_at": T0.isoformat(),
            "decided_by": "intensivist",
            "content": {"agent": "ufh", "test": "anti_xa_iu_ml", "apply_target": True},
        },
    )
    assert anticoag.status_code == 201, anticoag.content
    axa = RunTarget.objects.get(run=run, parameter="anti_xa_iu_ml")
    assert (axa.low, axa.high, axa.agent) == (0.3, 0.7, "ufh")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "astrology"}, "kind"),
        ({"content": {"modality": "vvv"}}, "content.modality"),
        ({"content": {"modality": "vv", "pf_ratio_mmhg": 5000}}, "content.pf_ratio_mmhg"),
        ({"content": {"modality": "vv", "indications": ["massive_pe"]}}, "content.indications"),
        ({"participants": [{"username": "outsider"}]}, "participants[0]"),
        ({"participants": [{"username": "perfusionist"}, {"username": "perfusionist"}]}, "participants[1]"),
        ({"participants": [{"username": "intensivist", "role": "wizard"}]}, "participants[0]"),
        ({"participants": [{}]}, "participants[0]"),
        (
            {"calculations": [{"calculator": "resp", "arguments": {**RESP, "age_years": 7}}]},
            "calculations[0].age_years",
        ),
        (
            {"calculations": [{"calculator": "resp", "arguments": {**RESP, "paco2_mmhg": "high"}}]},
            "calculations[0].paco2_mmhg",
        ),
        ({"dissent": [{"username": "ecmo_specialist"}]}, "dissent[0]"),
        ({"participants": "everyone"}, "participants"),
        ({"made_at": "yesterday"}, "made_at"),
        ({"made_at": "2030-01-01T00:00:00Z"}, "made_at"),
        ({"title": "   "}, "title"),
        ({"session_id": 999}, "session_id"),
        ({"recommended_by": "outsider"}, "recommended_by"),
        ({"calculation_ids": [999]}, "calculation_ids"),
        ({"target_ids": [999]}, "target_ids"),
        ({"options": [{"label": ""}]}, "options[0].label"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(
    personas: dict[str, Any], run: EcmoRun, client_for: Any, change: dict[str, Any], field: str
) -> None:
    response = post(client_for(personas["perfusionist"]), url(run), candidacy(**change))
    assert response.status_code == 400, response.content
    assert field in response.json()["detail"], response.json()
    assert not Decision.objects.exists() and not SavedCalculation.objects.exists()


def test_it_rejects_a_body_that_is_not_an_object(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    client = client_for(personas["perfusionist"])
    response = client.post(url(run), "[1, 2]", content_type="application/json")
    assert response.status_code == 400 and "body" in response.json()["detail"]
    response = client.post(url(run), "{not json", content_type="application/json")
    assert response.status_code == 400 and "body" in response.json()["detail"]


def test_it_hides_other_programs_runs_and_forbids_roles_without_the_action(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    assert client_for(personas["outsider"]).get(url(run)).status_code == 404
    assert post(client_for(personas["outsider"]), url(run), candidacy()).status_code == 404
    assert post(client_for(personas["bedside_nurse"]), url(run), candidacy()).status_code == 403
    assert post(client_for(personas["auditor"]), url(run), candidacy()).status_code == 403
    assert client_for(personas["researcher"]).get(url(run)).status_code == 403
    assert client_for(personas["bedside_nurse"]).get(url(run)).status_code == 200
    decision = post(client_for(personas["perfusionist"]), url(run), candidacy()).json()
    assert client_for(personas["outsider"]).get(f"/api/v1/decisions/{decision['id']}").status_code == 404
    assert (
        post(
            client_for(personas["pharmacist"]),
            f"/api/v1/decisions/{decision['id']}/decide",
            {"decided_by": "intensivist"},
        ).status_code
        == 403
    )


def test_it_requires_the_csrf_token_for_session_posts(personas: dict[str, Any], run: EcmoRun) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(personas["perfusionist"])
    response = browser.post(url(run), json.dumps(candidacy()), content_type="application/json")
    assert response.status_code == 403
    token = "k" * 32  # what a page's csrf_token would have set as the cookie
    browser.cookies["csrftoken"] = token
    response = browser.post(
        url(run), json.dumps(candidacy()), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 201, response.content
