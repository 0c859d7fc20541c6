"""Charts you can trust (issue 11 §5): the trends data names its axes, their fixed ranges and the run's targets.

- [x] one quantity per axis; ΔP and ΔP/Q on separate charts
- [x] fixed ranges (flow 0–7 L/min, ΔP 0–100 mmHg …): ±0.05 L/min of noise stays a flat line on 0–7
- [x] a range widens to the next round number only when a value (or a target) leaves it, and never narrows
- [x] target bands from the run's targets, each for the time it was in force, in the chart's units
- [x] saturations and FdO2 in %; a kPa program's pressure and gas axes in kPa (ΔP/Q in kPa·min/L)
- [x] patient vitals (MAP, heart rate, SpO2) beside the circuit when sent; empty series are left out
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import pytest
import time_machine

from ecmo_core import units
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions, charts
from tests.web.conftest import T0
from tests.web.surveil_support import circuit_samples

H = dt.timedelta(hours=1)
NOW = T0 + 6 * H


def _ingest(run: EcmoRun, samples: list[Any], source: str | None = None) -> None:
    actions.ingest_samples(actor_or_system=actions.DEMO, run=run, samples=samples, now=NOW, source=source)


def _noisy_flow(run: EcmoRun) -> None:
    samples = circuit_samples(T0, NOW, every=dt.timedelta(minutes=5))
    for i, s in enumerate(samples):
        if s.parameter == "blood_flow_l_min":
            samples[i] = dataclasses.replace(s, value=4.8 + (0.05 if i % 2 else -0.05))
    _ingest(run, samples)


def _data(run: EcmoRun, client_for: Any, user: Any, range_name: str = "run") -> dict[str, Any]:
    with time_machine.travel(NOW, tick=False):
        response = client_for(user).get(f"/runs/{run.pk}/trends/data.json", {"range": range_name})
    assert response.status_code == 200
    return {g["id"]: g for g in response.json()["groups"]}


def test_it_draws_flow_noise_on_a_fixed_0_to_7_axis(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    _noisy_flow(run)
    groups = _data(run, client_for, perfusionist)
    flow = groups["flow"]
    assert flow["axes"] == [
        {"label": "Flow (L/min)", "unit": "L/min", "min": 0.0, "max": 7.0},
        {"label": "Pump speed (rpm)", "unit": "rpm", "min": 0.0, "max": 5000.0},
    ]
    assert [(s["code"], s["axis"]) for s in flow["series"]] == [
        ("blood_flow_l_min", 0),
        ("pump_speed_rpm", 1),
    ]
    assert groups["pressures"]["axes"] == [
        {"label": "Pressure (mmHg)", "unit": "mmHg", "min": -150.0, "max": 400.0}
    ]
    assert groups["delta_p"]["axes"] == [{"label": "ΔP (mmHg)", "unit": "mmHg", "min": 0.0, "max": 100.0}]
    assert groups["resistance"]["axes"][0]["label"] == "ΔP/Q (mmHg·min/L)"
    # Every chart has one axis per quantity: no axis carries two units.
    for group in groups.values():
        for index, axis in enumerate(group["axes"]):
            assert {s["unit"] for s in group["series"] if s["axis"] == index} == {axis["unit"]}, group["id"]


def test_it_widens_a_range_only_when_a_value_leaves_it(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    _ingest(run, circuit_samples(T0, T0 + H, flow=8.2, pre=455, post=430, every=dt.timedelta(minutes=5)))
    groups = _data(run, client_for, perfusionist)
    assert (groups["flow"]["axes"][0]["min"], groups["flow"]["axes"][0]["max"]) == (0.0, 9.0)
    assert (groups["pressures"]["axes"][0]["min"], groups["pressures"]["axes"][0]["max"]) == (-150.0, 500.0)


def test_axis_range_rounds_outward_and_converts_ranges_it_does_not_name() -> None:
    flow = charts.GROUPS[0].axes[0]
    assert charts.axis_range(flow, "L/min", 1.0, [4.75, 4.85]) == (0.0, 7.0)
    assert charts.axis_range(flow, "L/min", 1.0, [-0.3, 7.1]) == (-1.0, 8.0)
    assert charts.axis_range(flow, "L/min", 1.0, []) == (0.0, 7.0)
    # A unit the axis has no range for: the stored unit's range, converted.
    assert charts.axis_range(flow, "mL/min", 1000.0, []) == (0.0, 7000.0)


def test_it_draws_target_bands_for_the_time_each_was_in_force(
    run: EcmoRun, perfusionist: Any, personas: dict[str, Any], client_for: Any
) -> None:
    _noisy_flow(run)
    _ingest(
        run,
        [{"parameter": "anti_xa_iu_ml", "value": 0.42, "observed_at": (T0 + 2 * H).isoformat()}],
        source="lab",
    )
    intensivist = personas["intensivist"]
    run_actions.set_target(actor=intensivist, run=run, parameter="blood_flow_l_min", low=4.0, high=None,
                           effective_from=T0)  # fmt: skip
    run_actions.set_target(actor=intensivist, run=run, parameter="blood_flow_l_min", low=4.5, high=5.5,
                           effective_from=T0 + 3 * H)  # fmt: skip
    run_actions.set_target(actor=intensivist, run=run, parameter="anti_xa_iu_ml", low=0.3, high=0.5,
                           effective_from=T0 + H)  # fmt: skip
    groups = _data(run, client_for, perfusionist)
    bands = [(b["code"], b["axis"], b["from"], b["to"], b["low"], b["high"]) for b in groups["flow"]["bands"]]
    assert bands == [
        ("blood_flow_l_min", 0, T0.timestamp(), (T0 + 3 * H).timestamp(), 4.0, None),
        ("blood_flow_l_min", 0, (T0 + 3 * H).timestamp(), NOW.timestamp(), 4.5, 5.5),
    ]
    anticoagulation = groups["anticoagulation"]
    assert [(b["low"], b["high"], b["label"]) for b in anticoagulation["bands"]] == [
        (0.3, 0.5, "Anti-Xa target")
    ]
    assert anticoagulation["axes"][0] == {"label": "Anti-Xa (IU/mL)", "unit": "IU/mL", "min": 0.0, "max": 1.0}


def test_a_kpa_program_charts_pressures_gases_and_targets_in_kpa(
    run: EcmoRun, perfusionist: Any, personas: dict[str, Any], client_for: Any
) -> None:
    program = run.program
    program.pressure_unit, program.circuit_pressure_unit, program.hemoglobin_unit = "kPa", "kPa", "g/L"
    program.save(update_fields=["pressure_unit", "circuit_pressure_unit", "hemoglobin_unit"])
    _ingest(run, circuit_samples(T0, T0 + H, pre=250, post=230, every=dt.timedelta(minutes=5)))
    _ingest(
        run,
        [
            {"parameter": "post_oxygenator_po2_mmhg", "value": 450.0, "observed_at": (T0 + H).isoformat()},
            {"parameter": "arterial_pco2_mmhg", "value": 45.0, "observed_at": (T0 + H).isoformat()},
            {"parameter": "hemoglobin_g_dl", "value": 9.5, "observed_at": (T0 + H).isoformat()},
        ],
        source="lab",
    )
    run_actions.set_target(actor=personas["intensivist"], run=run, parameter="mean_arterial_pressure_mmhg",
                           low=65, high=90, effective_from=T0)  # fmt: skip
    _ingest(run, [{"parameter": "mean_arterial_pressure_mmhg", "value": 75.0, "observed_at": T0.isoformat()}])
    groups = _data(run, client_for, perfusionist)
    pressures = groups["pressures"]
    assert pressures["axes"] == [{"label": "Pressure (kPa)", "unit": "kPa", "min": -20.0, "max": 55.0}]
    pre = pressures["data"][
        [s["code"] for s in pressures["series"]].index("pre_oxygenator_pressure_mmhg") + 1
    ]
    assert math.isclose(pre[0], 250 / units.MMHG_PER_KPA, abs_tol=1e-3)  # 33.33 kPa
    assert groups["delta_p"]["axes"][0] == {"label": "ΔP (kPa)", "unit": "kPa", "min": 0.0, "max": 14.0}
    assert groups["resistance"]["axes"][0]["label"] == "ΔP/Q (kPa·min/L)"
    gases = groups["gases"]
    assert [a["label"] for a in gases["axes"]] == ["PO2 (kPa)", "PCO2 (kPa)"]
    assert [s["label"] for s in gases["series"]] == ["Post-oxygenator PO2 (kPa)", "Patient PaCO2 (kPa)"]
    assert groups["blood"]["axes"][0]["label"] == "Hb (g/L)" and groups["blood"]["data"][1] == [95.0]
    band = groups["vitals"]["bands"][0]  # blood pressure stays in mmHg in a kPa program, as UK units chart it
    assert (band["low"], band["high"]) == (65.0, 90.0)
    assert "mmHg" not in str({k: v for k, v in groups.items() if k != "vitals"})
    assert groups["vitals"]["axes"][0]["unit"] == "mmHg"


def test_it_shows_saturations_in_percent_and_vitals_beside_the_circuit(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    _ingest(
        run,
        [
            {"parameter": p, "value": v, "observed_at": (T0 + H).isoformat()}
            for p, v in {
                "pre_oxygenator_so2": 0.68,
                "post_oxygenator_so2": 0.995,
                "spo2": 0.93,
                "fdo2": 0.6,
                "sweep_gas_l_min": 3.0,
                "mean_arterial_pressure_mmhg": 72.0,
                "heart_rate_per_min": 96.0,
            }.items()
        ],
    )
    groups = _data(run, client_for, perfusionist)
    saturations = groups["saturations"]
    assert saturations["axes"] == [{"label": "Saturation (%)", "unit": "%", "min": 40.0, "max": 100.0}]
    # Arterial SO2 was not sent: it is not in the legend.
    assert [s["label"] for s in saturations["series"]] == [
        "Pre-oxygenator SO2 (%)",
        "Post-oxygenator SO2 (%)",
        "Patient SpO2 (%)",
    ]
    assert [row[0] for row in saturations["data"][1:]] == [68.0, 99.5, 93.0]
    assert groups["sweep"]["axes"][1] == {"label": "FdO2 (%)", "unit": "%", "min": 0.0, "max": 100.0}
    assert groups["sweep"]["data"][2] == [60.0]
    vitals = groups["vitals"]
    assert [a["label"] for a in vitals["axes"]] == ["MAP (mmHg)", "Heart rate (/min)"]
    assert [row[0] for row in vitals["data"][1:]] == [72.0, 96.0]


@pytest.mark.parametrize("range_name", ["1h", "24h"])
def test_a_group_without_values_in_the_range_is_left_out(
    run: EcmoRun, perfusionist: Any, client_for: Any, range_name: str
) -> None:
    _noisy_flow(run)
    groups = _data(run, client_for, perfusionist, range_name)
    assert "vitals" not in groups and "gases" not in groups and "flow" in groups
