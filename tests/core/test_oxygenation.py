"""Spec checklist for ``ecmo_core.oxygenation`` (core-api §2; models scores-and-models §13.1–13.2 and §14).

- [x] The four public names exist, are listed in ``CALCULATORS`` and take keyword-only arguments with
      the defaults of core-api §2; ``VVState`` and ``RequiredFlow`` are frozen, slotted and carry the
      listed fields.
- [x] ``vv_steady_state`` reproduces hand-worked cases of the mass balance: no lung (§13.1 closed form),
      recirculation, partial shunt (§13.2), perfect lung, effective flow = cardiac output, and the demo run 1
      recirculation episode (Spre 0.80 with R 0.41 and SpO2 0.84).
- [x] Infeasible states raise ``InfeasibleError``, never a saturation < 0 or > 1: mixed-venous < 0,
      effective flow > cardiac output (both sides), no uptake at all (s = 1 and no effective flow).
- [x] ``vv_required_blood_flow`` solves exactly (closed form) and agrees with the forward model; returns zero
      flow when the native lung reaches the target (both sides of that threshold); raises where no flow up
      to the cardiac output reaches the target (both sides), where flow cannot help, where the target needs
      Sv ≤ 0, and where the pump flow would exceed 10 L/min (both sides), including R = 1.
- [x] VA: fully mixed saturation and the watershed upper-body saturation by hand, both sides of Qn = Qub,
      both flows zero is infeasible.
- [x] Dissolved O2 in the return (``post_oxygenator_po2_mmhg``): None keeps every result unchanged; a
      PO2 of 400 mmHg adds α·PO2/(k·Hb) to Spost, by hand: SaO2 0.751 → 0.841 at Qb/CO 0.6 (9 points, the
      7–11 points of Schmidt 2013), and the required flow falls; α = 0 gives the old result; bad PO2 and α
      values are refused naming their field.
- [x] Bad-input sweeps for every keyword (NaN, ±inf, bool, str, None, negative, percent for fractions) and
      both sides of every plausibility bound, asserting ``InputError`` and ``err.field``.
- [x] Hypothesis properties: more ECMO flow never lowers SaO2 (when Spost ≥ Sc', see docs); feasibility
      never gets lost by adding flow; every saturation stays within 0–1; forward(required(target)) ≈ target
      and the required flow is the smallest; the drainage saturation the model predicts gives back R through
      ``physiology.recirculation_fraction``; with no lung, membrane O2 transfer = VO2; VA mixed and
      upper-body saturations lie between their two inputs.

Reference values are hand-worked from the equations of scores-and-models §13.1–13.2 (no dissolved O2,
k = 1.34), written as exact fractions where possible. Tolerances: ``abs=1e-12`` for exact fractions,
``abs=1e-9`` for values quoted to 9+ significant figures.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecmo_core import oxygenation as oxy
from ecmo_core.errors import InfeasibleError, InputError
from ecmo_core.oxygenation import (
    RequiredFlow,
    VVState,
    va_mixed_so2,
    va_upper_body_so2,
    vv_required_blood_flow,
    vv_steady_state,
)
from ecmo_core.physiology import recirculation_fraction

EXACT = 1e-12
ROUNDED = 1e-9

# The worked examples use VO2 250 mL/min, Hb 10 g/dL, k 1.34, Q 5 L/min:
# cap = 1.34·10·10 = 134 mL O2/L; v = VO2/(Q·cap) = 250/670 = 25/67 = 0.373134328.
BASE: dict[str, Any] = {"vo2_ml_min": 250.0, "hb_g_dl": 10.0, "cardiac_output_l_min": 5.0}
V = 25.0 / 67.0


# ---------------------------------------------------------------------------------------------------------
# Contract
# ---------------------------------------------------------------------------------------------------------


def test_it_lists_every_core_api_model_in_calculators() -> None:
    assert oxy.CALCULATORS == (
        "vv_steady_state",
        "vv_required_blood_flow",
        "va_mixed_so2",
        "va_upper_body_so2",
    )
    for name in oxy.CALCULATORS:
        parameters = inspect.signature(getattr(oxy, name)).parameters.values()
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)


@pytest.mark.parametrize("func", [vv_steady_state, vv_required_blood_flow])
def test_it_uses_the_core_api_defaults(func: Callable[..., object]) -> None:
    parameters = inspect.signature(func).parameters
    assert {
        name: parameters[name].default
        for name in parameters
        if parameters[name].default is not inspect.Parameter.empty
    } == {
        "recirculation_fraction": 0.0,
        "shunt_fraction": 1.0,
        "end_capillary_so2": 1.0,
        "post_oxygenator_so2": 1.0,
        "hufner_ml_g": 1.34,
        "post_oxygenator_po2_mmhg": None,
        "dissolved_ml_dl_mmhg": 0.003,
    }


def test_it_returns_frozen_slotted_results_with_the_listed_fields() -> None:
    state = vv_steady_state(**BASE, ecmo_blood_flow_l_min=4.0)
    names = {f.name for f in dataclasses.fields(VVState)}
    assert {
        "arterial_so2",
        "mixed_venous_so2",
        "pulmonary_artery_so2",
        "effective_flow_l_min",
        "ecmo_to_cardiac_output_ratio",
        "do2_ml_min",
    } <= names
    assert {"effective_flow_l_min", "ecmo_blood_flow_l_min"} <= {
        f.name for f in dataclasses.fields(RequiredFlow)
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.arterial_so2 = 0.5  # type: ignore[misc]
    assert not hasattr(state, "__dict__")
    assert not hasattr(vv_required_blood_flow(**BASE, target_arterial_so2=0.9), "__dict__")


# ---------------------------------------------------------------------------------------------------------
# VV forward model: hand-worked cases
# ---------------------------------------------------------------------------------------------------------


def test_it_reproduces_the_closed_form_without_native_lung() -> None:
    # §13.1: Sa = 1 − (VO2/cap)·(1/Qeff − 1/Q) = 1 − (250/134)·(1/4 − 1/5) = 1 − (250/134)/20 = 1 − 250/2680
    #        = 2430/2680 = 243/268 = 0.906716418.
    # Sv = Spost − VO2/(Qeff·cap) = 1 − 250/536 = 286/536 = 143/268 = 0.533582090; Spa = Sa (total shunt).
    # DO2 = Q·Sa·cap = 5·(243/268)·134 = 670·243/268 = 2.5·243 = 607.5 mL/min. Ratio 4/5 = 0.8.
    # Membrane transfer = Qeff·(Spost − Sv)·cap = 4·(125/268)·134 = 4·62.5 = 250 = VO2.
    state = vv_steady_state(**BASE, ecmo_blood_flow_l_min=4.0)
    assert state.arterial_so2 == pytest.approx(243 / 268, abs=EXACT)
    assert state.mixed_venous_so2 == pytest.approx(143 / 268, abs=EXACT)
    assert state.pulmonary_artery_so2 == pytest.approx(243 / 268, abs=EXACT)
    assert state.effective_flow_l_min == pytest.approx(4.0, abs=EXACT)
    assert state.ecmo_to_cardiac_output_ratio == pytest.approx(0.8, abs=EXACT)
    assert state.do2_ml_min == pytest.approx(607.5, rel=EXACT)
    assert state.pre_oxygenator_so2 == pytest.approx(143 / 268, abs=EXACT)  # R = 0: drainage = venous
    assert state.oxygenator_o2_transfer_ml_min == pytest.approx(250.0, rel=EXACT)


def test_it_discounts_recirculated_flow() -> None:
    # Qb 5 with R 0.2: Qeff = 5·0.8 = 4, so the same Sa = 243/268 and Sv = 143/268 as above;
    # ratio Qb/Q = 5/5 = 1; Spre = R·Spost + (1 − R)·Sv = 0.2 + 0.8·143/268 = (53.6 + 114.4)/268 = 168/268.
    state = vv_steady_state(**BASE, ecmo_blood_flow_l_min=5.0, recirculation_fraction=0.2)
    assert state.arterial_so2 == pytest.approx(243 / 268, abs=EXACT)
    assert state.mixed_venous_so2 == pytest.approx(143 / 268, abs=EXACT)
    assert state.effective_flow_l_min == pytest.approx(4.0, abs=EXACT)
    assert state.ecmo_to_cardiac_output_ratio == pytest.approx(1.0, abs=EXACT)
    assert state.pre_oxygenator_so2 == pytest.approx(168 / 268, abs=EXACT)


def test_it_adds_a_partly_working_native_lung() -> None:
    # §13.2 with s 0.5, Sc' 1, Spost 1, Qb 2 (f = 2/5 = 0.4):
    # Sv = [(1 − s)·Sc' + s·f·Spost − v]/[1 − s·(1 − f)] = [0.5 + 0.2 − 25/67]/[1 − 0.3] = (21.9/67)/0.7
    #    = 21.9/46.9 = 219/469 = 0.466950959; Sa = Sv + v = 219/469 + 175/469 = 394/469 = 0.840085288.
    # Spa = 0.6·219/469 + 0.4 = (131.4 + 187.6)/469 = 319/469; check Sa = 0.5·1 + 0.5·319/469 = 394/469.
    # DO2 = 5·134·394/469 = 263980/469 = 562.857142857.
    state = vv_steady_state(**BASE, ecmo_blood_flow_l_min=2.0, shunt_fraction=0.5)
    assert state.mixed_venous_so2 == pytest.approx(219 / 469, abs=EXACT)
    assert state.arterial_so2 == pytest.approx(394 / 469, abs=EXACT)
    assert state.pulmonary_artery_so2 == pytest.approx(319 / 469, abs=EXACT)
    # Identity: Sa = (1 − s)·Sc' + s·Spa.
    assert state.arterial_so2 == pytest.approx(0.5 * 1.0 + 0.5 * state.pulmonary_artery_so2, abs=EXACT)
    assert state.do2_ml_min == pytest.approx(562.857142857, abs=ROUNDED)


def test_it_gives_end_capillary_saturation_with_a_perfect_lung() -> None:
    # s = 0: Sa = Sc' whatever the flow; Sv = Sc' − v = 1 − 25/67 = 42/67, even with the pump off.
    for flow in (0.0, 2.5, 5.0):
        state = vv_steady_state(**BASE, ecmo_blood_flow_l_min=flow, shunt_fraction=0.0)
        assert state.arterial_so2 == pytest.approx(1.0, abs=EXACT)
        assert state.mixed_venous_so2 == pytest.approx(42 / 67, abs=EXACT)


def test_it_reproduces_the_demo_recirculation_episode() -> None:
    # demo-scenarios run 1, D1 06:00: Q 4.8, Spost 1.00, Sv 0.66 (estimate), SpO2 0.84, Hb 11.2.
    # R = 0.14/0.34 = 7/17; Qeff = 4.8·10/17 = 48/17. With no lung, Sa − Sv = Qeff/Q·(Spost − Sv), so
    # f = 0.18/0.34 = 9/17 and Q = (48/17)/(9/17) = 16/3 L/min; cap = 1.34·11.2·10 = 150.08 mL/L;
    # VO2 = (Sa − Sv)·Q·cap = 0.18·(16/3)·150.08 = 0.96·150.08 = 144.0768 mL/min (a sedated, paralysed man).
    # The model then predicts the drainage saturation the demo lists: 7/17 + (10/17)·0.66 = 13.6/17 = 0.80.
    state = vv_steady_state(
        vo2_ml_min=144.0768,
        hb_g_dl=11.2,
        cardiac_output_l_min=16 / 3,
        ecmo_blood_flow_l_min=4.8,
        recirculation_fraction=7 / 17,
    )
    assert state.arterial_so2 == pytest.approx(0.84, abs=ROUNDED)
    assert state.mixed_venous_so2 == pytest.approx(0.66, abs=ROUNDED)
    assert state.pre_oxygenator_so2 == pytest.approx(0.80, abs=ROUNDED)


def test_it_accepts_effective_flow_equal_to_cardiac_output_and_refuses_more() -> None:
    # Q 4, Qb 4, no lung: Sv = 1 − 250/(4·134) = 1 − 250/536 = 143/268; Sa = Sv + 250/(4·134) = 1.
    state = vv_steady_state(
        vo2_ml_min=250.0, hb_g_dl=10.0, cardiac_output_l_min=4.0, ecmo_blood_flow_l_min=4.0
    )
    assert state.arterial_so2 == pytest.approx(1.0, abs=EXACT)
    assert state.arterial_so2 <= 1.0
    with pytest.raises(InfeasibleError) as err:
        vv_steady_state(vo2_ml_min=250.0, hb_g_dl=10.0, cardiac_output_l_min=4.0, ecmo_blood_flow_l_min=4.01)
    assert err.value.field == "ecmo_blood_flow_l_min"
    # With recirculation the pump flow may exceed the cardiac output: 5·(1 − 0.2) = 4 ≤ 4.
    assert vv_steady_state(
        vo2_ml_min=250.0,
        hb_g_dl=10.0,
        cardiac_output_l_min=4.0,
        ecmo_blood_flow_l_min=5.0,
        recirculation_fraction=0.2,
    ).arterial_so2 == pytest.approx(1.0, abs=EXACT)


def test_it_refuses_a_negative_mixed_venous_saturation() -> None:
    # Qb 1, no lung: Sv = 1 − 250/(1·134) = 1 − 1.8657 < 0 → infeasible.
    with pytest.raises(InfeasibleError, match="below zero") as err:
        vv_steady_state(**BASE, ecmo_blood_flow_l_min=1.0)
    assert err.value.field is None
    # Sv exactly zero is the edge of feasibility: Qeff·cap = VO2 ⇔ Qb = 250/134 (Sa = v = 25/67).
    edge = vv_steady_state(**BASE, ecmo_blood_flow_l_min=250 / 134 * (1 + 1e-12))
    assert edge.mixed_venous_so2 == pytest.approx(0.0, abs=1e-9)
    assert edge.arterial_so2 == pytest.approx(V, abs=1e-9)


def test_it_refuses_a_state_without_any_oxygen_uptake() -> None:
    # s = 1 (no lung) and no effective flow: nothing takes up O2 (the mass balance has no solution).
    with pytest.raises(InfeasibleError) as err:
        vv_steady_state(**BASE, ecmo_blood_flow_l_min=0.0)
    assert err.value.field == "ecmo_blood_flow_l_min"
    with pytest.raises(InfeasibleError):
        vv_steady_state(**BASE, ecmo_blood_flow_l_min=4.0, recirculation_fraction=1.0)


def test_it_lowers_saturation_when_the_membrane_returns_darker_blood_than_the_lung() -> None:
    # The documented exception to monotonicity: s 0.1, Sc' 1, Spost 0.5 (a failing membrane).
    # D = (1 − s)·(Spost − Sc') + v = 0.9·(−0.5) + 0.373134 = −0.076866 < 0, so Sa falls with flow.
    # Pump off: Sv = (0.9 − 25/67)/0.9 = 35.3/60.3 = 0.585406302;
    #           Sa = 0.585406302 + 0.373134328 = 0.958540630182 (bc -l).
    # Qb 4 (f 0.8): Sv = (0.9 + 0.1·0.8·0.5 − 25/67)/(1 − 0.1·0.2) = (37.98/67)/0.98 = 37.98/65.66
    #           = 0.578434358818; Sa = 0.578434358818 + 0.373134328358 = 0.951568687176.
    off = vv_steady_state(**BASE, ecmo_blood_flow_l_min=0.0, shunt_fraction=0.1, post_oxygenator_so2=0.5)
    on = vv_steady_state(**BASE, ecmo_blood_flow_l_min=4.0, shunt_fraction=0.1, post_oxygenator_so2=0.5)
    assert off.arterial_so2 == pytest.approx(0.958540630182, abs=ROUNDED)
    assert on.arterial_so2 == pytest.approx(0.951568687176, abs=ROUNDED)
    assert on.arterial_so2 < off.arterial_so2
    assert on.oxygenator_o2_transfer_ml_min < 0.0


# ---------------------------------------------------------------------------------------------------------
# VV inverse model
# ---------------------------------------------------------------------------------------------------------


def test_it_inverts_the_closed_form() -> None:
    # Target 243/268 (the forward case above) → Qeff 4 = Qb.
    result = vv_required_blood_flow(**BASE, target_arterial_so2=243 / 268)
    assert result.effective_flow_l_min == pytest.approx(4.0, abs=ROUNDED)
    assert result.ecmo_blood_flow_l_min == pytest.approx(4.0, abs=ROUNDED)
    assert result.arterial_so2 == pytest.approx(243 / 268, abs=ROUNDED)
    # Target 0.90: 1/Qeff = 1/Q + (1 − Sa*)·cap/VO2 = 0.2 + 0.1·134/250 = 0.2 + 0.0536 = 0.2536;
    # Qeff = 1/0.2536 = 3.943217665615; with R 0.25, Qb = 3.943217665615/0.75 = 5.257623554153;
    # ratio Qb/Q = 5.257623554153/5 = 1.051524710830 (bc -l).
    result = vv_required_blood_flow(**BASE, target_arterial_so2=0.9, recirculation_fraction=0.25)
    assert result.effective_flow_l_min == pytest.approx(3.943217665615, abs=ROUNDED)
    assert result.ecmo_blood_flow_l_min == pytest.approx(5.257623554153, abs=ROUNDED)
    assert result.ecmo_to_cardiac_output_ratio == pytest.approx(1.051524710830, abs=ROUNDED)
    assert result.arterial_so2 == pytest.approx(0.9, abs=ROUNDED)


def test_it_inverts_the_shunt_model() -> None:
    # s 0.5, target 0.9: w = Sv at target = 0.9 − 25/67 = 35.3/67; Sc' − w = 31.7/67;
    # f = [v − (1 − s)·(Sc' − w)]/[s·(Spost − w)] = [(25 − 15.85)/67]/[15.85/67] = 9.15/15.85 = 0.577287066;
    # Qeff = 5·0.577287066 = 2.886435331 L/min.
    result = vv_required_blood_flow(**BASE, target_arterial_so2=0.9, shunt_fraction=0.5)
    assert result.effective_flow_l_min == pytest.approx(2.886435331, abs=ROUNDED)
    forward = vv_steady_state(**BASE, ecmo_blood_flow_l_min=result.ecmo_blood_flow_l_min, shunt_fraction=0.5)
    assert forward.arterial_so2 == pytest.approx(0.9, abs=ROUNDED)


def test_it_needs_no_flow_when_the_native_lung_reaches_the_target() -> None:
    # s 0.2, pump off: Sv = (0.8 − 25/67)/0.8 = 28.6/53.6 = 143/268;
    # Sa = 143/268 + 100/268 = 243/268 = 0.9067.
    at_threshold = vv_required_blood_flow(**BASE, target_arterial_so2=243 / 268, shunt_fraction=0.2)
    assert at_threshold.ecmo_blood_flow_l_min == 0.0
    assert at_threshold.effective_flow_l_min == 0.0
    below = vv_required_blood_flow(**BASE, target_arterial_so2=0.9, shunt_fraction=0.2)
    assert below.ecmo_blood_flow_l_min == 0.0
    assert below.arterial_so2 == pytest.approx(243 / 268, abs=ROUNDED)
    # Just above the threshold a little flow is needed.
    above = vv_required_blood_flow(**BASE, target_arterial_so2=243 / 268 + 1e-4, shunt_fraction=0.2)
    assert 0.0 < above.ecmo_blood_flow_l_min < 0.1
    # Target 0.95: w = 0.95 − 25/67 = 38.65/67; f = [25 − 0.8·28.35]/[0.2·28.35] = 2.32/5.67 = 0.409171076;
    # Qeff = 2.045855379.
    result = vv_required_blood_flow(**BASE, target_arterial_so2=0.95, shunt_fraction=0.2)
    assert result.effective_flow_l_min == pytest.approx(2.045855379, abs=ROUNDED)
    # Even R = 1 needs no pump flow when the lung suffices.
    assert (
        vv_required_blood_flow(
            **BASE, target_arterial_so2=0.9, shunt_fraction=0.2, recirculation_fraction=1.0
        ).ecmo_blood_flow_l_min
        == 0.0
    )


def test_it_refuses_a_target_unreachable_up_to_the_cardiac_output() -> None:
    # No lung, Spost 0.85: at Qeff = Q, Sa = Spost = 0.85 (all venous return oxygenated to 0.85).
    at_edge = vv_required_blood_flow(**BASE, target_arterial_so2=0.85, post_oxygenator_so2=0.85)
    assert at_edge.effective_flow_l_min == pytest.approx(5.0, abs=ROUNDED)
    assert vv_steady_state(
        **BASE, ecmo_blood_flow_l_min=at_edge.ecmo_blood_flow_l_min, post_oxygenator_so2=0.85
    ).arterial_so2 == pytest.approx(0.85, abs=ROUNDED)
    with pytest.raises(InfeasibleError, match="unreachable") as err:
        vv_required_blood_flow(**BASE, target_arterial_so2=0.86, post_oxygenator_so2=0.85)
    assert err.value.field == "target_arterial_so2"


def test_it_refuses_when_flow_cannot_raise_saturation() -> None:
    # Perfect lung (s 0) with Sc' 0.85: Sa = 0.85 whatever the flow.
    assert (
        vv_required_blood_flow(
            **BASE, target_arterial_so2=0.85, shunt_fraction=0.0, end_capillary_so2=0.85
        ).ecmo_blood_flow_l_min
        == 0.0
    )
    with pytest.raises(InfeasibleError, match="cannot raise") as err:
        vv_required_blood_flow(**BASE, target_arterial_so2=0.9, shunt_fraction=0.0, end_capillary_so2=0.85)
    assert err.value.field == "target_arterial_so2"
    # Failing membrane (see the forward case): pump-off Sa 0.958540630 is the best there is.
    assert (
        vv_required_blood_flow(
            **BASE, target_arterial_so2=0.95, shunt_fraction=0.1, post_oxygenator_so2=0.5
        ).ecmo_blood_flow_l_min
        == 0.0
    )
    with pytest.raises(InfeasibleError, match="cannot raise"):
        vv_required_blood_flow(**BASE, target_arterial_so2=0.96, shunt_fraction=0.1, post_oxygenator_so2=0.5)
    # Perfect lung that cannot meet VO2 (Sc' 0.3 < v 0.373): infeasible at every flow.
    with pytest.raises(InfeasibleError, match="cannot raise"):
        vv_required_blood_flow(**BASE, target_arterial_so2=0.2, shunt_fraction=0.0, end_capillary_so2=0.3)


def test_it_refuses_a_target_that_needs_a_mixed_venous_saturation_at_or_below_zero() -> None:
    # Q 2: v = 250/(2·134) = 250/268 = 0.932835821. A target of 0.9 would need Sv = 0.9 − 0.9328 < 0.
    with pytest.raises(InfeasibleError, match="mixed-venous") as err:
        vv_required_blood_flow(
            vo2_ml_min=250.0, hb_g_dl=10.0, cardiac_output_l_min=2.0, target_arterial_so2=0.9
        )
    assert err.value.field == "target_arterial_so2"
    # Just above v it is solvable; with s 0.5 the pump-off state does not exist (Sv(0) < 0) either.
    result = vv_required_blood_flow(
        vo2_ml_min=250.0, hb_g_dl=10.0, cardiac_output_l_min=2.0, target_arterial_so2=0.95, shunt_fraction=0.5
    )
    forward = vv_steady_state(
        vo2_ml_min=250.0,
        hb_g_dl=10.0,
        cardiac_output_l_min=2.0,
        ecmo_blood_flow_l_min=result.ecmo_blood_flow_l_min,
        shunt_fraction=0.5,
    )
    assert forward.arterial_so2 == pytest.approx(0.95, abs=ROUNDED)


def test_it_refuses_a_pump_flow_above_the_ceiling() -> None:
    # Target 1.0 with no lung needs Qeff = Q = 5 (f = v/(1 − w) = v/v = 1). R 0.5 → Qb 10 (accepted, the
    # ceiling itself); R 0.6 → Qb 12.5 (refused); R 1 → every drop recirculates (refused).
    at_ceiling = vv_required_blood_flow(**BASE, target_arterial_so2=1.0, recirculation_fraction=0.5)
    assert at_ceiling.ecmo_blood_flow_l_min == pytest.approx(10.0, abs=ROUNDED)
    assert at_ceiling.ecmo_blood_flow_l_min <= 10.0
    for r in (0.6, 1.0):
        with pytest.raises(InfeasibleError, match="ceiling") as err:
            vv_required_blood_flow(**BASE, target_arterial_so2=1.0, recirculation_fraction=r)
        assert err.value.field == "ecmo_blood_flow_l_min"


# ---------------------------------------------------------------------------------------------------------
# VA models
# ---------------------------------------------------------------------------------------------------------


def test_it_mixes_native_and_ecmo_blood_by_flow() -> None:
    # (Qn·Sn + Qe·Spost)/(Qn + Qe) = (1·0.6 + 3·1.0)/4 = 3.6/4 = 0.9.
    assert va_mixed_so2(
        native_flow_l_min=1.0, native_so2=0.6, ecmo_flow_l_min=3.0, post_oxygenator_so2=1.0
    ) == pytest.approx(0.9, abs=EXACT)
    # (2·0.9 + 2·0.98)/4 = (1.8 + 1.96)/4 = 0.94.
    assert va_mixed_so2(
        native_flow_l_min=2.0, native_so2=0.9, ecmo_flow_l_min=2.0, post_oxygenator_so2=0.98
    ) == pytest.approx(0.94, abs=EXACT)
    # Either flow zero: the other stream alone.
    assert va_mixed_so2(
        native_flow_l_min=0.0, native_so2=0.6, ecmo_flow_l_min=3.0, post_oxygenator_so2=0.99
    ) == pytest.approx(0.99, abs=EXACT)
    assert va_mixed_so2(
        native_flow_l_min=3.0, native_so2=0.6, ecmo_flow_l_min=0.0, post_oxygenator_so2=0.99
    ) == pytest.approx(0.6, abs=EXACT)
    with pytest.raises(InfeasibleError) as err:
        va_mixed_so2(native_flow_l_min=0.0, native_so2=0.6, ecmo_flow_l_min=0.0, post_oxygenator_so2=0.99)
    assert err.value.field == "ecmo_flow_l_min"


def test_it_applies_the_watershed_on_both_sides_of_upper_body_flow() -> None:
    kwargs = {"native_so2": 0.8, "upper_body_flow_l_min": 1.5, "post_oxygenator_so2": 1.0}
    # Qn 2 ≥ Qub 1.5: the upper body gets native blood only → 0.8 (differential hypoxia when Sn is low).
    assert va_upper_body_so2(native_flow_l_min=2.0, **kwargs) == 0.8
    # Qn = Qub: still native only → 0.8.
    assert va_upper_body_so2(native_flow_l_min=1.5, **kwargs) == 0.8
    # Qn 1.49 < Qub: (1.49·0.8 + 0.01·1.0)/1.5 = (1.192 + 0.01)/1.5 = 1.202/1.5 = 0.801333333.
    assert va_upper_body_so2(native_flow_l_min=1.49, **kwargs) == pytest.approx(0.801333333, abs=ROUNDED)
    # Qn 1.0: (0.8 + 0.5)/1.5 = 1.3/1.5 = 0.866666667. Qn 0 (no ejection): Spost.
    assert va_upper_body_so2(native_flow_l_min=1.0, **kwargs) == pytest.approx(0.866666667, abs=ROUNDED)
    assert va_upper_body_so2(native_flow_l_min=0.0, **kwargs) == pytest.approx(1.0, abs=EXACT)


# ---------------------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------------------

VALID: dict[Callable[..., object], dict[str, Any]] = {
    vv_steady_state: {
        **BASE,
        "ecmo_blood_flow_l_min": 4.0,
        "recirculation_fraction": 0.1,
        "shunt_fraction": 0.8,
        "end_capillary_so2": 0.98,
        "post_oxygenator_so2": 1.0,
        "hufner_ml_g": 1.34,
    },
    vv_required_blood_flow: {
        **BASE,
        "target_arterial_so2": 0.88,
        "recirculation_fraction": 0.1,
        "shunt_fraction": 0.8,
        "end_capillary_so2": 0.98,
        "post_oxygenator_so2": 1.0,
        "hufner_ml_g": 1.34,
    },
    va_mixed_so2: {
        "native_flow_l_min": 1.0,
        "native_so2": 0.7,
        "ecmo_flow_l_min": 3.0,
        "post_oxygenator_so2": 1.0,
    },
    va_upper_body_so2: {
        "native_flow_l_min": 1.0,
        "native_so2": 0.7,
        "upper_body_flow_l_min": 1.5,
        "post_oxygenator_so2": 1.0,
    },
}
FRACTIONS = {
    "recirculation_fraction",
    "shunt_fraction",
    "end_capillary_so2",
    "post_oxygenator_so2",
    "target_arterial_so2",
    "native_so2",
}
FIELDS = [(func, name) for func, kwargs in VALID.items() for name in kwargs]


def _id(case: tuple[Callable[..., object], str]) -> str:
    return f"{case[0].__name__}-{case[1]}"


def _call(func: Callable[..., object], **overrides: Any) -> object:
    return func(**{**VALID[func], **overrides})


@pytest.mark.parametrize("func", list(VALID), ids=lambda f: f.__name__)
def test_it_accepts_the_valid_base_inputs(func: Callable[..., object]) -> None:
    _call(func)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True, False, "0.5", None, -1.0], ids=repr)
@pytest.mark.parametrize("case", FIELDS, ids=_id)
def test_it_refuses_bad_values_in_every_field(case: tuple[Callable[..., object], str], bad: object) -> None:
    func, field = case
    with pytest.raises(InputError) as err:
        _call(func, **{field: bad})
    assert err.value.field == field


@pytest.mark.parametrize("percent", [95.0, 100, 1.01])
@pytest.mark.parametrize("case", [c for c in FIELDS if c[1] in FRACTIONS], ids=_id)
def test_it_refuses_percentages_in_fraction_fields(
    case: tuple[Callable[..., object], str], percent: float
) -> None:
    func, field = case
    with pytest.raises(InputError, match="fraction") as err:
        _call(func, **{field: percent})
    assert err.value.field == field


def test_it_refuses_a_zero_target() -> None:
    with pytest.raises(InputError) as err:
        _call(vv_required_blood_flow, target_arterial_so2=0.0)
    assert err.value.field == "target_arterial_so2"


# --- Dissolved O2 in the ECMO return ---------------------------------------------------------------------
# No lung (s = 1), VO2 250, Hb 10, k 1.34 → cap = 134 mL/L; Q 5, Qb 3, R 0 → f = 0.6; v = 250/(5·134).
# α·PO2 = 0.003 × 400 = 1.2 mL/dL; as Hb-equivalent saturation 1.2 / (1.34 × 10) = 1.2/13.4 = 6/67.
# Sa = Spost' − (VO2/cap)(1/Qeff − 1/Q) with Spost' = 1 + 6/67:
#   without: 1 − (250/134)(1/3 − 1/5) = 1 − (250/134)(2/15) = 1 − 50/201 = 151/201 ≈ 0.7512
#   with:    151/201 + 6/67 = 151/201 + 18/201 = 169/201 ≈ 0.8408 (+9.0 points)
DISSOLVED_BASE: dict[str, Any] = {
    "vo2_ml_min": 250.0,
    "hb_g_dl": 10.0,
    "cardiac_output_l_min": 5.0,
    "ecmo_blood_flow_l_min": 3.0,
}


def test_it_adds_the_dissolved_oxygen_of_the_return_by_hand() -> None:
    without = vv_steady_state(**DISSOLVED_BASE)
    with_po2 = vv_steady_state(**DISSOLVED_BASE, post_oxygenator_po2_mmhg=400.0)
    assert without.arterial_so2 == pytest.approx(151 / 201, abs=1e-12)
    assert with_po2.arterial_so2 == pytest.approx(169 / 201, abs=1e-12)
    # Sv = Sa − v, v = 250/670 = 25/67: without 151/201 − 75/201 = 76/201; with 169/201 − 75/201 = 94/201
    assert with_po2.mixed_venous_so2 == pytest.approx(94 / 201, abs=1e-12)
    # Membrane transfer = VO2 with no lung: Qeff·(Spost' − Sv)·cap = 3 × (1 + 6/67 − 94/201) × 134 = 250
    assert with_po2.oxygenator_o2_transfer_ml_min == pytest.approx(250.0, abs=1e-9)


def test_it_keeps_every_result_unchanged_without_a_po2_or_with_zero_solubility() -> None:
    plain = vv_steady_state(**DISSOLVED_BASE)
    assert vv_steady_state(**DISSOLVED_BASE, post_oxygenator_po2_mmhg=None) == plain
    assert (
        vv_steady_state(**DISSOLVED_BASE, post_oxygenator_po2_mmhg=450.0, dissolved_ml_dl_mmhg=0.0) == plain
    )
    flow = {k: v for k, v in DISSOLVED_BASE.items() if k != "ecmo_blood_flow_l_min"}
    assert vv_required_blood_flow(**flow, target_arterial_so2=0.9, post_oxygenator_po2_mmhg=None) == (
        vv_required_blood_flow(**flow, target_arterial_so2=0.9)
    )


def test_it_asks_for_less_flow_when_the_dissolved_oxygen_is_counted() -> None:
    flow = {k: v for k, v in DISSOLVED_BASE.items() if k != "ecmo_blood_flow_l_min"}
    # 1/Qeff = 1/Q + (Spost' − Sa*)·cap/VO2. Target 169/201 with Spost' = 1 + 6/67 → Qeff = 3 (the forward case);
    # without the dissolved term, 1/Qeff = 1/5 + (1 − 169/201)(134/250) = 1/5 + (32/201)(0.536) → Qeff ≈ 3.4966
    with_po2 = vv_required_blood_flow(**flow, target_arterial_so2=169 / 201, post_oxygenator_po2_mmhg=400.0)
    without = vv_required_blood_flow(**flow, target_arterial_so2=169 / 201)
    assert with_po2.ecmo_blood_flow_l_min == pytest.approx(3.0, abs=1e-9)
    assert without.ecmo_blood_flow_l_min == pytest.approx(1 / (0.2 + (32 / 201) * 0.536), abs=1e-9)


def test_it_caps_mixtures_at_full_saturation_when_the_return_carries_extra_oxygen() -> None:
    # Qb = Q (f = 1), Spost' = 1 + 6/67: the pulmonary-artery blood is all return; its Hb is saturated (1.0)
    state = vv_steady_state(
        **{**DISSOLVED_BASE, "ecmo_blood_flow_l_min": 5.0}, post_oxygenator_po2_mmhg=400.0
    )
    assert state.pulmonary_artery_so2 == 1.0
    assert state.arterial_so2 == 1.0


@pytest.mark.parametrize("bad", [0.0, -5.0, 800.1, math.nan, "400", True])
def test_it_refuses_a_bad_post_oxygenator_po2(bad: object) -> None:
    with pytest.raises(InputError) as err:
        vv_steady_state(**DISSOLVED_BASE, post_oxygenator_po2_mmhg=bad)  # type: ignore[arg-type]
    assert err.value.field == "post_oxygenator_po2_mmhg"


@pytest.mark.parametrize("bad", [-0.001, 0.0051, math.nan, None])
def test_it_refuses_a_bad_solubility(bad: object) -> None:
    with pytest.raises(InputError) as err:
        vv_required_blood_flow(
            **{k: v for k, v in DISSOLVED_BASE.items() if k != "ecmo_blood_flow_l_min"},
            target_arterial_so2=0.9,
            dissolved_ml_dl_mmhg=bad,  # type: ignore[arg-type]
        )
    assert err.value.field == "dissolved_ml_dl_mmhg"


# Bases that stay feasible at the extremes of each range: Q 20, Qb 10, Hb 15, VO2 100, s 0.5
# (cap 201, v = 100/4020 ≈ 0.025).
ROOMY: dict[str, Any] = {
    "vo2_ml_min": 100.0,
    "hb_g_dl": 15.0,
    "cardiac_output_l_min": 20.0,
    "ecmo_blood_flow_l_min": 10.0,
    "shunt_fraction": 0.5,
}


@pytest.mark.parametrize(
    ("field", "low", "low_ok", "high"),
    [
        ("vo2_ml_min", 0.0, False, 1000.0),
        ("hb_g_dl", 0.0, False, 25.0),
        ("cardiac_output_l_min", 0.0, False, 20.0),
        ("ecmo_blood_flow_l_min", 0.0, True, 10.0),
        ("hufner_ml_g", 1.30, True, 1.40),
    ],
)
def test_it_checks_both_sides_of_each_vv_bound(field: str, low: float, low_ok: bool, high: float) -> None:
    assert 0.0 <= vv_steady_state(**{**ROOMY, field: high}).arterial_so2 <= 1.0
    with pytest.raises(InputError) as err:
        vv_steady_state(**{**ROOMY, field: math.nextafter(high, math.inf)})
    assert err.value.field == field
    if low_ok:
        assert 0.0 <= vv_steady_state(**{**ROOMY, field: low}).arterial_so2 <= 1.0
    else:
        with pytest.raises(InputError) as err:
            vv_steady_state(**{**ROOMY, field: low})
        assert err.value.field == field
    with pytest.raises(InputError) as err:
        vv_steady_state(**{**ROOMY, field: math.nextafter(low, -math.inf)})
    assert err.value.field == field


def test_it_passes_tiny_positive_values_to_the_model_rather_than_the_validator() -> None:
    # Just above an exclusive lower bound the input is valid; the state it describes is not.
    with pytest.raises(InfeasibleError):
        vv_steady_state(**{**ROOMY, "hb_g_dl": 1e-6})
    with pytest.raises(InfeasibleError):
        vv_steady_state(**{**ROOMY, "cardiac_output_l_min": 1e-6})
    # VO2 → 0 (s 0.5, f 10/20 = 0.5): Sv = (0.5·1 + 0.5·0.5·1 − v)/(1 − 0.5·0.5) = (0.75 − v)/0.75 → 1;
    # Sa → 1.
    assert vv_steady_state(**{**ROOMY, "vo2_ml_min": 1e-6}).arterial_so2 == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("func", "field", "low", "low_ok", "high"),
    [
        (va_mixed_so2, "native_flow_l_min", 0.0, True, 20.0),
        (va_mixed_so2, "ecmo_flow_l_min", 0.0, True, 10.0),
        (va_upper_body_so2, "native_flow_l_min", 0.0, True, 20.0),
        (va_upper_body_so2, "upper_body_flow_l_min", 0.0, False, 20.0),
    ],
)
def test_it_checks_both_sides_of_each_va_bound(
    func: Callable[..., object], field: str, low: float, low_ok: bool, high: float
) -> None:
    assert isinstance(_call(func, **{field: high}), float)
    with pytest.raises(InputError) as err:
        _call(func, **{field: math.nextafter(high, math.inf)})
    assert err.value.field == field
    if low_ok:
        assert isinstance(_call(func, **{field: low}), float)
    else:
        with pytest.raises(InputError) as err:
            _call(func, **{field: low})
        assert err.value.field == field
    with pytest.raises(InputError) as err:
        _call(func, **{field: math.nextafter(low, -math.inf)})
    assert err.value.field == field


# ---------------------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------------------

patients = st.fixed_dictionaries(
    {
        "vo2_ml_min": st.floats(100.0, 400.0),
        "hb_g_dl": st.floats(6.0, 16.0),
        "cardiac_output_l_min": st.floats(2.5, 10.0),
        "recirculation_fraction": st.floats(0.0, 0.6),
        "shunt_fraction": st.floats(0.0, 1.0),
        "end_capillary_so2": st.floats(0.7, 1.0),
        "hufner_ml_g": st.sampled_from([1.34, 1.36, 1.39]),
    }
)


def _max_pump_flow(patient: dict[str, Any]) -> float:
    return min(10.0, patient["cardiac_output_l_min"] / (1.0 - patient["recirculation_fraction"]))


def _assert_unit(state: VVState) -> None:
    for value in (
        state.arterial_so2,
        state.mixed_venous_so2,
        state.pulmonary_artery_so2,
        state.pre_oxygenator_so2,
    ):
        assert 0.0 <= value <= 1.0


@settings(max_examples=300, deadline=None)
@given(
    patient=patients,
    spost_above_sc=st.floats(0.0, 1.0),
    low=st.floats(0.0, 1.0),
    extra=st.floats(0.0, 1.0),
)
def test_it_never_lowers_arterial_saturation_with_more_ecmo_flow(
    patient: dict[str, Any], spost_above_sc: float, low: float, extra: float
) -> None:
    # Spost ≥ Sc' (a working membrane): the documented condition for monotonicity.
    sc = patient["end_capillary_so2"]
    spost = sc + spost_above_sc * (1.0 - sc)
    top = _max_pump_flow(patient)
    flow_low = low * top
    flow_high = flow_low + extra * (top - flow_low)
    try:
        lower = vv_steady_state(**patient, post_oxygenator_so2=spost, ecmo_blood_flow_l_min=flow_low)
    except InfeasibleError:
        return  # nothing to compare against; the higher flow may or may not be feasible
    higher = vv_steady_state(**patient, post_oxygenator_so2=spost, ecmo_blood_flow_l_min=flow_high)
    assert higher.arterial_so2 >= lower.arterial_so2 - 1e-12
    assert higher.mixed_venous_so2 >= lower.mixed_venous_so2 - 1e-12
    _assert_unit(lower)
    _assert_unit(higher)


@settings(max_examples=300, deadline=None)
@given(patient=patients, spost=st.floats(0.6, 1.0), target=st.floats(0.6, 1.0))
def test_it_agrees_forward_and_inverse(patient: dict[str, Any], spost: float, target: float) -> None:
    try:
        required = vv_required_blood_flow(**patient, post_oxygenator_so2=spost, target_arterial_so2=target)
    except InfeasibleError:
        return  # the target is out of reach: nothing to compare
    state = vv_steady_state(
        **patient, post_oxygenator_so2=spost, ecmo_blood_flow_l_min=required.ecmo_blood_flow_l_min
    )
    _assert_unit(state)
    assert state.arterial_so2 == pytest.approx(required.arterial_so2, abs=1e-12)
    if required.ecmo_blood_flow_l_min > 0.0:
        assert state.arterial_so2 == pytest.approx(target, abs=1e-9)
        # And it is the smallest such flow: 1 % less flow falls short (or cannot meet VO2 at all).
        try:
            less = vv_steady_state(
                **patient,
                post_oxygenator_so2=spost,
                ecmo_blood_flow_l_min=0.99 * required.ecmo_blood_flow_l_min,
            )
        except InfeasibleError:
            return
        assert less.arterial_so2 < target + 1e-12
    else:
        assert state.arterial_so2 >= target - 1e-12  # the native lung reaches the target (to rounding)


@settings(max_examples=200, deadline=None)
@given(patient=patients, fraction_of_top=st.floats(0.0, 1.0))
def test_it_predicts_a_drainage_saturation_consistent_with_the_recirculation_formula(
    patient: dict[str, Any], fraction_of_top: float
) -> None:
    try:
        state = vv_steady_state(**patient, ecmo_blood_flow_l_min=fraction_of_top * _max_pump_flow(patient))
    except InfeasibleError:
        return
    if state.mixed_venous_so2 < 1.0:  # Spost (1.0) > Sv: R is defined
        r = recirculation_fraction(
            pre_oxygenator_so2=state.pre_oxygenator_so2,
            post_oxygenator_so2=1.0,
            mixed_venous_so2=state.mixed_venous_so2,
        )
        assert r == pytest.approx(patient["recirculation_fraction"], abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(patient=patients, fraction_of_top=st.floats(0.0, 1.0))
def test_it_transfers_all_consumed_oxygen_through_the_membrane_without_a_lung(
    patient: dict[str, Any], fraction_of_top: float
) -> None:
    patient = {**patient, "shunt_fraction": 1.0}
    try:
        state = vv_steady_state(**patient, ecmo_blood_flow_l_min=fraction_of_top * _max_pump_flow(patient))
    except InfeasibleError:
        return
    assert state.oxygenator_o2_transfer_ml_min == pytest.approx(patient["vo2_ml_min"], rel=1e-9)
    # And DO2 − VO2 = Q·Sv·cap (venous return carries the rest).
    assert state.do2_ml_min >= patient["vo2_ml_min"] * (1 - 1e-12)


@settings(max_examples=300, deadline=None)
@given(
    native_flow=st.floats(0.0, 20.0),
    native_so2=st.floats(0.0, 1.0),
    ecmo_flow=st.floats(0.0, 10.0),
    spost=st.floats(0.0, 1.0),
    upper_body_flow=st.floats(0.01, 20.0),
)
def test_it_keeps_va_saturations_between_their_inputs(
    native_flow: float, native_so2: float, ecmo_flow: float, spost: float, upper_body_flow: float
) -> None:
    low, high = min(native_so2, spost), max(native_so2, spost)
    if native_flow + ecmo_flow > 0.0:
        mixed = va_mixed_so2(
            native_flow_l_min=native_flow,
            native_so2=native_so2,
            ecmo_flow_l_min=ecmo_flow,
            post_oxygenator_so2=spost,
        )
        assert low - 1e-12 <= mixed <= high + 1e-12
        assert 0.0 <= mixed <= 1.0
    upper = va_upper_body_so2(
        native_flow_l_min=native_flow,
        native_so2=native_so2,
        upper_body_flow_l_min=upper_body_flow,
        post_oxygenator_so2=spost,
    )
    assert low - 1e-12 <= upper <= high + 1e-12
    assert 0.0 <= upper <= 1.0


def test_it_mixes_vanishingly_small_flows_without_leaving_the_inputs() -> None:
    # Found by Hypothesis: with Qn = 5e-324 (subnormal) the naive (Qn·Sn + Qe·Sp)/(Qn + Qe) gave 1.0
    # for Sn 0.75, Qe 0, Sp 0, because 5e-324·0.75 rounds back to 5e-324.
    tiny = 5e-324
    assert (
        va_mixed_so2(native_flow_l_min=tiny, native_so2=0.75, ecmo_flow_l_min=0.0, post_oxygenator_so2=0.0)
        == 0.75
    )
    assert va_upper_body_so2(
        native_flow_l_min=0.0, native_so2=0.75, upper_body_flow_l_min=tiny, post_oxygenator_so2=0.0
    ) == pytest.approx(0.0, abs=EXACT)


def test_it_keeps_the_required_flow_at_zero_when_a_vanishing_shunt_cancels_catastrophically() -> None:
    # Found by hypothesis: shunt 3e-117 and a target equal to Sc'. Sa(0) and Sa(1) differ by an ulp, so the
    # closed form's quotient cancels to about -1e101; the answer is zero flow (the native lung suffices).
    required = vv_required_blood_flow(
        vo2_ml_min=100.0,
        hb_g_dl=6.0,
        cardiac_output_l_min=6.0,
        recirculation_fraction=0.0,
        shunt_fraction=3.040091962857491e-117,
        end_capillary_so2=0.7133741319613992,
        hufner_ml_g=1.39,
        post_oxygenator_so2=1.0,
        target_arterial_so2=0.7133741319613992,
    )
    assert required.ecmo_blood_flow_l_min == 0.0
