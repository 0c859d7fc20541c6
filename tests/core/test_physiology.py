"""Spec checklist for ``ecmo_core.physiology`` (core-api §1; formulas: scores-and-models §12,
reference.md §4.1).

- [x] Every public name of core-api §1 exists, is listed in ``CALCULATORS``, takes keyword-only arguments
      with the documented defaults, and returns a float.
- [x] Each formula reproduces reference values worked out by hand from its published definition (the
      arithmetic is written beside each expected value), within a stated tolerance:
      O2 content, DO2, VO2 (Fick), O2ER, oxygenator O2 transfer, oxygenator CO2 removal (saturated and dry
      exhaust), recirculation fraction, ECMO-Fick cardiac output, BSA (Mosteller, DuBois), cardiac index,
      ARDSNet PBW, P/F, OI, driving pressure, static compliance, mechanical power (simplified surrogate),
      Severinghaus SO2.
- [x] Demo-scenario values (demo-scenarios.md runs 1 and 4) are reproduced where they use these formulas.
- [x] Both sides of every plausibility bound: the bound itself is accepted (or refused, if exclusive) and
      the next representable value outside it is refused with ``InputError`` naming the keyword.
- [x] Bad input sweeps: NaN, ±inf, bool, str, None in every numeric keyword; negatives; percentages in
      fraction keywords (message says "fraction"); unknown enums (``method="foo"``, ``sex="m"``).
- [x] Impossible combinations raise ``InfeasibleError`` (both sides of each condition are tested):
      CvO2 > CaO2, post < pre content, recirculation outside 0–1 or undefined, ECMO-Fick assumptions broken,
      plateau < PEEP, peak < plateau, zero driving pressure for compliance.

Tolerances: ``rel=1e-12`` where the hand arithmetic is exact (terminating decimals); ``abs=1e-9`` where the
hand value is a rounded decimal expansion (quoted to 12 significant figures, checked with ``bc -l``).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import pytest

from ecmo_core import physiology as phys
from ecmo_core.errors import InfeasibleError, InputError
from ecmo_core.physiology import (
    body_surface_area_m2,
    cardiac_index_l_min_m2,
    driving_pressure_cmh2o,
    ecmo_fick_cardiac_output_l_min,
    mechanical_power_j_min,
    oxygen_consumption_ml_min,
    oxygen_content_ml_dl,
    oxygen_delivery_ml_min,
    oxygen_extraction_ratio,
    oxygenation_index,
    oxygenator_co2_removal_ml_min,
    oxygenator_o2_transfer_ml_min,
    pf_ratio_mmhg,
    predicted_body_weight_kg,
    recirculation_fraction,
    so2_from_po2,
    static_compliance_ml_cmh2o,
)

EXACT = 1e-12  # relative, for exact decimal arithmetic
ROUNDED = 1e-9  # absolute, for hand values quoted to 12 significant figures

Calc = Callable[..., float]

# Valid inputs for every calculator: the base of the bad-input sweeps.
VALID: dict[Calc, dict[str, Any]] = {
    oxygen_content_ml_dl: {"hb_g_dl": 12.0, "so2": 0.95, "po2_mmhg": 90.0},
    oxygen_delivery_ml_min: {"cardiac_output_l_min": 5.0, "cao2_ml_dl": 18.0},
    oxygen_consumption_ml_min: {"cardiac_output_l_min": 5.0, "cao2_ml_dl": 18.0, "cvo2_ml_dl": 13.0},
    oxygen_extraction_ratio: {"cao2_ml_dl": 18.0, "cvo2_ml_dl": 13.0},
    oxygenator_o2_transfer_ml_min: {
        "blood_flow_l_min": 4.0,
        "post_content_ml_dl": 17.0,
        "pre_content_ml_dl": 12.0,
    },
    oxygenator_co2_removal_ml_min: {"sweep_gas_l_min": 4.0, "exhaust_pco2_mmhg": 30.0},
    recirculation_fraction: {
        "pre_oxygenator_so2": 0.75,
        "post_oxygenator_so2": 1.0,
        "mixed_venous_so2": 0.65,
    },
    ecmo_fick_cardiac_output_l_min: {
        "blood_flow_l_min": 4.0,
        "post_content_ml_dl": 20.0,
        "cao2_ml_dl": 18.0,
        "cvo2_ml_dl": 13.0,
    },
    body_surface_area_m2: {"height_cm": 175.0, "weight_kg": 80.0},
    cardiac_index_l_min_m2: {"cardiac_output_l_min": 5.0, "bsa_m2": 2.0},
    predicted_body_weight_kg: {"sex": "female", "height_cm": 165.0},
    pf_ratio_mmhg: {"pao2_mmhg": 80.0, "fio2": 0.8},
    oxygenation_index: {"fio2": 0.8, "mean_airway_pressure_cmh2o": 20.0, "pao2_mmhg": 80.0},
    driving_pressure_cmh2o: {"plateau_cmh2o": 28.0, "peep_cmh2o": 12.0},
    static_compliance_ml_cmh2o: {"tidal_volume_ml": 400.0, "plateau_cmh2o": 28.0, "peep_cmh2o": 12.0},
    mechanical_power_j_min: {
        "respiratory_rate_min": 20.0,
        "tidal_volume_l": 0.4,
        "peak_cmh2o": 32.0,
        "plateau_cmh2o": 28.0,
        "peep_cmh2o": 12.0,
    },
    so2_from_po2: {"po2_mmhg": 60.0},
}

FRACTION_FIELDS = {"so2", "pre_oxygenator_so2", "post_oxygenator_so2", "mixed_venous_so2", "fio2"}
ENUM_FIELDS = {"method", "sex"}

# Optional keywords are swept too (with the defaults of core-api §1 as the valid base).
OPTIONAL_NUMERIC: dict[Calc, tuple[str, ...]] = {
    oxygen_content_ml_dl: ("hufner_ml_g", "dissolved_ml_dl_mmhg"),
    oxygenator_co2_removal_ml_min: ("barometric_mmhg", "water_vapour_mmhg"),
    mechanical_power_j_min: ("conversion_j_per_l_cmh2o",),
}


def _numeric_fields() -> list[tuple[Calc, str]]:
    cases = []
    for func, kwargs in VALID.items():
        for name in kwargs:
            if name not in ENUM_FIELDS:
                cases.append((func, name))
        cases.extend((func, name) for name in OPTIONAL_NUMERIC.get(func, ()))
    return cases


def _id(case: tuple[Calc, str]) -> str:
    return f"{case[0].__name__}-{case[1]}"


NUMERIC_FIELDS = _numeric_fields()


def _call(func: Calc, **overrides: Any) -> float:
    return func(**{**VALID[func], **overrides})


# ---------------------------------------------------------------------------------------------------------
# Contract
# ---------------------------------------------------------------------------------------------------------

CORE_API_1 = (
    "oxygen_content_ml_dl",
    "oxygen_delivery_ml_min",
    "oxygen_consumption_ml_min",
    "oxygen_extraction_ratio",
    "oxygenator_o2_transfer_ml_min",
    "oxygenator_co2_removal_ml_min",
    "recirculation_fraction",
    "ecmo_fick_cardiac_output_l_min",
    "body_surface_area_m2",
    "cardiac_index_l_min_m2",
    "predicted_body_weight_kg",
    "pf_ratio_mmhg",
    "oxygenation_index",
    "driving_pressure_cmh2o",
    "static_compliance_ml_cmh2o",
    "mechanical_power_j_min",
    "so2_from_po2",
)


def test_it_lists_every_core_api_function_in_calculators() -> None:
    assert set(phys.CALCULATORS) == set(CORE_API_1)
    assert len(phys.CALCULATORS) == len(CORE_API_1)
    assert {func.__name__ for func in VALID} == set(CORE_API_1)


@pytest.mark.parametrize("name", CORE_API_1)
def test_it_takes_keyword_only_arguments_and_returns_a_float(name: str) -> None:
    func = getattr(phys, name)
    parameters = inspect.signature(func).parameters.values()
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    assert isinstance(func(**VALID[func]), float)
    with pytest.raises(TypeError):
        func(*VALID[func].values())


@pytest.mark.parametrize(
    ("func", "defaults"),
    [
        (oxygen_content_ml_dl, {"hufner_ml_g": 1.34, "dissolved_ml_dl_mmhg": 0.003}),
        (
            oxygenator_co2_removal_ml_min,
            {"barometric_mmhg": 760.0, "saturated_exhaust": True, "water_vapour_mmhg": 47.0},
        ),
        (body_surface_area_m2, {"method": "mosteller"}),
        (mechanical_power_j_min, {"conversion_j_per_l_cmh2o": 0.098}),
    ],
)
def test_it_documents_its_constants_as_keyword_defaults(func: Calc, defaults: dict[str, object]) -> None:
    parameters = inspect.signature(func).parameters
    assert {name: parameters[name].default for name in defaults} == defaults


# ---------------------------------------------------------------------------------------------------------
# Reference values (worked by hand from the definitions in scores-and-models §12 / reference.md §4.1)
# ---------------------------------------------------------------------------------------------------------


def test_it_computes_oxygen_content_by_hand() -> None:
    # CaO2 = 1.34·Hb·SO2 + 0.003·PO2 (reference.md §4.1).
    # 1.34·15 = 20.1; 20.1·0.98 = 19.698; 0.003·100 = 0.3; total 19.998 mL/dL.
    assert oxygen_content_ml_dl(hb_g_dl=15.0, so2=0.98, po2_mmhg=100.0) == pytest.approx(19.998, rel=EXACT)
    # Venous: 1.34·10 = 13.4; ·0.75 = 10.05; 0.003·40 = 0.12; total 10.17 mL/dL.
    assert oxygen_content_ml_dl(hb_g_dl=10.0, so2=0.75, po2_mmhg=40.0) == pytest.approx(10.17, rel=EXACT)
    # Other constants: 1.39·12·1.0 = 16.68; 0.0031·500 = 1.55; total 18.23 mL/dL.
    assert oxygen_content_ml_dl(
        hb_g_dl=12.0, so2=1.0, po2_mmhg=500.0, hufner_ml_g=1.39, dissolved_ml_dl_mmhg=0.0031
    ) == pytest.approx(18.23, rel=EXACT)
    # Dissolved O2 excluded (α = 0): 1.34·10·0.5 = 6.7 mL/dL.
    assert oxygen_content_ml_dl(
        hb_g_dl=10.0, so2=0.5, po2_mmhg=27.0, dissolved_ml_dl_mmhg=0.0
    ) == pytest.approx(6.7, rel=EXACT)


def test_it_computes_oxygen_delivery_by_hand() -> None:
    # DO2 = CO·CaO2·10: 5·20·10 = 1000 mL/min; 4.4·19.998·10 = 87.9912·10 = 879.912 mL/min.
    assert oxygen_delivery_ml_min(cardiac_output_l_min=5.0, cao2_ml_dl=20.0) == pytest.approx(
        1000.0, rel=EXACT
    )
    assert oxygen_delivery_ml_min(cardiac_output_l_min=4.4, cao2_ml_dl=19.998) == pytest.approx(
        879.912, rel=EXACT
    )
    assert oxygen_delivery_ml_min(cardiac_output_l_min=0.0, cao2_ml_dl=20.0) == 0.0


def test_it_computes_oxygen_consumption_by_fick() -> None:
    # VO2 = CO·(CaO2 − CvO2)·10 = 5·(20 − 15)·10 = 250 mL/min.
    assert oxygen_consumption_ml_min(
        cardiac_output_l_min=5.0, cao2_ml_dl=20.0, cvo2_ml_dl=15.0
    ) == pytest.approx(250.0, rel=EXACT)
    # Equal contents: zero consumption (the boundary of the infeasibility check).
    assert oxygen_consumption_ml_min(cardiac_output_l_min=5.0, cao2_ml_dl=20.0, cvo2_ml_dl=20.0) == 0.0


def test_it_refuses_venous_content_above_arterial_for_consumption() -> None:
    with pytest.raises(InfeasibleError) as err:
        oxygen_consumption_ml_min(cardiac_output_l_min=5.0, cao2_ml_dl=20.0, cvo2_ml_dl=20.5)
    assert err.value.field == "cvo2_ml_dl"


def test_it_computes_the_extraction_ratio_by_hand() -> None:
    # O2ER = (20 − 15)/20 = 0.25; (18 − 18)/18 = 0; (10 − 0)/10 = 1.
    assert oxygen_extraction_ratio(cao2_ml_dl=20.0, cvo2_ml_dl=15.0) == pytest.approx(0.25, rel=EXACT)
    assert oxygen_extraction_ratio(cao2_ml_dl=18.0, cvo2_ml_dl=18.0) == 0.0
    assert oxygen_extraction_ratio(cao2_ml_dl=10.0, cvo2_ml_dl=0.0) == 1.0
    with pytest.raises(InfeasibleError) as err:
        oxygen_extraction_ratio(cao2_ml_dl=18.0, cvo2_ml_dl=18.5)
    assert err.value.field == "cvo2_ml_dl"


def test_it_computes_oxygenator_o2_transfer_by_hand() -> None:
    # V'O2ML = Qb·(Cpost − Cpre)·10 = 4·(20.5 − 15.0)·10 = 4·5.5·10 = 220 mL/min.
    assert oxygenator_o2_transfer_ml_min(
        blood_flow_l_min=4.0, post_content_ml_dl=20.5, pre_content_ml_dl=15.0
    ) == pytest.approx(220.0, rel=EXACT)
    # Equal contents (sweep off): 0; post below pre: the samples are swapped.
    assert (
        oxygenator_o2_transfer_ml_min(blood_flow_l_min=4.0, post_content_ml_dl=15.0, pre_content_ml_dl=15.0)
        == 0.0
    )
    with pytest.raises(InfeasibleError) as err:
        oxygenator_o2_transfer_ml_min(blood_flow_l_min=4.0, post_content_ml_dl=14.9, pre_content_ml_dl=15.0)
    assert err.value.field == "post_content_ml_dl"


def test_it_computes_oxygenator_co2_removal_saturated_and_dry() -> None:
    # V'CO2 = sweep(mL/min)·PeCO2/(Pb − 47) saturated, /Pb dry (scores-and-models §12).
    # 4 L/min = 4000 mL/min; 4000·30 = 120000; 120000/713 = 168.302945301542 (bc -l).
    assert oxygenator_co2_removal_ml_min(sweep_gas_l_min=4.0, exhaust_pco2_mmhg=30.0) == pytest.approx(
        168.302945301542, abs=ROUNDED
    )
    # Dry: 120000/760 = 157.894736842105.
    assert oxygenator_co2_removal_ml_min(
        sweep_gas_l_min=4.0, exhaust_pco2_mmhg=30.0, saturated_exhaust=False
    ) == pytest.approx(157.894736842105, abs=ROUNDED)
    # Altitude, Pb 600: 120000/(600 − 47) = 120000/553 = 216.998191681735.
    assert oxygenator_co2_removal_ml_min(
        sweep_gas_l_min=4.0, exhaust_pco2_mmhg=30.0, barometric_mmhg=600.0
    ) == pytest.approx(216.998191681735, abs=ROUNDED)
    # Water vapour at 42 °C ≈ 61 mmHg: 120000/(760 − 61) = 120000/699 = 171.673819742489.
    assert oxygenator_co2_removal_ml_min(
        sweep_gas_l_min=4.0, exhaust_pco2_mmhg=30.0, water_vapour_mmhg=61.0
    ) == pytest.approx(171.673819742489, abs=ROUNDED)
    # Dry exhaust ignores the water vapour pressure.
    assert oxygenator_co2_removal_ml_min(
        sweep_gas_l_min=4.0, exhaust_pco2_mmhg=30.0, saturated_exhaust=False, water_vapour_mmhg=61.0
    ) == pytest.approx(157.894736842105, abs=ROUNDED)
    assert oxygenator_co2_removal_ml_min(sweep_gas_l_min=0.0, exhaust_pco2_mmhg=30.0) == 0.0


def test_it_reproduces_the_demo_recirculation_values() -> None:
    # demo-scenarios run 1, D1 06:00: Spre 0.80, Spost 1.00, Sv 0.66: R = 0.14/0.34 = 0.411764705882 ("0.41").
    assert recirculation_fraction(
        pre_oxygenator_so2=0.80, post_oxygenator_so2=1.0, mixed_venous_so2=0.66
    ) == pytest.approx(0.411764705882, abs=ROUNDED)
    # D1 10:00: Spre 0.73: R = 0.07/0.34 = 0.205882352941 ("0.21").
    assert recirculation_fraction(
        pre_oxygenator_so2=0.73, post_oxygenator_so2=1.0, mixed_venous_so2=0.66
    ) == pytest.approx(0.205882352941, abs=ROUNDED)


@pytest.mark.parametrize(
    ("pre", "post", "venous", "expected"),
    [
        (0.65, 1.0, 0.65, 0.0),  # Spre = Sv: no recirculation (lower edge of 0–1)
        (1.0, 1.0, 0.65, 1.0),  # Spre = Spost: all recirculation (upper edge)
        (0.70, 0.90, 0.60, 1.0 / 3.0),  # (0.70 − 0.60)/(0.90 − 0.60) = 0.1/0.3 = 1/3
    ],
)
def test_it_computes_recirculation_at_both_edges(
    pre: float, post: float, venous: float, expected: float
) -> None:
    result = recirculation_fraction(pre_oxygenator_so2=pre, post_oxygenator_so2=post, mixed_venous_so2=venous)
    assert result == pytest.approx(expected, abs=ROUNDED)


@pytest.mark.parametrize(
    ("pre", "post", "venous", "field"),
    [
        (0.70, 0.65, 0.65, "post_oxygenator_so2"),  # Spost = Sv: R undefined (division by zero)
        (0.60, 0.60, 0.65, "post_oxygenator_so2"),  # Spost < Sv: oxygenator adds no oxygen
        (0.64, 1.0, 0.65, "pre_oxygenator_so2"),  # Spre < Sv: R < 0
        (0.95, 0.90, 0.65, "pre_oxygenator_so2"),  # Spre > Spost: R > 1
    ],
)
def test_it_refuses_recirculation_outside_zero_to_one(
    pre: float, post: float, venous: float, field: str
) -> None:
    with pytest.raises(InfeasibleError) as err:
        recirculation_fraction(pre_oxygenator_so2=pre, post_oxygenator_so2=post, mixed_venous_so2=venous)
    assert err.value.field == field


def test_it_computes_ecmo_fick_cardiac_output_by_hand() -> None:
    # CO = Qb·(Cpost − Cv)/(Ca − Cv) = 4·(20 − 13)/(18 − 13) = 4·7/5 = 5.6 L/min.
    assert ecmo_fick_cardiac_output_l_min(
        blood_flow_l_min=4.0, post_content_ml_dl=20.0, cao2_ml_dl=18.0, cvo2_ml_dl=13.0
    ) == pytest.approx(5.6, rel=EXACT)
    # Ca = Cpost (all venous return passes the membrane): CO = Qb = 4·(20 − 13)/(20 − 13) = 4.
    assert ecmo_fick_cardiac_output_l_min(
        blood_flow_l_min=4.0, post_content_ml_dl=20.0, cao2_ml_dl=20.0, cvo2_ml_dl=13.0
    ) == pytest.approx(4.0, rel=EXACT)


@pytest.mark.parametrize(
    ("post", "ca", "cv", "field"),
    [
        (20.0, 13.0, 13.0, "cvo2_ml_dl"),  # Ca = Cv: nothing to divide by
        (20.0, 12.0, 13.0, "cvo2_ml_dl"),  # Ca < Cv
        (20.0, 20.1, 13.0, "post_content_ml_dl"),  # Ca > Cpost: the native lung adds O2
    ],
)
def test_it_refuses_ecmo_fick_when_its_assumptions_fail(
    post: float, ca: float, cv: float, field: str
) -> None:
    with pytest.raises(InfeasibleError) as err:
        ecmo_fick_cardiac_output_l_min(
            blood_flow_l_min=4.0, post_content_ml_dl=post, cao2_ml_dl=ca, cvo2_ml_dl=cv
        )
    assert err.value.field == field


def test_it_bounds_the_ecmo_fick_post_oxygenator_content() -> None:
    # Its lower side is the Ca ≤ Cpost check above; the upper side is the content ceiling.
    kwargs = {"blood_flow_l_min": 4.0, "cao2_ml_dl": 18.0, "cvo2_ml_dl": 13.0}
    # 4·(40 − 13)/(18 − 13) = 4·27/5 = 21.6 L/min.
    assert ecmo_fick_cardiac_output_l_min(post_content_ml_dl=40.0, **kwargs) == pytest.approx(21.6, rel=EXACT)
    with pytest.raises(InputError) as err:
        ecmo_fick_cardiac_output_l_min(post_content_ml_dl=math.nextafter(40.0, math.inf), **kwargs)
    assert err.value.field == "post_content_ml_dl"


def test_it_computes_body_surface_area_by_hand() -> None:
    # Mosteller √(H·W/3600): √(180·80/3600) = √(14400/3600) = √4 = 2 m².
    assert body_surface_area_m2(height_cm=180.0, weight_kg=80.0) == pytest.approx(2.0, rel=EXACT)
    # Demo run 1 (178 cm, 96 kg): √(17088/3600) = √4.746667 = 2.178684618448 (bc -l).
    assert body_surface_area_m2(height_cm=178.0, weight_kg=96.0, method="mosteller") == pytest.approx(
        2.178684618448, abs=ROUNDED
    )
    # DuBois 0.007184·W^0.425·H^0.725, 70 kg, 170 cm: 70^0.425 = e^(0.425·ln 70) = 6.083684269722,
    # 170^0.725 = 41.407162241096; 0.007184·6.083684269722·41.407162241096 = 1.809707801722 (bc -l;
    # the textbook value for 70 kg/170 cm is 1.81 m²).
    assert body_surface_area_m2(height_cm=170.0, weight_kg=70.0, method="dubois") == pytest.approx(
        1.809707801722, abs=ROUNDED
    )


def test_it_computes_the_cardiac_index_by_hand() -> None:
    # CI = CO/BSA = 5/2 = 2.5 L/min/m².
    assert cardiac_index_l_min_m2(cardiac_output_l_min=5.0, bsa_m2=2.0) == pytest.approx(2.5, rel=EXACT)


@pytest.mark.parametrize(
    ("sex", "height", "expected"),
    [
        # Demo run 1: man, 178 cm, "PBW 73.3 kg": 50 + 0.91·(178 − 152.4) = 50 + 0.91·25.6
        # = 50 + 23.296 = 73.296.
        ("male", 178.0, 73.296),
        # Demo run 4: woman, 165 cm, "PBW 57.0 kg": 45.5 + 0.91·12.6 = 45.5 + 11.466 = 56.966.
        ("female", 165.0, 56.966),
        # At 152.4 cm (5 ft) the base weights: 50 and 45.5 kg.
        ("male", 152.4, 50.0),
        ("female", 152.4, 45.5),
        # Floor of the height range: 45.5 + 0.91·(120 − 152.4) = 45.5 − 29.484 = 16.016 kg (still positive).
        ("female", 120.0, 16.016),
    ],
)
def test_it_computes_ardsnet_predicted_body_weight(sex: str, height: float, expected: float) -> None:
    assert predicted_body_weight_kg(sex=sex, height_cm=height) == pytest.approx(expected, abs=ROUNDED)


def test_it_computes_pf_ratio_and_oxygenation_index_by_hand() -> None:
    # Demo run 1: P/F 68 on FiO2 1.0 → 68/1.0 = 68; 80/0.5 = 160 mmHg.
    assert pf_ratio_mmhg(pao2_mmhg=68.0, fio2=1.0) == pytest.approx(68.0, rel=EXACT)
    assert pf_ratio_mmhg(pao2_mmhg=80.0, fio2=0.5) == pytest.approx(160.0, rel=EXACT)
    # OI = FiO2·mPaw·100/PaO2 = 1.0·25·100/60 = 2500/60 = 41.666666666667.
    assert oxygenation_index(fio2=1.0, mean_airway_pressure_cmh2o=25.0, pao2_mmhg=60.0) == pytest.approx(
        41.666666666667, abs=ROUNDED
    )
    # 0.4·20·100/80 = 800/80 = 10.
    assert oxygenation_index(fio2=0.4, mean_airway_pressure_cmh2o=20.0, pao2_mmhg=80.0) == pytest.approx(
        10.0, rel=EXACT
    )


def test_it_computes_driving_pressure_and_compliance_from_the_demo() -> None:
    # Demo run 1: PEEP 16, Pplat 32, VT 420 mL → ΔP 16; Crs 420/16 = 26.25 ("26.3 mL/cmH2O").
    assert driving_pressure_cmh2o(plateau_cmh2o=32.0, peep_cmh2o=16.0) == pytest.approx(16.0, rel=EXACT)
    assert static_compliance_ml_cmh2o(
        tidal_volume_ml=420.0, plateau_cmh2o=32.0, peep_cmh2o=16.0
    ) == pytest.approx(26.25, rel=EXACT)
    # Demo run 4: PEEP 14, Pplat 31, VT 350 → 350/17 = 20.588235294118 ("20.6").
    assert static_compliance_ml_cmh2o(
        tidal_volume_ml=350.0, plateau_cmh2o=31.0, peep_cmh2o=14.0
    ) == pytest.approx(20.588235294118, abs=ROUNDED)


def test_it_checks_plateau_against_peep_on_both_sides() -> None:
    assert driving_pressure_cmh2o(plateau_cmh2o=10.0, peep_cmh2o=10.0) == 0.0
    with pytest.raises(InfeasibleError) as err:
        driving_pressure_cmh2o(plateau_cmh2o=9.5, peep_cmh2o=10.0)
    assert err.value.field == "plateau_cmh2o"
    # Compliance needs a driving pressure above zero.
    with pytest.raises(InfeasibleError) as err:
        static_compliance_ml_cmh2o(tidal_volume_ml=400.0, plateau_cmh2o=10.0, peep_cmh2o=10.0)
    assert err.value.field == "plateau_cmh2o"
    assert static_compliance_ml_cmh2o(
        tidal_volume_ml=400.0, plateau_cmh2o=10.5, peep_cmh2o=10.0
    ) == pytest.approx(800.0, rel=EXACT)  # 400/0.5
    with pytest.raises(InfeasibleError) as err:
        static_compliance_ml_cmh2o(tidal_volume_ml=400.0, plateau_cmh2o=9.5, peep_cmh2o=10.0)
    assert err.value.field == "plateau_cmh2o"


def test_it_computes_the_simplified_mechanical_power_by_hand() -> None:
    # MP = 0.098·RR·VT·(Ppeak − ΔP/2), ΔP = Pplat − PEEP (scores-and-models §12).
    # RR 20, VT 0.5 L, Ppeak 30, Pplat 25, PEEP 10: ΔP 15; 30 − 7.5 = 22.5; 20·0.5 = 10;
    # 0.098·10·22.5 = 22.05.
    assert mechanical_power_j_min(
        respiratory_rate_min=20.0, tidal_volume_l=0.5, peak_cmh2o=30.0, plateau_cmh2o=25.0, peep_cmh2o=10.0
    ) == pytest.approx(22.05, rel=EXACT)
    # Exact factor 0.0980665: 0.0980665·10·22.5 = 22.0649625.
    assert mechanical_power_j_min(
        respiratory_rate_min=20.0,
        tidal_volume_l=0.5,
        peak_cmh2o=30.0,
        plateau_cmh2o=25.0,
        peep_cmh2o=10.0,
        conversion_j_per_l_cmh2o=0.0980665,
    ) == pytest.approx(22.0649625, rel=EXACT)
    # Peak = plateau = PEEP edge: ΔP 0; 0.098·10·0.4·10 = 3.92.
    assert mechanical_power_j_min(
        respiratory_rate_min=10.0, tidal_volume_l=0.4, peak_cmh2o=10.0, plateau_cmh2o=10.0, peep_cmh2o=10.0
    ) == pytest.approx(3.92, rel=EXACT)
    # Apnoea (RR 0): 0 J/min.
    assert (
        mechanical_power_j_min(
            respiratory_rate_min=0.0, tidal_volume_l=0.4, peak_cmh2o=30.0, plateau_cmh2o=25.0, peep_cmh2o=10.0
        )
        == 0.0
    )


@pytest.mark.parametrize(
    ("peak", "plateau", "peep", "field"),
    [
        (24.5, 25.0, 10.0, "peak_cmh2o"),  # peak below plateau
        (30.0, 9.5, 10.0, "plateau_cmh2o"),  # plateau below PEEP
    ],
)
def test_it_refuses_inconsistent_pressures_for_mechanical_power(
    peak: float, plateau: float, peep: float, field: str
) -> None:
    with pytest.raises(InfeasibleError) as err:
        mechanical_power_j_min(
            respiratory_rate_min=20.0,
            tidal_volume_l=0.5,
            peak_cmh2o=peak,
            plateau_cmh2o=plateau,
            peep_cmh2o=peep,
        )
    assert err.value.field == field


@pytest.mark.parametrize(
    ("po2", "expected"),
    [
        # Severinghaus 1979 eq. 1: S = 1/(23400/(P³ + 150·P) + 1).
        # P 100: 10^6 + 15000 = 1015000; 23400/1015000 = 0.0230541872; 1/1.0230541872 = 0.977465331279.
        (100.0, 0.977465331279),
        # P 60: 216000 + 9000 = 225000; 23400/225000 = 0.104 exactly; 1/1.104 = 0.905797101449.
        (60.0, 0.905797101449),
        # P 40: 64000 + 6000 = 70000; 23400/70000 = 0.334285714286; 1/1.334285714286 = 0.749464668094.
        (40.0, 0.749464668094),
        # P 26.8 (standard P50): 19248.832 + 4020 = 23268.832; 23400/23268.832 = 1.005637; S = 0.498594693777.
        (26.8, 0.498594693777),
    ],
)
def test_it_follows_the_severinghaus_curve(po2: float, expected: float) -> None:
    assert so2_from_po2(po2_mmhg=po2) == pytest.approx(expected, abs=ROUNDED)


def test_it_keeps_severinghaus_saturation_inside_zero_to_one() -> None:
    assert 0.0 < so2_from_po2(po2_mmhg=0.5) < 0.01
    assert 0.999 < so2_from_po2(po2_mmhg=800.0) < 1.0


# ---------------------------------------------------------------------------------------------------------
# Plausibility bounds: both sides of each
# ---------------------------------------------------------------------------------------------------------

# (function, overrides that keep the other inputs consistent at the extremes, field, range)
BOUND_CASES: list[tuple[Calc, dict[str, Any], str, phys.PlausibleRange]] = [
    (oxygen_content_ml_dl, {}, "hb_g_dl", phys.HB_G_DL),
    (oxygen_content_ml_dl, {}, "po2_mmhg", phys.PO2_MMHG),
    (oxygen_content_ml_dl, {}, "hufner_ml_g", phys.HUFNER_ML_G),
    (oxygen_content_ml_dl, {}, "dissolved_ml_dl_mmhg", phys.DISSOLVED_ML_DL_MMHG),
    (oxygen_delivery_ml_min, {}, "cardiac_output_l_min", phys.CARDIAC_OUTPUT_L_MIN),
    (oxygen_delivery_ml_min, {}, "cao2_ml_dl", phys.O2_CONTENT_ML_DL),
    (oxygen_consumption_ml_min, {}, "cardiac_output_l_min", phys.CARDIAC_OUTPUT_L_MIN),
    (oxygen_consumption_ml_min, {"cvo2_ml_dl": 0.0}, "cao2_ml_dl", phys.O2_CONTENT_ML_DL),
    (oxygen_consumption_ml_min, {"cao2_ml_dl": 40.0}, "cvo2_ml_dl", phys.O2_CONTENT_ML_DL),
    (oxygen_extraction_ratio, {"cvo2_ml_dl": 0.0}, "cao2_ml_dl", phys.ARTERIAL_O2_CONTENT_ML_DL),
    (oxygen_extraction_ratio, {"cao2_ml_dl": 40.0}, "cvo2_ml_dl", phys.O2_CONTENT_ML_DL),
    (oxygenator_o2_transfer_ml_min, {}, "blood_flow_l_min", phys.BLOOD_FLOW_L_MIN),
    (oxygenator_o2_transfer_ml_min, {"pre_content_ml_dl": 0.0}, "post_content_ml_dl", phys.O2_CONTENT_ML_DL),
    (oxygenator_o2_transfer_ml_min, {"post_content_ml_dl": 40.0}, "pre_content_ml_dl", phys.O2_CONTENT_ML_DL),
    (oxygenator_co2_removal_ml_min, {}, "sweep_gas_l_min", phys.SWEEP_GAS_L_MIN),
    (oxygenator_co2_removal_ml_min, {}, "exhaust_pco2_mmhg", phys.EXHAUST_PCO2_MMHG),
    (oxygenator_co2_removal_ml_min, {}, "barometric_mmhg", phys.BAROMETRIC_MMHG),
    (oxygenator_co2_removal_ml_min, {}, "water_vapour_mmhg", phys.WATER_VAPOUR_MMHG),
    (
        ecmo_fick_cardiac_output_l_min,
        {},
        "blood_flow_l_min",
        phys.POSITIVE_BLOOD_FLOW_L_MIN,
    ),
    (
        ecmo_fick_cardiac_output_l_min,
        {"post_content_ml_dl": 40.0, "cvo2_ml_dl": 0.0},
        "cao2_ml_dl",
        phys.ARTERIAL_O2_CONTENT_ML_DL,
    ),
    (body_surface_area_m2, {}, "height_cm", phys.HEIGHT_CM),
    (body_surface_area_m2, {}, "weight_kg", phys.WEIGHT_KG),
    (body_surface_area_m2, {"method": "dubois"}, "weight_kg", phys.WEIGHT_KG),
    (cardiac_index_l_min_m2, {}, "cardiac_output_l_min", phys.CARDIAC_OUTPUT_L_MIN),
    (cardiac_index_l_min_m2, {}, "bsa_m2", phys.BSA_M2),
    (predicted_body_weight_kg, {"sex": "male"}, "height_cm", phys.HEIGHT_CM),
    (predicted_body_weight_kg, {"sex": "female"}, "height_cm", phys.HEIGHT_CM),
    (pf_ratio_mmhg, {}, "pao2_mmhg", phys.PO2_MMHG),
    (oxygenation_index, {}, "pao2_mmhg", phys.PO2_MMHG),
    (oxygenation_index, {}, "mean_airway_pressure_cmh2o", phys.AIRWAY_PRESSURE_CMH2O),
    (driving_pressure_cmh2o, {"peep_cmh2o": 0.0}, "plateau_cmh2o", phys.AIRWAY_PRESSURE_CMH2O),
    (driving_pressure_cmh2o, {"plateau_cmh2o": 80.0}, "peep_cmh2o", phys.AIRWAY_PRESSURE_CMH2O),
    (static_compliance_ml_cmh2o, {}, "tidal_volume_ml", phys.TIDAL_VOLUME_ML),
    (mechanical_power_j_min, {}, "respiratory_rate_min", phys.RESPIRATORY_RATE_MIN),
    (mechanical_power_j_min, {}, "tidal_volume_l", phys.TIDAL_VOLUME_L),
    (
        mechanical_power_j_min,
        {"plateau_cmh2o": 0.0, "peep_cmh2o": 0.0},
        "peak_cmh2o",
        phys.AIRWAY_PRESSURE_CMH2O,
    ),
    (mechanical_power_j_min, {}, "conversion_j_per_l_cmh2o", phys.POWER_CONVERSION_J_L_CMH2O),
    (so2_from_po2, {}, "po2_mmhg", phys.PO2_MMHG),
]


def _bound_id(case: tuple[Calc, dict[str, Any], str, phys.PlausibleRange]) -> str:
    return f"{case[0].__name__}-{case[2]}"


@pytest.mark.parametrize("case", BOUND_CASES, ids=_bound_id)
def test_it_accepts_the_upper_bound_and_refuses_just_above(
    case: tuple[Calc, dict[str, Any], str, phys.PlausibleRange],
) -> None:
    func, base, field, bounds = case
    assert math.isfinite(_call(func, **base, **{field: bounds.maximum}))
    with pytest.raises(InputError) as err:
        _call(func, **base, **{field: math.nextafter(bounds.maximum, math.inf)})
    assert err.value.field == field
    assert "accepted range" in err.value.message


@pytest.mark.parametrize("case", BOUND_CASES, ids=_bound_id)
def test_it_treats_the_lower_bound_as_documented(
    case: tuple[Calc, dict[str, Any], str, phys.PlausibleRange],
) -> None:
    func, base, field, bounds = case
    if bounds.min_exclusive:
        with pytest.raises(InputError) as err:
            _call(func, **base, **{field: bounds.minimum})
        assert err.value.field == field
        assert math.isfinite(_call(func, **base, **{field: bounds.minimum + 1e-6}))
    else:
        assert math.isfinite(_call(func, **base, **{field: bounds.minimum}))
    with pytest.raises(InputError) as err:
        _call(func, **base, **{field: math.nextafter(bounds.minimum, -math.inf)})
    assert err.value.field == field


@pytest.mark.parametrize(
    ("func", "extra"),
    [(pf_ratio_mmhg, {}), (oxygenation_index, {})],
)
def test_it_accepts_fio2_from_room_air_to_one(func: Calc, extra: dict[str, Any]) -> None:
    assert math.isfinite(_call(func, fio2=0.21, **extra))
    assert math.isfinite(_call(func, fio2=1.0, **extra))
    with pytest.raises(InputError) as err:
        _call(func, fio2=0.2099)
    assert err.value.field == "fio2"
    with pytest.raises(InputError) as err:
        _call(func, fio2=math.nextafter(1.0, 2.0))
    assert err.value.field == "fio2"
    assert "fraction" in err.value.message


@pytest.mark.parametrize("field", ["so2"])
def test_it_accepts_saturation_zero_and_one(field: str) -> None:
    # 1.34·12·0 + 0.003·90 = 0.27; 1.34·12·1 + 0.27 = 16.35.
    assert _call(oxygen_content_ml_dl, **{field: 0.0}) == pytest.approx(0.27, rel=EXACT)
    assert _call(oxygen_content_ml_dl, **{field: 1.0}) == pytest.approx(16.35, rel=EXACT)


# ---------------------------------------------------------------------------------------------------------
# Bad-input sweeps
# ---------------------------------------------------------------------------------------------------------

NOT_A_NUMBER: list[object] = [math.nan, math.inf, -math.inf, True, False, "5", None, [1.0]]


@pytest.mark.parametrize("bad", NOT_A_NUMBER, ids=repr)
@pytest.mark.parametrize("case", NUMERIC_FIELDS, ids=_id)
def test_it_refuses_non_numbers_in_every_numeric_field(case: tuple[Calc, str], bad: object) -> None:
    func, field = case
    with pytest.raises(InputError) as err:
        _call(func, **{field: bad})
    assert err.value.field == field


@pytest.mark.parametrize("case", NUMERIC_FIELDS, ids=_id)
def test_it_refuses_negative_values(case: tuple[Calc, str]) -> None:
    func, field = case
    with pytest.raises(InputError) as err:
        _call(func, **{field: -1.0})
    assert err.value.field == field


@pytest.mark.parametrize("percent", [95.0, 100.0, 21, 1.5])
@pytest.mark.parametrize("case", [c for c in NUMERIC_FIELDS if c[1] in FRACTION_FIELDS], ids=_id)
def test_it_refuses_percentages_in_fraction_fields(case: tuple[Calc, str], percent: float) -> None:
    func, field = case
    with pytest.raises(InputError) as err:
        _call(func, **{field: percent})
    assert err.value.field == field
    assert "fraction" in err.value.message


@pytest.mark.parametrize("bad", [1, 0, "true", "yes", None, 1.0])
def test_it_refuses_non_bool_saturated_exhaust(bad: object) -> None:
    with pytest.raises(InputError) as err:
        _call(oxygenator_co2_removal_ml_min, saturated_exhaust=bad)
    assert err.value.field == "saturated_exhaust"


@pytest.mark.parametrize("bad", ["foo", "Mosteller", "DuBois", "haycock", "", None, 1])
def test_it_refuses_an_unknown_bsa_method(bad: object) -> None:
    with pytest.raises(InputError) as err:
        body_surface_area_m2(height_cm=175.0, weight_kg=80.0, method=bad)  # type: ignore[arg-type]
    assert err.value.field == "method"
    assert "mosteller" in err.value.message


@pytest.mark.parametrize("bad", ["m", "f", "Male", "FEMALE", "other", "", None, True])
def test_it_refuses_an_unknown_sex(bad: object) -> None:
    with pytest.raises(InputError) as err:
        predicted_body_weight_kg(sex=bad, height_cm=170.0)  # type: ignore[arg-type]
    assert err.value.field == "sex"


def test_it_reports_errors_as_value_errors() -> None:
    # Callers that only know ValueError still catch both kinds (core-api conventions).
    with pytest.raises(ValueError, match="fraction"):
        oxygen_content_ml_dl(hb_g_dl=12.0, so2=95.0, po2_mmhg=90.0)
    with pytest.raises(ValueError, match="swapped"):
        oxygen_extraction_ratio(cao2_ml_dl=10.0, cvo2_ml_dl=12.0)
