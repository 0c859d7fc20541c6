"""Weaning trials: VV sweep-gas-off and VA flow-reduction, with timed observations judged as the trial runs.

Spec checklist:
- a weaning-trial decision carries its protocol steps (defaults per trial type) and start time
- observations are timed (minutes from the start), validated (fractions, ranges, field named), never before the start
- the trial page shows each observation with failing values marked, and pass/fail against the program's criteria
- HTMX: recording an observation returns the refreshed panel; the preview judges a draft without saving it
- a program's criteria settings apply (VA lateral S′ > 10 fails the demo's 8 cm/s)
- concluding stores the evaluation; an outcome that contradicts the criteria needs a reason; no observations after
- pathway.record (nurses, physiotherapists) may add observations; concluding needs decision.record; 403/404
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from ecmo_web.audit.models import AuditEvent
from ecmo_web.decisions import actions
from ecmo_web.decisions.models import Decision, TrialObservation
from ecmo_web.runs.models import EcmoRun
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db

START = T0 + dt.timedelta(days=2)
VENT = {"fio2": 0.4, "plateau_cmh2o": 24, "blood_flow_l_min": 2.5}
RUN4 = [
    (0, {"sao2": 0.96, "pao2_mmhg": 82, "paco2_mmhg": 43, "arterial_ph": 7.39, "rr_per_min": 20, **VENT}),
    (30, {"sao2": 0.95, "pao2_mmhg": 78, "paco2_mmhg": 45, "arterial_ph": 7.37, "rr_per_min": 22, **VENT}),
    (
        120,
        {
            "sao2": 0.94,
            "pao2_mmhg": 72,
            "paco2_mmhg": 46,
            "arterial_ph": 7.36,
            "rr_per_min": 23,
            "acute_cor_pulmonale": False,
            **VENT,
        },
    ),
    (360, {"sao2": 0.95, "pao2_mmhg": 75, "paco2_mmhg": 46, "arterial_ph": 7.36, "rr_per_min": 22, **VENT}),
]


@pytest.fixture
def client_for() -> Any:
    return BrowserClient


def trial(personas: dict[str, Any], run: EcmoRun, trial_type: str = "vv_sweep_off") -> Decision:
    return actions.record_decision(
        actor=personas["perfusionist"],
        run=run,
        kind="weaning_trial",
        title="Sweep-off trial",
        made_at=START,
        content={"trial_type": trial_type, "started_at": START.isoformat()},
        decided_by=personas["intensivist"],
        participants=[{"user": personas["perfusionist"].pk}],
    )


def test_it_passes_the_run4_sweep_off_trial(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    decision = trial(personas, run)
    assert "FdO2 to 0.21" in decision.content["protocol_steps"]
    for minutes, values in RUN4:
        actions.record_observation(
            actor=personas["bedside_nurse"],
            decision=decision,
            at=START + dt.timedelta(minutes=minutes),
            values=values,
            step=f"{minutes} min",
        )
    assert actions.evaluate_trial(decision).status == "pass"
    html = client_for(personas["auditor"]).get(f"/decisions/{decision.pk}/trial/").content.decode()
    assert "pass" in html and ">PaO2<" in html and "cell-ok" in html
    concluded = actions.conclude_trial(
        actor=personas["intensivist"],
        decision=decision,
        outcome="passed",
        concluded_at=START + dt.timedelta(hours=6, minutes=30),
    )
    assert concluded.outcome == "passed" and concluded.content["evaluation"]["status"] == "pass"
    with pytest.raises(ValidationError):
        actions.record_observation(
            actor=personas["bedside_nurse"],
            decision=decision,
            at=START + dt.timedelta(hours=7),
            values={"sao2": 0.9},
        )
    assert "decision.trial_concluded" in set(AuditEvent.objects.values_list("action", flat=True))


def test_it_shows_the_trial_in_progress_and_marks_a_failing_value(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    decision = trial(personas, run)
    actions.record_observation(actor=personas["perfusionist"], decision=decision, at=START, values=RUN4[0][1])
    assert actions.evaluate_trial(decision).status == "in_progress"
    actions.record_observation(
        actor=personas["perfusionist"],
        decision=decision,
        at=START + dt.timedelta(minutes=30),
        values={**RUN4[1][1], "pao2_mmhg": 55},
    )
    assert actions.evaluate_trial(decision).status == "fail"
    html = client_for(personas["perfusionist"]).get(f"/decisions/{decision.pk}/trial/").content.decode()
    assert "cell-critical" in html and "fail" in html
    with pytest.raises(ValidationError) as err:
        actions.conclude_trial(
            actor=personas["intensivist"],
            decision=decision,
            outcome="passed",
            concluded_at=START + dt.timedelta(hours=1),
        )
    assert "reason" in err.value.message_dict
    actions.conclude_trial(
        actor=personas["intensivist"],
        decision=decision,
        outcome="failed",
        concluded_at=START + dt.timedelta(hours=1),
    )


def test_it_records_observations_with_htmx_and_previews_a_draft(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    decision = trial(personas, run)
    client = client_for(personas["physiotherapist"])
    response = client.post(
        f"/decisions/{decision.pk}/trial/observe/",
        {
            "at": "2026-11-22T10:00",
            "step": "sweep off",
            "sao2": "0.96",
            "pao2_mmhg": "82",
            "paco2_mmhg": "43",
            "arterial_ph": "7.39",
            "rr_per_min": "20",
            "fio2": "0.4",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    assert 'id="observation-form"' in response.content.decode() and "<html" not in response.content.decode()
    assert TrialObservation.objects.get().minutes == 0
    preview = client.post(
        f"/decisions/{decision.pk}/trial/preview/",
        {"at": "2026-11-22T10:30", "pao2_mmhg": "58"},
        HTTP_HX_REQUEST="true",
    )
    assert preview.status_code == 200 and "With this observation" in preview.content.decode()
    assert "fail" in preview.content.decode()
    assert TrialObservation.objects.count() == 1


def test_it_names_the_field_of_a_bad_observation(
    personas: dict[str, Any], run: EcmoRun, client_for: Any
) -> None:
    decision = trial(personas, run)
    with pytest.raises(ValidationError) as err:
        actions.record_observation(
            actor=personas["perfusionist"], decision=decision, at=START, values={"sao2": 96}
        )
    assert "sao2" in err.value.message_dict and "fraction" in str(err.value.message_dict["sao2"])
    with pytest.raises(ValidationError) as err:
        actions.record_observation(
            actor=personas["perfusionist"],
            decision=decision,
            at=START - dt.timedelta(minutes=5),
            values={"sao2": 0.9},
        )
    assert "at" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        actions.record_observation(actor=personas["perfusionist"], decision=decision, at=START, values={})
    assert "values" in err.value.message_dict
    response = client_for(personas["perfusionist"]).post(
        f"/decisions/{decision.pk}/trial/observe/", {"at": "2026-11-22T10:00", "sao2": "96"}
    )
    assert response.status_code == 400 and "fraction" in response.content.decode()
    assert not TrialObservation.objects.exists()


def test_it_applies_the_programs_va_criteria(personas: dict[str, Any], run: EcmoRun) -> None:
    actions.set_criteria(
        actor=personas["director"],
        program=run.program,
        criteria_set="va_flow_reduction",
        overrides={"lateral_s_prime_cm_s": {"op": ">", "value": 10, "source": "review [S28]"}},
        reason="adopt the 2022 review's S′ cut-off",
        effective_from=T0,
    )
    decision = trial(personas, run, "va_flow_reduction")
    assert "1.5" in decision.content["protocol_steps"]
    for minutes, values in [
        (0, {"blood_flow_l_min": 3.2, "mean_arterial_pressure_mmhg": 78}),
        (40, {"blood_flow_l_min": 1.2, "mean_arterial_pressure_mmhg": 76}),
        (
            60,
            {
                "blood_flow_l_min": 1.2,
                "mean_arterial_pressure_mmhg": 76,
                "lactate_mmol_l": 1.0,
                "aortic_vti_cm": 14,
                "lvef_pct": 38,
                "lateral_s_prime_cm_s": 8,
                "tapse_mm": 20,
            },
        ),
    ]:
        actions.record_observation(
            actor=personas["perfusionist"],
            decision=decision,
            at=START + dt.timedelta(minutes=minutes),
            values=values,
        )
    result = actions.evaluate_trial(decision)
    assert result.status == "fail" and [c.key for c in result.failed()] == ["lateral_s_prime_cm_s"]


def test_it_checks_permissions(personas: dict[str, Any], run: EcmoRun, client_for: Any) -> None:
    decision = trial(personas, run)
    data = {"at": "2026-11-22T10:00", "sao2": "0.96"}
    assert (
        client_for(personas["pharmacist"]).post(f"/decisions/{decision.pk}/trial/observe/", data).status_code
        == 403
    )
    assert client_for(personas["outsider"]).get(f"/decisions/{decision.pk}/trial/").status_code == 404
    assert (
        client_for(personas["bedside_nurse"])
        .post(
            f"/decisions/{decision.pk}/trial/conclude/",
            {"outcome": "passed", "concluded_at": "2026-11-22T16:00"},
        )
        .status_code
        == 403
    )
    with pytest.raises(ValidationError):
        actions.set_criteria(
            actor=personas["director"],
            program=run.program,
            criteria_set="vv_sweep_off",
            overrides={"pao2": 60},
            reason="typo",
        )
