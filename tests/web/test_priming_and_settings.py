"""The priming page (issue 14 §3) and the program's perfusion settings.

Spec checklist:
- the priming page computes the haematocrit after priming by the hand calculation (45 kg woman, Hct 0.28,
  600 mL: 2925 mL blood volume, 819/3525 = 0.232, 104 mL packed cells) and a neonate's plan
- from a run it prefills weight, sex, age, the haematocrit from the latest Hb (× 3) and the circuit's parts
  (prime volume = their sum); bad input is shown beside its field with a 400
- settings: a director changes a value with a reason (history kept, audit written); out-of-range values are
  refused naming the field; a nurse reads but cannot change (403); blood-volume bands feed the priming page
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from ecmo_web.audit.models import AuditEvent
from ecmo_web.perfusion import site
from ecmo_web.perfusion.models import PerfusionSettings
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import CatalogueItem, EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient
from tests.web.perfusion_support import catalogue  # noqa: F401

pytestmark = pytest.mark.django_db


def test_it_computes_the_haematocrit_after_priming(personas: dict[str, Any], run: EcmoRun) -> None:
    client = BrowserClient(personas["bedside_nurse"])
    query = (
        "weight_kg=45&age_years=30&sex=female&patient_hematocrit=0.28&prime_volume_ml=600&prime_hematocrit=0"
    )
    html = client.get(f"/programs/{run.program_id}/perfusion/priming/?{query}").content.decode()
    # 45 kg × 65 mL/kg = 2925 mL; (2925 × 0.28) / (2925 + 600) = 819 / 3525 = 0.232; (0.25 × 3525 − 819)/0.6 = 104
    assert "2925 mL" in html and "0.232" in html and "104 mL of packed red cells" in html
    assert "600 IU" in html  # 1 IU/mL × 600 mL
    neonate = "weight_kg=3.5&age_days=10&patient_hematocrit=0.45&prime_volume_ml=300&prime_hematocrit=0.35&sex=unknown"
    html = client.get(f"/programs/{run.program_id}/perfusion/priming/?{neonate}").content.decode()
    # 3.5 × 85 = 297.5 → 298 mL; (297.5 × 0.45 + 300 × 0.35) / 597.5 = 0.400
    assert "298 mL" in html and "neonate (under 28 days)" in html and "0.400" in html
    bad = client.get(
        f"/programs/{run.program_id}/perfusion/priming/?weight_kg=70&age_years=40&patient_hematocrit=30&prime_volume_ml=600"
    )
    assert (
        bad.status_code == 400
        and "Patient haematocrit: Ensure this value is less than or equal to 0.8" in bad.content.decode()
    )


def test_it_prefills_from_the_run_and_its_circuit(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    from ecmo_web.surveillance.actions import ingest_samples

    for item in ("Oxygenator A (PMP 1.8 m²)", "Centrifugal pump head B", "3/8 in tubing pack"):
        run_actions.install_component(
            actor=personas["perfusionist"],
            run=run,
            kind=catalogue[item].kind,
            maker="",
            model="",
            catalogue_item=catalogue[item],
            installed_at=T0,
        )
    now = T0 + dt.timedelta(hours=2)
    ingest_samples(
        actor_or_system=personas["perfusionist"],
        run=run,
        now=now,
        evaluate=False,
        samples=[
            {
                "observed_at": now - dt.timedelta(minutes=5),
                "parameter": "hemoglobin_g_dl",
                "value": 9.0,
                "source": "lab",
            }
        ],
    )
    with time_machine.travel(now, tick=False):
        html = BrowserClient(personas["perfusionist"]).get(f"/runs/{run.pk}/priming/").content.decode()
    assert 'name="weight_kg" value="80.0"' in html and 'name="patient_hematocrit" value="0.27"' in html
    assert f'<option value="{catalogue["Oxygenator A (PMP 1.8 m²)"].pk}" selected>' in html
    assert 'name="age_years" value="56"' in html  # born 1970, cannulated 2026


def test_it_changes_settings_with_a_reason_and_keeps_the_history(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    url = f"/programs/{run.program_id}/perfusion/settings/"
    director = BrowserClient(personas["director"])
    values = {s.key: s.default for s in site.SETTINGS}
    response = director.post(url, {**values, "adult_male_ml_kg": 70, "reason": "local protocol PER-07"})
    assert response.status_code == 302
    assert site.current(run.program)["adult_male_ml_kg"] == 70
    row = PerfusionSettings.objects.get()
    assert row.reason == "local protocol PER-07" and row.set_by == personas["director"]
    assert AuditEvent.objects.filter(action="perfusion.settings_changed").count() == 1
    html = (
        BrowserClient(personas["bedside_nurse"])
        .get(
            f"/programs/{run.program_id}/perfusion/priming/?weight_kg=80&age_years=50&sex=male&patient_hematocrit=0.3&prime_volume_ml=600"
        )
        .content.decode()
    )
    assert "5600 mL" in html  # 80 kg × 70 mL/kg
    bad = director.post(url, {**values, "drainage_pressure_drop_max_mmhg": 5, "reason": "x"})
    assert bad.status_code == 400
    assert "5 mmHg is outside the accepted range 10 to 400 mmHg" in bad.content.decode()
    nurse = BrowserClient(personas["bedside_nurse"])
    assert nurse.get(url).status_code == 200
    assert nurse.post(url, {**values, "reason": "x"}).status_code == 403
    assert PerfusionSettings.objects.count() == 1


def test_it_refuses_unknown_settings_and_non_numbers_naming_them(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    from django.core.exceptions import ValidationError

    from ecmo_web.perfusion.actions.settings import set_settings

    with pytest.raises(ValidationError) as err:
        set_settings(
            actor=personas["director"],
            program=run.program,
            values={"colour": 1, "child_ml_kg": "lots", "neonate_ml_kg": 200},
            reason="x",
        )
    assert set(err.value.message_dict) == {"colour", "child_ml_kg", "neonate_ml_kg"}
    assert "40–120 mL/kg" in err.value.message_dict["neonate_ml_kg"][0]
    with pytest.raises(ValidationError) as err:
        set_settings(actor=personas["director"], program=run.program, values={}, reason=" ")
    assert "reason" in err.value.message_dict
    assert not PerfusionSettings.objects.exists()
