"""The perfusion demo step (ecmo_web.perfusion.demo) on top of the base step.

- the illustrative catalogue is loaded, labelled as not from a maker's IFU, with ten cannulas and their curves;
  six real dual-lumen cannulas carry points computed from public digitised curves, labelled with that source
- DEMO-0002 has a decided circuit selection (surgeon decided; perfusionist, surgeon, cardiologist took part;
  a dissent with its resolution) whose evaluation shows the 17 Fr return chosen against the checks
- standby: "Adult standby A" ready, "Adult standby B" expiring (notice), "Paediatric standby" expired (notice)
"""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from ecmo_web.decisions.models import Decision
from ecmo_web.demo import seed as demo_seed
from ecmo_web.perfusion.models import StandbyCircuit, StandbyNotice
from ecmo_web.runs.models import CatalogueItem


@pytest.fixture
def demo(db: Any, monkeypatch: Any) -> Any:
    monkeypatch.setattr(demo_seed, "STEP_MODULES", ["ecmo_web.demo.base", "ecmo_web.perfusion.demo"])
    return demo_seed.seed_demo(now=timezone.now(), password="steward-demo-test")


def test_the_demo_shows_the_catalogue_the_selection_and_standby_circuits(demo: Any) -> None:
    generic = CatalogueItem.objects.filter(kind="cannula", maker="Generic")
    assert generic.count() == 10
    assert all(c.source == "illustrative, not from a maker's IFU" and c.pressure_flow_points for c in generic)
    public = CatalogueItem.objects.filter(kind="cannula").exclude(maker="Generic")
    assert public.count() == 6 and all("nickmmark/ecmo-calculations" in c.source for c in public)
    # Avalon 27 Fr return lumen: 10.984 Q² + 5.3044 Q at 3 L/min = 98.86 + 15.91 = 114.8 → 115 mmHg
    avalon = public.get(model="Avalon Elite bi-caval dual lumen 27 Fr")
    assert [3.0, 115.0] in avalon.return_pressure_flow_points
    decision = Decision.objects.get(run=demo.runs["DEMO-0002"], kind="circuit_selection")
    assert decision.status == "decided" and decision.decided_by.username == "surgeon"
    assert {p.role for p in decision.participants.all()} == {"perfusionist", "surgeon", "cardiologist"}
    assert decision.dissents.get().resolution.startswith("accepted")
    # 92 kg, 178 cm: BSA 2.13 m² × 2.4 = 5.12 → 5.2 L/min; 17 Fr return at 5.2 L/min is above its curve (5 L/min)
    assert decision.content["flow_target_l_min_used"] == 5.2
    assert decision.content["chosen_against_the_checks"][0].startswith("Generic Return 17 Fr 18 cm")
    states = dict(StandbyCircuit.objects.values_list("label", "status"))
    assert states == {
        "Adult standby A": "standby",
        "Adult standby B": "standby",
        "Paediatric standby": "expired",
    }
    notices = {(n.circuit.label, n.kind) for n in StandbyNotice.objects.all()}
    assert notices == {("Adult standby B", "expiring"), ("Paediatric standby", "expired")}
