"""Surveillance settings per program (/programs/{id}/surveillance/settings/).

- only roles with settings.manage (director, admin) open the page; others get a 403, another program a 404
- every rule setting shows its clinical label, default, site range and source (as evidence, no document
  numbers) in the program's units; saving keeps the earlier settings as history, described in words
- a kPa program sees and types the post-oxygenator PO2 threshold in kPa; an untouched value is kept exactly
- escalation goes only to clinical roles (not pharmacist, physiotherapist, quality, researcher, auditor, admin)
- a value outside its site range is refused naming the setting and the range; a reason is required
- a value that is not a number is refused naming the setting; what was typed stays on the page
- the rules use the setting in force at each moment (a stricter post-oxygenator PO2 threshold fires earlier)
- escalation minutes per severity and the role come from the settings
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

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
    assert "Low post-oxygenator PO2 on pure oxygen" in body
    assert 'name="oxygenator.post_po2_low__threshold_mmhg"' in body and ">Alert below<" in body
    assert "150 to 200 mmHg" in body and "common practice, no primary source" in body
    assert "§" not in body and "<code>" not in body
    # fractions in %: the ΔP rise alert at 50 % over baseline (site range 20 to 100 %)
    assert "20 to 100 % · default 50 %" in body


def test_a_kpa_program_sets_gas_thresholds_in_kpa(
    program: Any, personas: dict[str, Any], client_for: Any
) -> None:
    program.pressure_unit = "kPa"
    program.save()
    client = client_for(personas["director"])
    body = client.get(_url(program)).content.decode()
    # 150 to 200 mmHg / 7.50062 = 19.998 to 26.664 kPa → rounded inwards 20 to 26.66; default 150 → 20 kPa
    assert "20 to 26.66 kPa · default 20 kPa" in body
    # access pressure is a circuit pressure: still mmHg in this program
    assert "-200 to -50 mmHg" in body
    refused = post_form(
        client, _url(program), {"oxygenator.post_po2_low__threshold_mmhg": "30", "reason": "x"}
    )
    assert "30 kPa is outside the accepted range 20 to 26.66 kPa" in refused.content.decode()
    # 24 kPa × 7.50062 = 180.015 mmHg stored; the untouched defaults are not stored at all
    saved = post_form(
        client, _url(program), {"oxygenator.post_po2_low__threshold_mmhg": "24", "reason": "UK practice"}
    )
    assert saved.status_code == 302
    (setting,) = SurveillanceSetting.objects.filter(program=program)
    assert abs(setting.rules["oxygenator.post_po2_low"]["threshold_mmhg"] - 180.015) < 1e-3
    assert len(setting.rules) == 1
    page = client.get(_url(program)).content.decode()
    assert 'value="24"' in page and "Low post-oxygenator PO2 on pure oxygen: alert below 24 kPa" in page


def test_escalation_goes_only_to_clinical_roles(
    program: Any, personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for(personas["director"])
    body = client.get(_url(program)).content.decode()
    assert '<option value="perfusionist"' in body and '<option value="director"' in body
    for role in ("researcher", "auditor", "quality", "admin", "pharmacist", "physiotherapist"):
        assert f'<option value="{role}"' not in body
    refused = post_form(client, _url(program), {"escalate_to_role": "researcher", "reason": "x"})
    assert refused.status_code == 400 and "Escalate to" in refused.content.decode()
    with pytest.raises(ValidationError) as err:
        actions.save_settings(
            actor=personas["director"], program=program, rules={}, escalate_to_role="auditor", reason="x"
        )
    assert "clinical role" in str(err.value)
    assert not SurveillanceSetting.objects.exists()


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
    assert "Low post-oxygenator PO2 on pure oxygen: alert below 160 mmHg" in page


def test_it_refuses_values_outside_the_site_range(
    program: Any, personas: dict[str, Any], client_for: Any
) -> None:
    response = post_form(
        client_for(personas["director"]),
        _url(program),
        {"oxygenator.post_po2_low__threshold_mmhg": "120", "reason": "try"},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert (
        "Low post-oxygenator PO2 on pure oxygen · Alert below: 120 mmHg is outside the accepted range 150 to 200 mmHg"
        in body
    )
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


def test_it_refuses_a_value_that_is_not_a_number_naming_the_setting_and_keeps_what_was_typed(
    program: Any, personas: dict[str, Any], client_for: Any
) -> None:
    response = post_form(
        client_for(personas["director"]),
        _url(program),
        {
            "oxygenator.post_po2_low__threshold_mmhg": "1eighty",
            "access.pressure_low__threshold_mmhg": "-95",
            "escalate_warning_after_min": "soon",
            "reason": "try",
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Low post-oxygenator PO2 on pure oxygen · Alert below: &#x27;1eighty&#x27; is not a number" in body
    assert "Warning: escalate after" in body and 'value="-95' in body
    assert not SurveillanceSetting.objects.exists()


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
