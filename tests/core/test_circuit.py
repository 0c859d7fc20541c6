"""Spec checklist for ``ecmo_core.circuit`` (issue 14 §2–3: circuit and cannula selection, priming).

- [x] Pressure drop is interpolated linearly between the maker's points, from (0, 0) below the first point,
      exactly at a point, and never extrapolated above the last point (None); bad point lists are refused.
- [x] Hand-worked selections on the illustrative catalogue below: a 60 kg and a 110 kg V-V patient (flow from
      ``vv_required_blood_flow``), a V-A patient with a cardiac-index target, a V-V dual-lumen choice, and a
      flow at which no drainage cannula and no oxygenator fits (the result says so and why).
- [x] Both sides of each limit: return cannula 149 mmHg passes a 150 mmHg limit, 167.5 fails; drainage
      100.5 mmHg fails a 100 mmHg limit; rated flow exactly target × 1.2 passes.
- [x] V-V with two cannulas flags recirculation risk under 10 cm tip-to-tip or when the distance is missing.
- [x] Blood volume by age band and sex; haematocrit after priming against hand calculations (adult, small
      adult woman, neonate, blood prime), the packed cells to reach the minimum, and a prime too small for it.
- [x] Bad input names the field.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from ecmo_core.circuit import (
    BloodVolumeBands,
    CannulaSpec,
    Oxygenator,
    Pump,
    SelectionLimits,
    TubingPack,
    estimated_blood_volume_ml,
    post_prime_hematocrit,
    pressure_drop_mmhg,
    priming,
    select_circuit,
    va_flow_target_l_min,
)
from ecmo_core.errors import InputError
from ecmo_core.oxygenation import vv_required_blood_flow
from ecmo_core.physiology import body_surface_area_m2

# The illustrative catalogue (plausible generic figures, not from a maker's IFU; the same as the demo's).
OXYGENATORS = [
    Oxygenator("oxy-2.8", "Paediatric oxygenator 2.8", 2.8, 100, 0.8, 14),
    Oxygenator("oxy-5", "Small-adult oxygenator 5", 5.0, 175, 1.3, 21),
    Oxygenator("oxy-7", "Adult oxygenator 7", 7.0, 240, 1.8, 30),
]
PUMPS = [Pump("pump-8", "Centrifugal pump head 8", 8.0, 32), Pump("pump-4", "Small pump head 4", 4.0, 14)]
TUBING = [TubingPack("tube-3/8", "Adult tubing pack 3/8 in", 350, 7.0)]
CANNULAS = [
    CannulaSpec("d19", "Drainage 19 Fr", "drainage", 19, ((1, 10), (2, 32), (3, 65), (4, 105)), 38),
    CannulaSpec("d21", "Drainage 21 Fr", "drainage", 21, ((2, 28), (4, 85), (5, 125), (6, 175)), 55, True),
    CannulaSpec("d23", "Drainage 23 Fr", "drainage", 23, ((2, 20), (4, 60), (5, 90), (6, 125)), 55, True),
    CannulaSpec("d25", "Drainage 25 Fr", "drainage", 25, ((2, 15), (4, 45), (6, 95), (7, 130)), 55, True),
    CannulaSpec("r15", "Return 15 Fr", "return", 15, ((1, 20), (2, 60), (3, 125), (4, 210)), 18),
    CannulaSpec("r17", "Return 17 Fr", "return", 17, ((2, 40), (3, 85), (4, 145), (5, 220)), 18),
    CannulaSpec("r19", "Return 19 Fr", "return", 19, ((2, 30), (4, 105), (5, 160), (6, 225)), 18),
    CannulaSpec("r21", "Return 21 Fr", "return", 21, ((2, 22), (4, 75), (6, 160), (7, 215)), 23),
    CannulaSpec(
        "dl27",
        "Dual-lumen 27 Fr",
        "dual_lumen",
        27,
        ((2, 25), (3, 50), (4, 85), (5, 130)),
        31,
        return_points=((2, 55), (3, 110), (4, 185), (5, 280)),
    ),
    CannulaSpec(
        "dl31",
        "Dual-lumen 31 Fr",
        "dual_lumen",
        31,
        ((3, 35), (4, 60), (5, 92), (6, 130)),
        31,
        return_points=((3, 75), (4, 125), (5, 190), (6, 265)),
    ),
]


def _select(**kwargs: Any) -> Any:
    return select_circuit(
        oxygenators=OXYGENATORS, pumps=PUMPS, tubing_packs=TUBING, cannulas=CANNULAS, **kwargs
    )


def _by_key(checks: Any) -> dict[str, Any]:
    return {c.key: c for c in checks}


def _up(flow: float) -> float:
    return math.ceil(flow * 10 - 1e-9) / 10


# --- Interpolation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flow", "expected"),
    [
        (0.0, 0.0),
        (1.0, 7.5),  # below the first point: 0 → (2, 15), so 15 × 1/2
        (2.0, 15.0),  # at a point
        (3.5, 37.5),  # 15 + (45 − 15) × 1.5/2
        (5.3, 77.5),  # 45 + (95 − 45) × 1.3/2
        (7.0, 130.0),  # the last point
    ],
)
def test_it_interpolates_the_pressure_drop_between_points(flow: float, expected: float) -> None:
    points = ((2, 15), (4, 45), (6, 95), (7, 130))
    assert pressure_drop_mmhg(points=points, flow_l_min=flow) == pytest.approx(expected, abs=1e-9)


def test_it_never_extrapolates_above_the_last_point() -> None:
    assert pressure_drop_mmhg(points=((2, 15), (7, 130)), flow_l_min=7.01) is None


def test_it_sorts_the_points_by_flow() -> None:
    assert pressure_drop_mmhg(points=[(4, 45), (2, 15)], flow_l_min=3) == pytest.approx(30.0)


@pytest.mark.parametrize(
    ("points", "words"),
    [
        ([], "at least one"),
        ([(2, 15), (2, 20)], "twice"),
        ([(2, 30), (4, 20)], "falls"),
        ([(2, 15, 1)], "pair"),
        ([(0, 0)], "outside"),
        ([(2, -5)], "outside"),
        (5, "pairs"),
    ],
)
def test_it_refuses_bad_points(points: Any, words: str) -> None:
    with pytest.raises(InputError, match=words) as err:
        pressure_drop_mmhg(points=points, flow_l_min=1.0)
    assert err.value.field == "points"


def test_it_refuses_a_bad_flow() -> None:
    with pytest.raises(InputError) as err:
        pressure_drop_mmhg(points=((2, 15),), flow_l_min=11)
    assert err.value.field == "flow_l_min"


# --- Hand-worked selections -------------------------------------------------------------------------------


def test_it_selects_for_a_60_kg_vv_patient() -> None:
    # VV model, no lung: VO2 3 mL/kg/min × 60 = 180; Hb 10 → cap 134 mL/L; CO 5; target SaO2 0.88.
    # 1/Qeff = 1/5 + (1 − 0.88) × 134/180 = 0.2 + 0.089333 = 0.289333 → 3.456 L/min, rounded up to 3.5.
    model = vv_required_blood_flow(
        target_arterial_so2=0.88, vo2_ml_min=180, hb_g_dl=10, cardiac_output_l_min=5
    )
    assert model.ecmo_blood_flow_l_min == pytest.approx(1 / 0.2893333333, rel=1e-8)
    flow = _up(model.ecmo_blood_flow_l_min)
    assert flow == 3.5
    result = _select(configuration="vv", flow_target_l_min=flow, tip_distance_cm=12)
    oxy = _by_key(result.oxygenators)
    # rated flow needed 3.5 × 1.2 = 4.2: 2.8 fails; 5 and 7 pass; 5 has the smaller prime (175 mL)
    assert not oxy["oxy-2.8"].passes and "2.8 L/min < 4.2 L/min" in oxy["oxy-2.8"].reasons[0]
    assert oxy["oxy-5"].passes and oxy["oxy-7"].passes
    # pumps need 4.2: the 4 L/min head fails, the 8 L/min one passes
    assert [p.key for p in result.pumps if p.passes] == ["pump-8"]
    drains = _by_key(result.drainage_cannulas)
    # 19 Fr: 65 + (105 − 65) × 0.5 = 85 ≤ 100; 21 Fr: 28 + 57 × 0.75 = 70.75; 23 Fr 50; 25 Fr 37.5
    assert drains["d19"].pressure_drop_mmhg == pytest.approx(85.0)
    assert drains["d21"].pressure_drop_mmhg == pytest.approx(70.75)
    assert all(c.passes for c in result.drainage_cannulas)
    returns = _by_key(result.return_cannulas)
    # 15 Fr: 125 + (210 − 125) × 0.5 = 167.5 > 150 fails; 17 Fr: 85 + 60 × 0.5 = 115 passes
    assert returns["r15"].pressure_drop_mmhg == pytest.approx(167.5) and not returns["r15"].passes
    assert "167 mmHg" in returns["r15"].reasons[0] or "168 mmHg" in returns["r15"].reasons[0]
    assert returns["r17"].pressure_drop_mmhg == pytest.approx(115.0) and returns["r17"].passes
    assert result.proposal == {
        "oxygenator": "oxy-5",
        "pump": "pump-8",
        "tubing_pack": "tube-3/8",
        "drainage_cannula": "d19",  # the smallest size that keeps within the access limit
        "return_cannula": "r17",
    }
    assert result.complete and result.nothing_fits == () and result.flags == ()
    assert result.dual_lumen_cannulas and all(c.purpose == "dual_lumen" for c in result.dual_lumen_cannulas)


def test_it_selects_for_a_110_kg_vv_patient() -> None:
    # VO2 3 × 110 = 330; Hb 10 (cap 134); CO 7; target 0.88:
    # 1/Qeff = 1/7 + 0.12 × 134/330 = 0.142857 + 0.048727 = 0.191584 → 5.2196 L/min → 5.3
    model = vv_required_blood_flow(
        target_arterial_so2=0.88, vo2_ml_min=330, hb_g_dl=10, cardiac_output_l_min=7
    )
    flow = _up(model.ecmo_blood_flow_l_min)
    assert model.ecmo_blood_flow_l_min == pytest.approx(5.2196, abs=1e-4) and flow == 5.3
    result = _select(configuration="vv", flow_target_l_min=flow, tip_distance_cm=15)
    # rated flow needed 5.3 × 1.2 = 6.36: only the 7 L/min oxygenator
    assert [o.key for o in result.oxygenators if o.passes] == ["oxy-7"]
    drains = _by_key(result.drainage_cannulas)
    # 25 Fr: 45 + 50 × 0.65 = 77.5 passes; 23 Fr: 90 + 35 × 0.3 = 100.5 > 100 fails (just);
    # 21 Fr: 125 + 50 × 0.3 = 140 fails; 19 Fr: its points stop at 4 L/min
    assert drains["d25"].pressure_drop_mmhg == pytest.approx(77.5) and drains["d25"].passes
    assert drains["d23"].pressure_drop_mmhg == pytest.approx(100.5) and not drains["d23"].passes
    assert drains["d21"].pressure_drop_mmhg == pytest.approx(140.0) and not drains["d21"].passes
    assert drains["d19"].pressure_drop_mmhg is None and "stop at 4 L/min" in drains["d19"].reasons[0]
    returns = _by_key(result.return_cannulas)
    # 21 Fr: 75 + 85 × 0.65 = 130.25 passes; 19 Fr: 160 + 65 × 0.3 = 179.5 fails; 17 Fr stops at 5 L/min
    assert returns["r21"].pressure_drop_mmhg == pytest.approx(130.25) and returns["r21"].passes
    assert returns["r19"].pressure_drop_mmhg == pytest.approx(179.5) and not returns["r19"].passes
    assert returns["r17"].pressure_drop_mmhg is None
    assert result.proposal["drainage_cannula"] == "d25" and result.proposal["return_cannula"] == "r21"
    assert result.proposal["oxygenator"] == "oxy-7" and result.complete


def test_it_selects_for_a_va_patient_from_a_cardiac_index_target() -> None:
    # BSA (Mosteller) √(175 × 80 / 3600) = √3.8889 = 1.97203 m²; CI 2.4 → 4.7329 L/min → 4.8
    bsa = body_surface_area_m2(height_cm=175, weight_kg=80)
    target = va_flow_target_l_min(cardiac_index_l_min_m2=2.4, bsa_m2=bsa)
    assert bsa == pytest.approx(1.972027, abs=1e-6) and target == pytest.approx(4.732864, abs=1e-6)
    result = _select(configuration="va", flow_target_l_min=_up(target))
    drains = _by_key(result.drainage_cannulas)
    # 23 Fr: 60 + 30 × 0.8 = 84 passes; 21 Fr: 85 + 40 × 0.8 = 117 fails
    assert drains["d23"].pressure_drop_mmhg == pytest.approx(84.0) and drains["d23"].passes
    assert drains["d21"].pressure_drop_mmhg == pytest.approx(117.0) and not drains["d21"].passes
    returns = _by_key(result.return_cannulas)
    # 19 Fr: 105 + 55 × 0.8 = 149 ≤ 150 passes (just); 17 Fr: 145 + 75 × 0.8 = 205 fails
    assert returns["r19"].pressure_drop_mmhg == pytest.approx(149.0) and returns["r19"].passes
    assert returns["r17"].pressure_drop_mmhg == pytest.approx(205.0) and not returns["r17"].passes
    # 4.8 × 1.2 = 5.76: the 5 L/min oxygenator fails
    assert result.proposal == {
        "oxygenator": "oxy-7",
        "pump": "pump-8",
        "tubing_pack": "tube-3/8",
        "drainage_cannula": "d23",
        "return_cannula": "r19",
    }
    assert result.dual_lumen_cannulas == () and result.flags == ()


def test_it_proposes_a_dual_lumen_cannula_when_asked() -> None:
    # 3.5 L/min: 27 Fr drainage lumen 50 + 35 × 0.5 = 67.5 ≤ 100, return lumen 110 + 75 × 0.5 = 147.5 ≤ 150
    result = _select(configuration="vv", flow_target_l_min=3.5, dual_lumen=True)
    duals = _by_key(result.dual_lumen_cannulas)
    assert duals["dl27"].pressure_drop_mmhg == pytest.approx(67.5)
    assert duals["dl27"].return_pressure_drop_mmhg == pytest.approx(147.5)
    assert duals["dl27"].passes and len(duals["dl27"].reasons) == 2
    assert result.proposal["dual_lumen_cannula"] == "dl27"
    assert "drainage_cannula" not in result.proposal
    assert any("dual-lumen" in f for f in result.flags)
    # at 5.3: 31 Fr drainage lumen 92 + 38 × 0.3 = 103.4 > 100; 27 Fr stops at 5 L/min → none fits
    high = _select(configuration="vv", flow_target_l_min=5.3, dual_lumen=True)
    assert high.proposal["dual_lumen_cannula"] is None
    assert any(m.startswith("no dual-lumen cannula in the catalogue fits") for m in high.nothing_fits)


def test_it_says_when_nothing_fits_and_why() -> None:
    # 6.6 L/min: oxygenators need 7.92 (7 is the largest); 25 Fr drains 95 + 35 × 0.6 = 116 > 100
    result = _select(configuration="vv", flow_target_l_min=6.6, tip_distance_cm=12)
    assert not result.complete
    assert result.proposal["oxygenator"] is None and result.proposal["drainage_cannula"] is None
    # return: 21 Fr 160 + 55 × 0.6 = 193 > 150; the others' points stop at 6 L/min or below
    assert result.proposal["return_cannula"] is None
    assert result.proposal["pump"] == "pump-8"  # 8 ≥ 7.92: the pump still fits
    why = " | ".join(result.nothing_fits)
    assert "no oxygenator in the catalogue fits" in why and "7 L/min < 7.9 L/min needed" in why
    assert "no drainage cannula in the catalogue fits" in why and "116 mmHg" in why
    assert "Return 21 Fr — return: pressure drop 193 mmHg at 6.6 L/min > limit 150 mmHg" in why


def test_it_flags_recirculation_risk_for_short_vv_distances() -> None:
    assert _select(configuration="vv", flow_target_l_min=3.5, tip_distance_cm=9.9).flags == (
        "recirculation risk: tip-to-tip distance 9.9 cm is under 10 cm",
    )
    assert _select(configuration="vv", flow_target_l_min=3.5, tip_distance_cm=10).flags == ()
    assert "not assessed" in _select(configuration="vv", flow_target_l_min=3.5).flags[0]
    assert _select(configuration="va", flow_target_l_min=3.5).flags == ()


def test_it_passes_a_rated_flow_exactly_at_the_margin() -> None:
    # 5 / 1.2 = 4.1666…: needed 5.0 → passes exactly at the edge
    result = _select(configuration="va", flow_target_l_min=5 / 1.2)
    assert _by_key(result.oxygenators)["oxy-5"].passes


def test_it_uses_the_site_limits() -> None:
    strict = SelectionLimits(drainage_pressure_drop_max_mmhg=60, oxygenator_margin_fraction=0.0)
    result = _select(configuration="va", flow_target_l_min=3.5, limits=strict)
    # 60 mmHg: 19 Fr (85) and 21 Fr (70.75) fail, 23 Fr (50) passes; no margin: 5 L/min ≥ 3.5
    assert result.proposal["drainage_cannula"] == "d23"
    assert [o.key for o in result.oxygenators if o.passes] == ["oxy-5", "oxy-7"]
    assert result.limits is strict


def test_it_says_when_no_tubing_pack_is_rated_for_the_flow() -> None:
    result = _select(configuration="va", flow_target_l_min=7.5)  # the 3/8 in pack is rated to 7 L/min
    assert result.proposal["tubing_pack"] is None
    assert any(
        "no tubing pack in the catalogue fits" in m and "7 L/min < 7.5 L/min" in m
        for m in result.nothing_fits
    )


def test_it_reports_an_empty_catalogue() -> None:
    result = select_circuit(configuration="va", flow_target_l_min=3, oxygenators=[], pumps=[])
    assert result.nothing_fits == (
        "no oxygenator in the catalogue",
        "no pump in the catalogue",
        "no drainage cannula in the catalogue",
        "no return cannula in the catalogue",
    )
    assert result.proposal["tubing_pack"] is None  # optional: no complaint


def test_it_treats_a_missing_tubing_rating_as_not_limiting() -> None:
    result = select_circuit(
        configuration="va",
        flow_target_l_min=3,
        oxygenators=OXYGENATORS,
        pumps=PUMPS,
        tubing_packs=[TubingPack("t", "Tubing", 300)],
        cannulas=CANNULAS,
    )
    assert result.tubing_packs[0].passes and "not limiting" in result.tubing_packs[0].reasons[0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"configuration": "ecmo"}, "configuration"),
        ({"flow_target_l_min": 0}, "flow_target_l_min"),
        ({"flow_target_l_min": 10.5}, "flow_target_l_min"),
        ({"configuration": "va", "dual_lumen": True}, "dual_lumen"),
        ({"dual_lumen": 1}, "dual_lumen"),
        ({"tip_distance_cm": -1}, "tip_distance_cm"),
    ],
)
def test_it_refuses_bad_selection_input(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        _select(**{"configuration": "vv", "flow_target_l_min": 3.0, **kwargs})
    assert err.value.field == field


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: SelectionLimits(drainage_pressure_drop_max_mmhg=5), "drainage_pressure_drop_max_mmhg"),
        (lambda: SelectionLimits(oxygenator_margin_fraction=1.5), "oxygenator_margin_fraction"),
        (lambda: Oxygenator("o", "O", 0, 100), "rated_flow_l_min"),
        (lambda: Oxygenator("o", "O", 5, -1), "priming_volume_ml"),
        (lambda: Pump("p", "P", 12), "max_flow_l_min"),
        (lambda: TubingPack("t", "T", 300, 0), "rated_flow_l_min"),
        (lambda: TubingPack("t", "T", 6000), "priming_volume_ml"),
        (lambda: CannulaSpec("c", "C", "arterial", 17, ((2, 40),)), "purpose"),
        (lambda: CannulaSpec("c", "C", "return", 40, ((2, 40),)), "size_fr"),
        (lambda: CannulaSpec("c", "C", "return", 17, ((2, 40),), return_points=((2, 5),)), "return_points"),
        (lambda: CannulaSpec("c", "C", "dual_lumen", 27, ((2, 40),)), "return_points"),
        (lambda: BloodVolumeBands(child_ml_kg=30), "child_ml_kg"),
    ],
)
def test_it_refuses_bad_catalogue_items_and_settings(build: Any, field: str) -> None:
    with pytest.raises(InputError) as err:
        build()
    assert err.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"cardiac_index_l_min_m2": 0.2}, "cardiac_index_l_min_m2"), ({"bsa_m2": 5}, "bsa_m2")],
)
def test_it_refuses_a_bad_va_target(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        va_flow_target_l_min(**{"cardiac_index_l_min_m2": 2.4, "bsa_m2": 1.9, **kwargs})
    assert err.value.field == field


# --- Blood volume and priming -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight", "age_days", "sex", "premature", "ml_kg", "band"),
    [
        (1.2, 3, "unknown", True, 95, "premature neonate"),
        (3.5, 27.9, "male", False, 85, "neonate (under 28 days)"),
        (3.6, 28, "female", True, 80, "infant (under 1 year)"),  # from 28 days prematurity no longer banded
        (9.0, 365.24, "male", False, 80, "infant (under 1 year)"),
        (9.5, 365.25, "male", False, 75, "child (1–12 years)"),
        (35, 12 * 365.25 - 1, "female", False, 75, "child (1–12 years)"),
        (40, 12 * 365.25, "female", False, 65, "adult woman"),
        (80, 40 * 365.25, "male", False, 75, "adult man"),
        (80, 40 * 365.25, "unknown", False, 70, "adult, sex not recorded"),
    ],
)
def test_it_estimates_blood_volume_by_age_band(
    weight: float, age_days: float, sex: str, premature: bool, ml_kg: float, band: str
) -> None:
    volume, per_kg, name = estimated_blood_volume_ml(
        weight_kg=weight, age_days=age_days, sex=sex, premature=premature
    )
    assert (per_kg, name) == (ml_kg, band)
    assert volume == pytest.approx(weight * ml_kg)


def test_it_reads_the_bands_from_the_site_setting() -> None:
    bands = BloodVolumeBands(adult_male_ml_kg=70)
    assert estimated_blood_volume_ml(weight_kg=80, age_days=20000, sex="male", bands=bands)[0] == 5600


def test_it_computes_the_haematocrit_after_priming_by_hand() -> None:
    # 70 kg man: EBV 70 × 75 = 5250 mL; Hct 0.30; 600 mL crystalloid:
    # (5250 × 0.30 + 600 × 0) / (5250 + 600) = 1575 / 5850 = 0.269231 → above 0.25, no red cells needed
    plan = priming(
        weight_kg=70, age_days=50 * 365.25, sex="male", patient_hematocrit=0.30, prime_volume_ml=600
    )
    assert plan.blood_volume_ml == 5250
    assert plan.post_prime_hematocrit == pytest.approx(1575 / 5850, abs=1e-12)
    assert not plan.below_minimum and plan.packed_cells_ml is None
    assert plan.heparin_iu == 600  # 1 IU/mL × 600 mL
    assert plan.prime_to_blood_volume_ratio == pytest.approx(600 / 5250)
    assert "= 0.269" in plan.working[2]


def test_it_gives_the_packed_cells_a_small_adult_needs() -> None:
    # 45 kg woman: EBV 45 × 65 = 2925 mL; Hct 0.28; 600 mL: 819 / 3525 = 0.232340 < 0.25.
    # Packed cells (Hct 0.6) in place of crystalloid: (0.25 × 3525 − 819 − 0) / (0.6 − 0) = 62.25/0.6 = 103.75 mL
    plan = priming(
        weight_kg=45, age_days=30 * 365.25, sex="female", patient_hematocrit=0.28, prime_volume_ml=600
    )
    assert plan.post_prime_hematocrit == pytest.approx(819 / 3525, abs=1e-12)
    assert plan.below_minimum
    assert plan.packed_cells_ml == pytest.approx(103.75, abs=1e-9)
    # check: (2925 × 0.28 + 103.75 × 0.6) / 3525 = (819 + 62.25) / 3525 = 0.25
    assert post_prime_hematocrit(
        blood_volume_ml=2925,
        patient_hematocrit=0.28,
        prime_volume_ml=600,
        prime_hematocrit=103.75 * 0.6 / 600,
    ) == pytest.approx(0.25, abs=1e-12)


def test_it_computes_a_neonatal_crystalloid_and_blood_prime() -> None:
    # 3.5 kg neonate, 10 days: EBV 3.5 × 85 = 297.5 mL; Hct 0.45; 300 mL prime.
    # crystalloid: 133.875 / 597.5 = 0.224059; blood prime at Hct 0.35: (133.875 + 105) / 597.5 = 0.399791
    clear = priming(weight_kg=3.5, age_days=10, patient_hematocrit=0.45, prime_volume_ml=300)
    blood = priming(
        weight_kg=3.5, age_days=10, patient_hematocrit=0.45, prime_volume_ml=300, prime_hematocrit=0.35
    )
    assert clear.post_prime_hematocrit == pytest.approx(133.875 / 597.5, abs=1e-12)
    assert clear.prime_to_blood_volume_ratio > 1  # the prime is larger than the baby's blood volume
    # (0.25 × 597.5 − 133.875) / 0.6 = 15.5 / 0.6 = 25.833 mL
    assert clear.packed_cells_ml == pytest.approx(15.5 / 0.6, abs=1e-9)
    assert blood.post_prime_hematocrit == pytest.approx(238.875 / 597.5, abs=1e-12)
    assert not blood.below_minimum


def test_it_says_when_a_prime_cannot_reach_the_minimum() -> None:
    # 3 kg, 10 days: EBV 255; Hct 0.10; prime 50 mL: (0.25 × 305 − 25.5) / 0.6 = 84.58 mL > 50 mL
    plan = priming(weight_kg=3, age_days=10, patient_hematocrit=0.10, prime_volume_ml=50)
    assert plan.packed_cells_ml == math.inf
    assert "cannot reach the minimum" in plan.working[-2]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"patient_hematocrit": 30}, "patient_hematocrit"),
        ({"patient_hematocrit": 0.9}, "patient_hematocrit"),
        ({"prime_hematocrit": -0.1}, "prime_hematocrit"),
        ({"prime_volume_ml": 6000}, "prime_volume_ml"),
        ({"weight_kg": 0.1}, "weight_kg"),
        ({"age_days": -1}, "age_days"),
        ({"sex": "m"}, "sex"),
        ({"premature": "no"}, "premature"),
        ({"minimum_hematocrit": 0.6}, "minimum_hematocrit"),
        ({"packed_cells_hematocrit": 0.3}, "packed_cells_hematocrit"),
        ({"heparin_iu_per_ml_prime": 20}, "heparin_iu_per_ml_prime"),
    ],
)
def test_it_refuses_bad_priming_input(kwargs: dict[str, Any], field: str) -> None:
    base = {"weight_kg": 70, "age_days": 20000, "patient_hematocrit": 0.3, "prime_volume_ml": 600}
    with pytest.raises(InputError) as err:
        priming(**{**base, **kwargs})
    assert err.value.field == field


def test_it_says_fraction_for_a_percentage_haematocrit() -> None:
    with pytest.raises(InputError, match="fraction"):
        post_prime_hematocrit(blood_volume_ml=5000, patient_hematocrit=30, prime_volume_ml=600)
