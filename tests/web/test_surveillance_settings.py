"""Surveillance settings per program (/programs/{id}/surveillance/settings/).

- only roles with settings.manage (director, admin) open the page; others get a 403, another program a 404
- every rule setting shows its default, site range and source; saving keeps the earlier settings as history
- a value outside its site range is refused naming the dotted setting and the range; a reason is required
- the rules use the setting in force at each moment (a stricter post-oxygenator PO2 threshold fires earlier)
- escalation minutes per severity and the role come from the settings
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from ecmo_core.surveillance import Sample
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.models import Alert, SurveillanceSetting
from tests.web.conftest import T0
from tests.web.surveil_support import post_form

MIN = dt.timedelta(minutes=1)


def _url(program: Any) -> str:
    return f"/programs/{program.pk}/surveillance/settings/"


def test_it_is_restricted_to_settings_managers(
    program: Any, personas: dict[str, Any], client_for: Any
) -> None:
    assert client_for(personas["director"]).get(_url(program)).status_code == 200
    assert client_for(personas["admin"]).get(_url(program)).status_code == 200
    assert client_for(personas["perfusionist"]).get(_url(program)).status_code == 403
    assert client_for(personas["outsider"]).get(_url(program)).status_code == 404


def test_it_shows_defaults_ranges_and_sources(
    program: Any, personas: dict[str, Any], client_for: Any
) -> None:
    body = client_for(personas["director"]).get(_url(program)).content.decode()
    assert "oxygenator.post_po2_low" in body and 'name="oxygenator.post_po2_low__threshold_mmhg"' in body
    assert "150 to 200 mmHg" in body and "reference §1.2" in body


def test_it_saves_with_history_and_a_reason(program: Any, personas: dict[str, Any], client_for: Any) -> None:
    client = client_for(personas["director"])
    data = {
        "oxygenator.post_po2_low__threshold_mmhg": "180",
        "escalate_warning_after_min": "20",
        "escalate_critical_after_min": "5",
        "escalate_to_role": "perfusionist",
        "reason": "",
    }
    refused = post_form(client, _url(program), data)
    assert refused.status_code == 400 and "reason" in refused.content.decode()
    assert post_form(client, _url(program), {**data, "reason": "M&M: earlier warning"}).status_code == 302
    assert (
        post_form(
            client,
            _url(program),
            {**data, "oxygenator.post_po2_low__threshold_mmhg": "160", "reason": "back to 160"},
        ).status_code
        == 302
    )
    history = list(SurveillanceSetting.objects.filter(program=program).order_by("pk"))
    assert [h.rules for h in history] == [
        {"oxygenator.post_po2_low": {"threshold_mmhg": 180}},
        {"oxygenator.post_po2_low": {"threshold_mmhg": 160}},
    ]
    assert history[0].escalate_to_role == "perfusionist" and history[0].escalate_critical_after_min == 5
    page = client.get(_url(program)).content.decode()
    assert "M&amp;M: earlier warning" in page and "back to 160" in page


def test_it_refuses_values_outside_the_site_range(
    program: Any, personas: dict[str, Any], client_for: Any
) -> None:
    response = post_form(
        client_for(personas["director"]),
        _url(program),
        {"oxygenator.post_po2_low__threshold_mmhg": "120", "reason": "try"},
    )
    body = response.content.decode()
    assert response.status_code == 400 and "oxygenator.post_po2_low.threshold_mmhg" in body and "150" in body
    assert not SurveillanceSetting.objects.exists()


def test_the_rules_use_the_setting_in_force(run: EcmoRun, personas: dict[str, Any]) -> None:
    def ingest(at: dt.datetime, po2: float) -> None:
        samples = [
            Sample(at, "post_oxygenator_po2_mmhg", po2, "lab"),
            Sample(at, "fdo2", 1.0, "check"),
            Sample(at, "sweep_gas_l_min", 4.0, "check"),
        ]
        actions.ingest_samples(actor_or_system=actions.DEMO, run=run, samples=samples, now=at)

    ingest(T0 + MIN, 170)  # default threshold 150: clear
    assert not Alert.objects.filter(rule_id="oxygenator.post_po2_low").exists()
    actions.save_settings(
        actor=personas["director"],
        program=run.program,
        rules={"oxygenator": {"post_po2_low": {"threshold_mmhg": 180}}},
        reason="stricter",
        effective_from=T0 + 5 * MIN,
        now=T0 + 5 * MIN,
    )
    ingest(T0 + 10 * MIN, 170)  # 180 now in force: fires
    alert = Alert.objects.get(rule_id="oxygenator.post_po2_low")
    assert alert.opened_at == T0 + 10 * MIN and alert.severity == "critical"


def test_escalation_uses_the_programs_minutes_and_role(run: EcmoRun, personas: dict[str, Any]) -> None:
    actions.save_settings(
        actor=personas["director"],
        program=run.program,
        rules={},
        escalate_warning_after_min=45,
        escalate_to_role="cardiologist",
        effective_from=T0 - dt.timedelta(days=1),
        reason="test",
        now=T0,
    )
    sample = [Sample(T0, "plasma_free_hb_mg_dl", 14, "lab")]  # a warning
    actions.ingest_samples(actor_or_system=actions.DEMO, run=run, samples=sample, now=T0)
    assert actions.escalate_due_alerts(T0 + 44 * MIN) == []
    with time_machine.travel(T0 + 46 * MIN, tick=False):
        (alert,) = actions.escalate_due_alerts(T0 + 46 * MIN)
    assert alert.escalated_to_role == "cardiologist"


def test_the_flow_decision_prefills_vo2_from_the_programs_estimate(
    run: EcmoRun, personas: dict[str, Any], client_for: Any
) -> None:
    # The run's patient weighs 80 kg: 80 × 3 = 240 mL/min by default; a paediatric program's 4.5 → 360 mL/min.
    flow_page = f"/runs/{run.pk}/decisions/new/flow_target/"
    perfusionist = client_for(personas["perfusionist"])
    assert 'name="k-vo2_ml_min" value="240"' in perfusionist.get(flow_page).content.decode()
    director = client_for(personas["director"])
    assert "Estimated VO2 for flow decisions" in director.get(_url(run.program)).content.decode()
    for bad, words in (("0.5", "1.0"), ("11", "10.0"), ("lots", "not a number")):
        refused = post_form(director, _url(run.program), {"estimated_vo2_ml_kg_min": bad, "reason": "try"})
        assert refused.status_code == 400 and words in refused.content.decode(), bad
    saved = post_form(
        director, _url(run.program), {"estimated_vo2_ml_kg_min": "4.5", "reason": "paediatric program"}
    )
    assert saved.status_code == 302
    assert SurveillanceSetting.objects.get(program=run.program).estimated_vo2_ml_kg_min == 4.5
    assert 'name="k-vo2_ml_min" value="360"' in perfusionist.get(flow_page).content.decode()
