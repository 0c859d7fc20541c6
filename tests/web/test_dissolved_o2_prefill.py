"""The VV models count the O2 dissolved in the ECMO return when given the post-oxygenator PO2 (issue 14 item 6).

Spec checklist:
- the vv_required_blood_flow calculator page prefills ``post_oxygenator_po2_mmhg`` from the latest
  post-oxygenator gas and says which reading it is
- the flow-target decision page prefills the PO2 and the reading it came from
- a flow-target decision with the PO2 keeps it and the reading in its content, passes it to the saved
  calculation, and its model asks for less flow than without it; without a PO2 the result is unchanged
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from ecmo_web.decisions import actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.actions import ingest_samples
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db

NOW = T0 + dt.timedelta(hours=5)


def _gas(personas: dict[str, Any], run: EcmoRun, po2_mmhg: float) -> None:
    ingest_samples(
        actor_or_system=personas["perfusionist"],
        run=run,
        now=NOW,
        evaluate=False,
        samples=[
            {
                "observed_at": NOW - dt.timedelta(minutes=40),
                "parameter": "post_oxygenator_po2_mmhg",
                "value": po2_mmhg,
                "source": "lab",
            }
        ],
    )


def test_it_prefills_the_calculator_from_the_latest_post_oxygenator_gas(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    _gas(personas, run, 432)
    client = BrowserClient(personas["perfusionist"])
    with time_machine.travel(NOW, tick=False):
        html = client.get(f"/runs/{run.pk}/calculators/vv_required_blood_flow/").content.decode()
    assert 'value="432' in html and "Post-oxygenator PO2 at" in html


def test_it_prefills_the_flow_target_decision_with_the_reading_used(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    _gas(personas, run, 432)
    client = BrowserClient(personas["perfusionist"])
    with time_machine.travel(NOW, tick=False):
        html = client.get(f"/runs/{run.pk}/decisions/new/flow_target/").content.decode()
    assert 'name="k-post_oxygenator_po2_mmhg"' in html and 'value="432' in html
    assert "(lab)" in html and "gas at" in html


def test_it_asks_for_less_flow_when_the_return_po2_is_counted(personas: dict[str, Any], run: EcmoRun) -> None:
    content = {"target_arterial_so2": 0.88, "vo2_ml_min": 250, "hb_g_dl": 10, "cardiac_output_l_min": 6}

    def record(**extra: Any) -> Any:
        return actions.record_decision(
            actor=personas["perfusionist"],
            run=run,
            kind="flow_target",
            title="Flow from the VV model",
            made_at=T0 + dt.timedelta(hours=1),
            content={**content, **extra},
        )

    plain = record()
    counted = record(post_oxygenator_po2_mmhg=450, post_oxygenator_po2_reading="gas at 20 Nov 14:20 (lab)")
    # No lung, Spost 1, cap 134 mL/L, Q 6: without → 1/Qeff = 1/6 + (1 − 0.88)·134/250 → Qeff ≈ 4.290;
    # with α·PO2 = 1.35 mL/dL → Spost' = 1 + 1.35/13.4 → 1/Qeff = 1/6 + (1.100746 − 0.88)·0.536 → Qeff ≈ 3.53
    assert plain.content["model"]["ecmo_blood_flow_l_min"] == pytest.approx(
        1 / (1 / 6 + 0.12 * 0.536), abs=1e-9
    )
    assert counted.content["model"]["ecmo_blood_flow_l_min"] == pytest.approx(
        1 / (1 / 6 + (1 + 1.35 / 13.4 - 0.88) * 0.536), abs=1e-9
    )
    assert counted.content["post_oxygenator_po2_reading"] == "gas at 20 Nov 14:20 (lab)"
    calc = counted.calculations.get()
    assert calc.arguments["post_oxygenator_po2_mmhg"] == 450
    assert "post_oxygenator_po2_mmhg" not in plain.calculations.get().arguments
