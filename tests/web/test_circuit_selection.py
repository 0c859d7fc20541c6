"""Circuit and cannula selection as the decision kind ``circuit_selection`` (issue 14 §2).

Spec checklist:
- the page prefills the patient from the run and checks every catalogue item against the flow target,
  showing why each passes or fails and the proposal (V-A: cardiac index × BSA; V-V: the VV model)
- recording with who took part, who decided and a dissent keeps them on the Decision; deciding puts the
  chosen oxygenator, pump, tubing, console and cannulas on the run through the runs actions
- a flow at which no cannula fits says so and why; with "put on the run" ticked it cannot be recorded
  without a choice, without it the decision is recorded and nothing is installed
- an open selection decided later (decisions.actions.decide) installs the parts then
- the team may choose an item that fails; the decision keeps it as chosen against the checks
- the API records the kind (``POST /api/v1/runs/{id}/decisions``) with the same validation
- the program's settings (limits) change the result; a nurse cannot open the page
"""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from ecmo_web.decisions import actions as decision_actions
from ecmo_web.decisions.models import Decision
from ecmo_web.perfusion.actions.settings import set_settings
from ecmo_web.perfusion.apply import apply_selection
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import Cannula, CatalogueItem, Component, EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient
from tests.web.perfusion_support import catalogue  # noqa: F401

pytestmark = pytest.mark.django_db
NOW = T0 + dt.timedelta(minutes=30)


@pytest.fixture
def va_run(personas: dict[str, Any], catalogue: dict[str, CatalogueItem]) -> EcmoRun:  # noqa: F811
    # 175 cm, 80 kg → BSA 1.972 m²; CI 2.4 → 4.73 L/min → 4.8 L/min target (worked in tests/core/test_circuit.py)
    return run_actions.start_run(
        actor=personas["perfusionist"],
        program=personas["perfusionist"].memberships.get().program,
        patient_code="TEST-0101",
        sex="female",
        birth_year=1975,
        indication="cardiac",
        mode="va",
        started_at=T0,
        weight_kg=80,
        height_cm=175,
    )


def _page(run: EcmoRun) -> str:
    return f"/runs/{run.pk}/circuit-selection/"


def _post(client: BrowserClient, run: EcmoRun, **fields: Any) -> Any:
    data = {
        "title": "Circuit and cannula selection",
        "made_at": "2026-11-20T10:20",
        "k-configuration": "va",
        "k-weight_kg": "80",
        "k-height_cm": "175",
        "k-cardiac_index_l_min_m2": "2.4",
        "k-install_on_run": "on",
    }
    data.update({k: str(v) for k, v in fields.items()})
    with time_machine.travel(NOW, tick=False):
        return client.post(_page(run), data)


def test_it_checks_the_catalogue_and_shows_why(personas: dict[str, Any], va_run: EcmoRun) -> None:
    client = BrowserClient(personas["perfusionist"])
    with time_machine.travel(NOW, tick=False):
        html = client.get(_page(va_run)).content.decode()
    assert 'value="80.0"' in html and 'value="175.0"' in html and 'value="2.4"' in html
    response = _post(client, va_run, evaluate="1")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Flow target 4.8 L/min" in html
    assert "pressure drop 84 mmHg at 4.8 L/min ≤ limit 100 mmHg" in html  # 23 Fr drainage, proposed
    assert "pressure drop 149 mmHg at 4.8 L/min ≤ limit 150 mmHg" in html  # 19 Fr return, proposed
    assert "pressure drop 205 mmHg at 4.8 L/min &gt; limit 150 mmHg" in html  # 17 Fr return fails
    assert "rated flow 5 L/min &lt; 5.8 L/min needed" in html
    assert html.count("proposed</span>") == 5
    assert not Decision.objects.exists()  # checking writes nothing


def test_it_records_who_decided_and_puts_the_parts_on_the_run(
    personas: dict[str, Any],
    va_run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    client = BrowserClient(personas["perfusionist"])
    response = _post(
        client,
        va_run,
        record="1",
        participant_user_0=personas["surgeon"].pk,
        participant_contribution_0="cannulates",
        dissent_user_0=personas["cardiologist"].pk,
        dissent_reason_0="prefers a 21 Fr return for the leg",
        decided_by=personas["intensivist"].pk,
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    decision = Decision.objects.get(kind="circuit_selection")
    assert decision.status == "decided" and decision.decided_by == personas["intensivist"]
    assert decision.decided_by_role == "intensivist"
    roles = {p.user.username: p.role for p in decision.participants.all()}
    assert roles == {"surgeon": "surgeon", "cardiologist": "cardiologist", "intensivist": "intensivist"}
    assert decision.dissents.get().reason == "prefers a 21 Fr return for the leg"
    assert decision.content["flow_target_l_min_used"] == 4.8
    components = {c.kind: c for c in Component.objects.filter(circuit__run=va_run, removed_at__isnull=True)}
    assert components["oxygenator"].catalogue_item == catalogue["Oxygenator A (PMP 1.8 m²)"]
    assert components["pump_head"].catalogue_item == catalogue["Centrifugal pump head B"]
    assert components["tubing_pack"].model == "3/8 in tubing pack"
    assert components["console"].model == "Console C"
    cannulas = {c.purpose: c for c in Cannula.objects.filter(run=va_run)}
    assert (cannulas["drainage"].size_fr, cannulas["drainage"].site) == (23, "right_femoral_vein")
    assert (cannulas["return"].size_fr, cannulas["return"].site) == (19, "left_femoral_artery")
    assert cannulas["return"].maker_model == "Generic Return 19 Fr 18 cm"
    html = client.get(f"/runs/{va_run.pk}/").content.decode()
    assert "Generic Oxygenator A (PMP 1.8 m²)" in html and "19 Fr · 18 cm" in html


def test_it_says_when_nothing_fits(personas: dict[str, Any], va_run: EcmoRun) -> None:
    client = BrowserClient(personas["perfusionist"])
    # 6.6 L/min: no oxygenator (7.92 needed), no drainage (25 Fr 116 mmHg), no return (21 Fr 193 mmHg)
    response = _post(client, va_run, record="1", **{"k-flow_target_l_min": "6.6"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing in the catalogue fits for" in html
    assert "no drainage cannula in the catalogue fits" in html and "116 mmHg" in html
    assert "nothing in the catalogue fits: choose one" in html
    # Without installing, the team can still record what it decided (e.g. to refer) and nothing is installed
    data = {"k-flow_target_l_min": "6.6", "k-install_on_run": "", "decided_by": personas["intensivist"].pk}
    response = _post(client, va_run, record="1", **data)
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.content["selection"]["proposal"]["drainage_cannula"] is None
    assert any("no return cannula" in m for m in decision.content["selection"]["nothing_fits"])
    assert not Cannula.objects.filter(run=va_run).exists()


def test_it_installs_when_an_open_selection_is_decided_later(
    personas: dict[str, Any], va_run: EcmoRun
) -> None:
    client = BrowserClient(personas["perfusionist"])
    assert _post(client, va_run, record="1").status_code == 302
    decision = Decision.objects.get()
    assert decision.status == "open" and not Cannula.objects.filter(run=va_run).exists()
    with time_machine.travel(NOW, tick=False):
        decision_actions.decide(
            actor=personas["perfusionist"],
            decision=decision,
            decided_by=personas["surgeon"].pk,
            decided_at=T0 + dt.timedelta(minutes=25),
        )
    assert sorted(Cannula.objects.filter(run=va_run).values_list("size_fr", flat=True)) == [19, 23]
    assert Component.objects.filter(circuit__run=va_run, kind="oxygenator").count() == 1


def test_it_refuses_a_cannula_without_a_site_naming_the_field(
    personas: dict[str, Any],
    va_run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    # The form fills in a default site for every cannula it keeps; a caller that passes none gets the field named
    # (not the model's "site cannot be null"), and no cannula is written.
    decision = SimpleNamespace(run=va_run, decided_at=NOW, pk=0, title="circuit selection")
    data = {
        "drainage_cannula": catalogue["Multistage venous drainage 23 Fr 55 cm"],
        "return_cannula": catalogue["Return 19 Fr 18 cm"],
        "return_site": "left_femoral_artery",
    }
    with pytest.raises(ValidationError) as raised:
        apply_selection(actor=personas["perfusionist"], decision=decision, data=data)
    assert raised.value.message_dict == {"content.drainage_site": ["choose where this cannula goes in"]}
    assert not Cannula.objects.filter(run=va_run).exists()


def test_it_keeps_a_choice_made_against_the_checks(
    personas: dict[str, Any],
    va_run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    client = BrowserClient(personas["perfusionist"])
    r17 = catalogue["Return 17 Fr 18 cm"]
    response = _post(
        client, va_run, record="1", decided_by=personas["intensivist"].pk, **{"k-return_cannula": r17.pk}
    )
    assert response.status_code == 302
    decision = Decision.objects.get()
    assert decision.content["return_cannula"] == r17.pk
    assert decision.content["chosen_against_the_checks"] == [
        "Generic Return 17 Fr 18 cm: return: pressure drop 205 mmHg at 4.8 L/min > limit 150 mmHg"
    ]
    assert Cannula.objects.get(run=va_run, purpose="return").size_fr == 17
    check = decision.content["catalogue_check"]
    assert check["status"] == "criteria_not_met"
    assert [c["status"] for c in check["criteria"] if c["label"].startswith("Return cannula")] == ["not_met"]
    html = BrowserClient(personas["auditor"]).get(f"/decisions/{decision.pk}/").content.decode()
    assert "Chosen parts against the catalogue checks" in html
    assert "Generic Return 17 Fr 18 cm" in html and "pressure drop ≤ 150 mmHg" in html


def test_it_uses_the_vv_model_and_flags_recirculation(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    # The run fixture: 80 kg VV. VO2 240, Hb 10, CO 6, target 0.88: 1/Qeff = 1/6 + 0.12 × 134/240 = 0.233667
    # → 4.2796 → 4.3 L/min. 21 Fr drains 85 + 40 × 0.3 = 97 ≤ 100 (19 Fr stops at 4): proposed.
    client = BrowserClient(personas["perfusionist"])
    data = {
        "k-configuration": "vv",
        "k-hb_g_dl": "10",
        "k-vo2_ml_min": "240",
        "k-cardiac_output_l_min": "6",
        "k-target_arterial_so2": "0.88",
        "k-tip_distance_cm": "8",
        "k-cardiac_index_l_min_m2": "",
        "evaluate": "1",
    }
    html = _post(client, run, **data).content.decode()
    assert "Flow target 4.3 L/min" in html
    assert "recirculation risk: tip-to-tip distance 8 cm is under 10 cm" in html
    assert "pressure drop 97 mmHg at 4.3 L/min ≤ limit 100 mmHg" in html


def test_it_reads_the_program_limits(personas: dict[str, Any], va_run: EcmoRun) -> None:
    set_settings(
        actor=personas["director"],
        program=va_run.program,
        values={"return_pressure_drop_max_mmhg": 140},
        reason="tighter return limit after two haemolysis cases",
    )
    html = _post(BrowserClient(personas["perfusionist"]), va_run, evaluate="1").content.decode()
    assert "pressure drop 149 mmHg at 4.8 L/min &gt; limit 140 mmHg" in html


def test_it_records_the_kind_through_the_api(
    personas: dict[str, Any],
    va_run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    from django.test import Client

    from ecmo_web.accounts.models import ApiToken

    _, token = ApiToken.issue(personas["perfusionist"], label="test")
    client = Client()
    body = {
        "kind": "circuit_selection",
        "title": "Cannulas for VA",
        "made_at": (T0 + dt.timedelta(minutes=20)).isoformat(),
        "content": {"configuration": "va", "weight_kg": 80, "height_cm": 175, "cardiac_index_l_min_m2": 2.4},
        "decided_by": "intensivist",
    }
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            f"/api/v1/runs/{va_run.pk}/decisions",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 201, response.content
        assert (
            response.json()["content"]["selection"]["proposal"]["return_cannula"]
            == catalogue["Return 19 Fr 18 cm"].pk
        )
        bad = client.post(
            f"/api/v1/runs/{va_run.pk}/decisions",
            json.dumps({**body, "content": {"configuration": "va", "weight_kg": 80}}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
    assert bad.status_code == 400 and "content.height_cm" in bad.json()["detail"]
    assert not Cannula.objects.filter(run=va_run).exists()  # install_on_run was not asked for


def test_it_is_closed_to_roles_that_cannot_decide(personas: dict[str, Any], va_run: EcmoRun) -> None:
    assert BrowserClient(personas["bedside_nurse"]).get(_page(va_run)).status_code == 403
    assert BrowserClient(personas["outsider"]).get(_page(va_run)).status_code == 404
