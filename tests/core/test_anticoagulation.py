"""Anticoagulation targets, classification and nomogram titration (ecmo_core.anticoagulation).

Spec checklist:
- [x] default targets per agent and bleeding risk carry the values of reference §3.2 and a source;
      ``none`` has no targets; argatroban has no sourced low-intensity default, so asking is an InputError.
- [x] a TargetRange is closed [low, high], in the test's own unit; wrong unit, negative, implausible or
      inverted bounds are InputErrors naming the field.
- [x] classify says below / in_range / above on both sides of both bounds; accepts a mapping target;
      refuses a target for another test and implausible values.
- [x] the default UFH anti-Xa nomogram reproduces reference §3.3 on both sides of every band boundary
      (rates worked out by hand from 18 U/kg/h, the usual start [S46, S80]).
- [x] bands are half-open [lower, upper); the last band also holds range_high; a value outside the declared
      range is an InputError naming measured_value and the range — never the nearest band.
- [x] a nomogram whose steps leave a gap, overlap, start late or end early is refused, naming the step.
- [x] nomogram_from_mapping loads site settings and names bad keys as nomogram.steps[i].key.
- [x] titrate states the measured value, the band and the action in plain words; bolus, hold and recheck
      are reported; a step that would take the rate below zero is an InfeasibleError.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from ecmo_core import anticoagulation as ac
from ecmo_core.anticoagulation import (
    DEFAULT_UFH_ANTI_XA_NOMOGRAM,
    Nomogram,
    NomogramStep,
    TargetRange,
    classify,
    default_targets,
    nomogram_from_mapping,
    target_from_mapping,
    titrate,
)
from ecmo_core.errors import InfeasibleError, InputError

BAD_NUMBERS: tuple[object, ...] = ("0.5", None, True, math.nan, math.inf, [0.5])


def _ranges(targets: tuple[TargetRange, ...]) -> dict[str, tuple[float, float]]:
    return {t.test: (t.low, t.high) for t in targets}


def _mapping(nomogram: Nomogram) -> dict[str, Any]:
    """The default nomogram as site settings would hold it (lists and dicts only)."""
    data = dataclasses.asdict(nomogram)
    data["steps"] = [dict(step) for step in data["steps"]]
    return data


def _step(lower: float, upper: float, **kwargs: Any) -> NomogramStep:
    kwargs.setdefault("rate_change_units_kg_h", 0.0)
    kwargs.setdefault("recheck_hours", 6.0)
    return NomogramStep(lower=lower, upper=upper, **kwargs)


def _nomogram(*steps: NomogramStep, **kwargs: Any) -> Nomogram:
    settings: dict[str, Any] = {
        "name": "Test aPTT nomogram",
        "agent": "ufh",
        "test": "aptt_s",
        "unit": "s",
        "source": "test protocol v1",
        "range_low": 0.0,
        "range_high": 300.0,
        "steps": steps or (_step(0.0, 60.0, rate_change_units_kg_h=2.0), _step(60.0, 300.0)),
    }
    settings.update(kwargs)
    return Nomogram(**settings)


# --- default targets -------------------------------------------------------------------------------------


def test_it_gives_elso_ranges_for_ufh_at_standard_bleeding_risk() -> None:
    targets = default_targets(agent="ufh")
    assert _ranges(targets) == {"anti_xa_iu_ml": (0.3, 0.7), "aptt_s": (60.0, 80.0), "act_s": (180.0, 220.0)}
    assert [t.unit for t in targets] == ["IU/mL", "s", "s"]
    assert all(t.source for t in targets)


def test_it_gives_low_intensity_ranges_for_ufh_at_high_bleeding_risk() -> None:
    targets = default_targets(agent="ufh", bleeding_risk="high")
    # Institutional low-intensity ranges [S47]; no sourced low-intensity ACT range, so none is given.
    assert _ranges(targets) == {"anti_xa_iu_ml": (0.2, 0.3), "aptt_s": (40.0, 55.0)}


@pytest.mark.parametrize(
    ("agent", "risk", "expected"),
    [
        ("bivalirudin", "standard", {"aptt_s": (60.0, 80.0)}),
        ("bivalirudin", "high", {"aptt_s": (45.0, 65.0)}),
        ("argatroban", "standard", {"aptt_s": (60.0, 80.0), "act_s": (180.0, 220.0)}),
        ("none", "standard", {}),
        ("none", "high", {}),
    ],
)
def test_it_gives_direct_thrombin_inhibitor_ranges_from_burstein(
    agent: str, risk: str, expected: dict[str, tuple[float, float]]
) -> None:
    assert _ranges(default_targets(agent=agent, bleeding_risk=risk)) == expected


def test_it_refuses_to_invent_a_low_intensity_argatroban_range() -> None:
    with pytest.raises(InputError) as caught:
        default_targets(agent="argatroban", bleeding_risk="high")
    assert caught.value.field == "bleeding_risk"
    assert "site's target" in caught.value.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"agent": "heparin"}, "agent"),
        ({"agent": "UFH"}, "agent"),
        ({"agent": None}, "agent"),
        ({"agent": "ufh", "bleeding_risk": "low"}, "bleeding_risk"),
        ({"agent": "ufh", "bleeding_risk": True}, "bleeding_risk"),
    ],
)
def test_it_names_the_bad_field_in_default_targets(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        default_targets(**kwargs)
    assert caught.value.field == field


# --- target ranges ---------------------------------------------------------------------------------------


def test_it_normalises_target_bounds_to_floats() -> None:
    target = TargetRange("aptt_s", 60, 80, "s")
    assert (target.low, target.high) == (60.0, 80.0)
    assert isinstance(target.low, float)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("pt_s", 0.3, 0.7, "s"), "test"),
        (("anti_xa_iu_ml", 0.3, 0.7, "IU/L"), "unit"),  # IU/L is the classic factor-1000 mistake
        (("aptt_s", 60.0, 80.0, "ms"), "unit"),
        (("anti_xa_iu_ml", -0.1, 0.7, "IU/mL"), "low"),
        (("anti_xa_iu_ml", 0.3, 10.5, "IU/mL"), "high"),  # above the 10 IU/mL plausibility ceiling
        (("aptt_s", 60.0, 301.0, "s"), "high"),
        (("act_s", 180.0, 1501.0, "s"), "high"),
        (("anti_xa_iu_ml", 0.7, 0.3, "IU/mL"), "high"),  # inverted
        (("anti_xa_iu_ml", 0.5, 0.5, "IU/mL"), "high"),  # empty
        *((("aptt_s", bad, 80.0, "s"), "low") for bad in BAD_NUMBERS),
        *((("aptt_s", 60.0, bad, "s"), "high") for bad in BAD_NUMBERS),
    ],
)
def test_it_refuses_bad_target_ranges(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(InputError) as caught:
        TargetRange(*args)
    assert caught.value.field == field


def test_it_refuses_a_non_text_source() -> None:
    with pytest.raises(InputError) as caught:
        TargetRange("aptt_s", 60.0, 80.0, "s", source=3)  # type: ignore[arg-type]
    assert caught.value.field == "source"


def test_it_loads_a_target_from_a_mapping_with_the_unit_implied() -> None:
    target = target_from_mapping({"test": "aptt_s", "low": 60, "high": 80})
    assert target == TargetRange("aptt_s", 60.0, 80.0, "s")
    explicit = target_from_mapping({"test": "act_s", "low": 180, "high": 220, "unit": "s", "source": "x"})
    assert explicit.source == "x"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([0.3, 0.7], "target"),
        ("0.3-0.7", "target"),
        ({"test": "aptt_s", "low": 60}, "target.high"),
        ({"test": "aptt_s", "low": 60, "high": 80, "hi": 90}, "target.hi"),
        ({"test": "aptt_s", "low": 90, "high": 80}, "target.high"),
        ({"test": "aptt_s", "low": 60, "high": 80, "unit": "min"}, "target.unit"),
        ({"test": 7, "low": 60, "high": 80}, "target.test"),
    ],
)
def test_it_names_the_bad_key_of_a_target_mapping(data: object, field: str) -> None:
    with pytest.raises(InputError) as caught:
        target_from_mapping(data)
    assert caught.value.field == field


# --- classify --------------------------------------------------------------------------------------------

ANTI_XA = TargetRange("anti_xa_iu_ml", 0.3, 0.7, "IU/mL")
APTT = TargetRange("aptt_s", 60.0, 80.0, "s")
ACT = TargetRange("act_s", 180.0, 220.0, "s")


@pytest.mark.parametrize(
    ("target", "value", "expected"),
    [
        (ANTI_XA, 0.0, "below"),
        (ANTI_XA, 0.29, "below"),
        (ANTI_XA, 0.3, "in_range"),  # bounds are inclusive
        (ANTI_XA, 0.7, "in_range"),
        (ANTI_XA, 0.71, "above"),
        (ANTI_XA, 10.0, "above"),
        (APTT, 59.9, "below"),
        (APTT, 60, "in_range"),
        (APTT, 80, "in_range"),
        (APTT, 80.1, "above"),
        (ACT, 179, "below"),
        (ACT, 180, "in_range"),
        (ACT, 220, "in_range"),
        (ACT, 221, "above"),
    ],
)
def test_it_classifies_on_both_sides_of_each_bound(target: TargetRange, value: float, expected: str) -> None:
    assert classify(test=target.test, value=value, target=target) == expected


def test_it_classifies_against_a_mapping_target() -> None:
    assert classify(test="aptt_s", value=50, target={"test": "aptt_s", "low": 40, "high": 55}) == "in_range"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"test": "pt_s", "value": 0.5, "target": ANTI_XA}, "test"),
        ({"test": "aptt_s", "value": 0.5, "target": ANTI_XA}, "target"),  # target for another test
        ({"test": "anti_xa_iu_ml", "value": -0.01, "target": ANTI_XA}, "value"),
        ({"test": "anti_xa_iu_ml", "value": 500, "target": ANTI_XA}, "value"),  # IU/L passed as IU/mL
        ({"test": "aptt_s", "value": 301, "target": APTT}, "value"),
        ({"test": "act_s", "value": 1501, "target": ACT}, "value"),
        ({"test": "aptt_s", "value": 60, "target": {"test": "aptt_s"}}, "target.low"),
        *(({"test": "aptt_s", "value": bad, "target": APTT}, "value") for bad in BAD_NUMBERS),
    ],
)
def test_it_names_the_bad_field_in_classify(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as caught:
        classify(**kwargs)
    assert caught.value.field == field


# --- the default nomogram, band by band ------------------------------------------------------------------


def test_it_builds_the_default_nomogram_from_reference_3_3() -> None:
    nomogram = DEFAULT_UFH_ANTI_XA_NOMOGRAM
    assert (nomogram.agent, nomogram.test, nomogram.unit) == ("ufh", "anti_xa_iu_ml", "IU/mL")
    assert "Illustrative" in nomogram.name
    assert "institution-specific" in nomogram.name
    bands = [
        (s.lower, s.upper, s.rate_change_units_kg_h, s.hold_minutes, s.recheck_hours) for s in nomogram.steps
    ]
    assert bands == [
        (0.0, 0.10, 4.0, 0, 6.0),
        (0.10, 0.20, 3.0, 0, 6.0),
        (0.20, 0.30, 2.0, 0, 6.0),
        (0.30, 0.71, 0.0, 0, 24.0),
        (0.71, 0.81, -1.0, 0, 6.0),
        (0.81, 1.01, -2.0, 0, 6.0),
        (1.01, 10.0, -3.0, 60, 6.0),
    ]
    assert all(s.bolus_units_kg == 0.0 for s in nomogram.steps)  # ECMO adaptation: no routine bolus


# Every row starts from 18 U/kg/h (the usual start [S46, S80]) and a 70 kg dosing weight.
# Expected new rate = 18 + the band's change; each boundary is tested on both sides.
@pytest.mark.parametrize(
    ("anti_xa", "new_rate", "hold", "recheck", "band"),
    [
        (0.00, 22.0, 0, 6.0, "0 to under 0.1 IU/mL"),  # < 0.10: 18 + 4 = 22
        (0.09, 22.0, 0, 6.0, "0 to under 0.1 IU/mL"),  # just below 0.10: 18 + 4 = 22
        (0.10, 21.0, 0, 6.0, "0.1 to under 0.2 IU/mL"),  # 0.10–0.19: 18 + 3 = 21
        (0.19, 21.0, 0, 6.0, "0.1 to under 0.2 IU/mL"),
        (0.20, 20.0, 0, 6.0, "0.2 to under 0.3 IU/mL"),  # 0.20–0.29: 18 + 2 = 20
        (0.29, 20.0, 0, 6.0, "0.2 to under 0.3 IU/mL"),
        (0.30, 18.0, 0, 24.0, "0.3 to under 0.71 IU/mL"),  # 0.30–0.70 target: 18 + 0 = 18, recheck 24 h
        (0.70, 18.0, 0, 24.0, "0.3 to under 0.71 IU/mL"),
        (0.71, 17.0, 0, 6.0, "0.71 to under 0.81 IU/mL"),  # 0.71–0.80: 18 − 1 = 17
        (0.80, 17.0, 0, 6.0, "0.71 to under 0.81 IU/mL"),
        (0.81, 16.0, 0, 6.0, "0.81 to under 1.01 IU/mL"),  # 0.81–1.00: 18 − 2 = 16
        (1.00, 16.0, 0, 6.0, "0.81 to under 1.01 IU/mL"),
        (1.01, 15.0, 60, 6.0, "1.01 to 10 IU/mL"),  # > 1.00: hold 60 min, then 18 − 3 = 15
        (10.0, 15.0, 60, 6.0, "1.01 to 10 IU/mL"),  # range_high itself belongs to the last band
    ],
)
def test_it_titrates_each_band_of_the_default_nomogram(
    anti_xa: float, new_rate: float, hold: int, recheck: float, band: str
) -> None:
    advice = titrate(measured_value=anti_xa, current_rate_units_kg_h=18.0, weight_kg=70.0)
    assert advice.new_rate_units_kg_h == new_rate
    assert advice.rate_change_units_kg_h == new_rate - 18.0
    assert advice.hold_minutes == hold
    assert advice.recheck_hours == recheck
    assert advice.band == band
    assert advice.bolus_units == 0.0
    assert advice.nomogram == DEFAULT_UFH_ANTI_XA_NOMOGRAM.name
    assert (advice.test, advice.unit, advice.dose_unit) == ("anti_xa_iu_ml", "IU/mL", "U")
    assert advice.reason.startswith(f"anti-Xa {anti_xa:g} IU/mL is in the band {band}: ")


def test_it_words_an_increase_in_plain_language() -> None:
    advice = titrate(measured_value=0.05, current_rate_units_kg_h=18, weight_kg=70)
    assert advice.reason == (
        "anti-Xa 0.05 IU/mL is in the band 0 to under 0.1 IU/mL: increase the infusion by 4 U/kg/h, "
        "from 18 to 22 U/kg/h. Recheck anti-Xa in 6 h. "
        "Bolus only on a physician's order and only if the patient is not bleeding."
    )


def test_it_words_no_change_and_the_daily_check_rule() -> None:
    advice = titrate(measured_value=0.5, current_rate_units_kg_h=18, weight_kg=70)
    assert advice.reason == (
        "anti-Xa 0.5 IU/mL is in the band 0.3 to under 0.71 IU/mL: make no change to the infusion "
        "(18 U/kg/h). Recheck anti-Xa in 24 h. "
        "In target range: move to daily checks after 2 consecutive in-range results."
    )


def test_it_words_a_decrease() -> None:
    advice = titrate(measured_value=0.9, current_rate_units_kg_h=20.5, weight_kg=70)
    # 20.5 − 2 = 18.5
    assert advice.new_rate_units_kg_h == 18.5
    assert (
        "decrease the infusion by 2 U/kg/h, from 20.5 to 18.5 U/kg/h. Recheck anti-Xa in 6 h."
        in advice.reason
    )


def test_it_words_a_hold_and_counts_the_recheck_from_the_restart() -> None:
    advice = titrate(measured_value=1.3, current_rate_units_kg_h=18, weight_kg=70)
    assert advice.reason == (
        "anti-Xa 1.3 IU/mL is in the band 1.01 to 10 IU/mL: hold the infusion for 60 min, then restart at "
        "15 U/kg/h (3 U/kg/h lower than 18 U/kg/h). Recheck anti-Xa 6 h after the restart."
    )


def test_it_restarts_a_stopped_infusion_when_the_level_is_low() -> None:
    advice = titrate(measured_value=0.05, current_rate_units_kg_h=0, weight_kg=70)
    assert advice.new_rate_units_kg_h == 4.0  # 0 + 4


def test_it_refuses_a_step_that_would_take_the_rate_below_zero() -> None:
    # 2 − 3 = −1 U/kg/h: the nomogram does not cover it, a clinician decides.
    with pytest.raises(InfeasibleError) as caught:
        titrate(measured_value=1.5, current_rate_units_kg_h=2, weight_kg=70)
    assert caught.value.field == "current_rate_units_kg_h"
    assert "below zero" in caught.value.message


def test_it_accepts_a_rate_that_reaches_exactly_zero() -> None:
    advice = titrate(measured_value=1.5, current_rate_units_kg_h=3, weight_kg=70)
    assert advice.new_rate_units_kg_h == 0.0  # 3 − 3


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"measured_value": -0.01}, "measured_value"),
        ({"measured_value": 10.01}, "measured_value"),
        ({"measured_value": 300}, "measured_value"),  # anti-Xa in IU/L
        *(({"measured_value": bad}, "measured_value") for bad in BAD_NUMBERS),
        ({"current_rate_units_kg_h": -1}, "current_rate_units_kg_h"),
        ({"current_rate_units_kg_h": 1260}, "current_rate_units_kg_h"),  # U/h passed as U/kg/h
        *(({"current_rate_units_kg_h": bad}, "current_rate_units_kg_h") for bad in BAD_NUMBERS),
        ({"weight_kg": 0}, "weight_kg"),
        ({"weight_kg": 351}, "weight_kg"),
        *(({"weight_kg": bad}, "weight_kg") for bad in BAD_NUMBERS),
        ({"nomogram": "default"}, "nomogram"),
        ({"nomogram": 3}, "nomogram"),
        ({"nomogram": {"name": "x"}}, "nomogram.agent"),
    ],
)
def test_it_names_the_bad_field_in_titrate(kwargs: dict[str, Any], field: str) -> None:
    arguments: dict[str, Any] = {"measured_value": 0.5, "current_rate_units_kg_h": 18.0, "weight_kg": 70.0}
    arguments.update(kwargs)
    with pytest.raises(InputError) as caught:
        titrate(**arguments)
    assert caught.value.field == field


def test_it_names_the_range_when_a_value_is_outside_the_nomogram() -> None:
    with pytest.raises(InputError) as caught:
        titrate(measured_value=12, current_rate_units_kg_h=18, weight_kg=70)
    assert "[0, 10] IU/mL" in caught.value.message
    assert "12 IU/mL" in caught.value.message


# --- site nomograms --------------------------------------------------------------------------------------


def test_it_round_trips_the_default_nomogram_through_a_mapping() -> None:
    assert nomogram_from_mapping(_mapping(DEFAULT_UFH_ANTI_XA_NOMOGRAM)) == DEFAULT_UFH_ANTI_XA_NOMOGRAM


def test_it_titrates_with_a_site_nomogram_given_as_a_mapping() -> None:
    site = {
        "name": "Site aPTT heparin protocol",
        "agent": "ufh",
        "test": "aptt_s",
        "source": "ICU protocol AC-3, 2024",
        "range_low": 0,
        "range_high": 300,
        "steps": [
            {"lower": 0, "upper": 45, "rate_change_units_kg_h": 4, "recheck_hours": 6, "bolus_units_kg": 40},
            {"lower": 45, "upper": 60, "rate_change_units_kg_h": 2, "recheck_hours": 6},
            {"lower": 60, "upper": 80.5, "rate_change_units_kg_h": 0, "recheck_hours": 24},
            {
                "lower": 80.5,
                "upper": 300,
                "rate_change_units_kg_h": 0,
                "hold_minutes": 30,
                "recheck_hours": 6,
            },
        ],
    }
    advice = titrate(nomogram=site, measured_value=40, current_rate_units_kg_h=15, weight_kg=82.5)
    # 40 s is in [0, 45): bolus 40 U/kg × 82.5 kg = 3300 U; rate 15 + 4 = 19 U/kg/h.
    assert advice.bolus_units == 3300.0
    assert advice.new_rate_units_kg_h == 19.0
    assert advice.reason == (
        "aPTT 40 s is in the band 0 to under 45 s: give a bolus of 40 U/kg (3300 U) and increase the "
        "infusion by 4 U/kg/h, from 15 to 19 U/kg/h. Recheck aPTT in 6 h."
    )
    held = titrate(nomogram=site, measured_value=300, current_rate_units_kg_h=15, weight_kg=82.5)
    assert held.reason == (
        "aPTT 300 s is in the band 80.5 to 300 s: hold the infusion for 30 min, then restart at the same "
        "rate (15 U/kg/h). Recheck aPTT 6 h after the restart."
    )


def test_it_words_a_hold_followed_by_an_increase_and_a_custom_dose_unit() -> None:
    nomogram = _nomogram(
        _step(0.0, 60.0, hold_minutes=15, rate_change_units_kg_h=0.01, message="Odd but allowed."),
        _step(60.0, 300.0),
        agent="bivalirudin",
        dose_unit="mg",
    )
    advice = titrate(nomogram=nomogram, measured_value=59.9, current_rate_units_kg_h=0.04, weight_kg=70)
    assert advice.new_rate_units_kg_h == pytest.approx(0.05)  # 0.04 + 0.01
    assert "restart at 0.05 mg/kg/h (0.01 mg/kg/h higher than 0.04 mg/kg/h)" in advice.reason
    assert advice.reason.endswith("Odd but allowed.")


@pytest.mark.parametrize(
    ("steps", "field", "words"),
    [
        ((_step(0.0, 60.0), _step(61.0, 300.0)), "steps[1].lower", "starts above"),  # gap 60–61
        ((_step(0.0, 60.0), _step(59.0, 300.0)), "steps[1].lower", "overlaps"),  # 59–60 in both
        ((_step(1.0, 60.0), _step(60.0, 300.0)), "steps[0].lower", "range_low"),  # starts late
        ((_step(0.0, 60.0), _step(60.0, 250.0)), "steps[1].upper", "range_high"),  # ends early
        ((_step(0.0, 60.0), _step(60.0, 350.0)), "steps[1].upper", "range_high"),  # runs past
        ((_step(60.0, 300.0), _step(0.0, 60.0)), "steps[0].lower", "range_low"),  # out of order
        ((_step(0.0, 300.0), "60-300"), "steps[1]", "NomogramStep"),
    ],
)
def test_it_refuses_steps_that_do_not_tile_the_declared_range(
    steps: tuple[Any, ...], field: str, words: str
) -> None:
    with pytest.raises(InputError) as caught:
        _nomogram(*steps)
    assert caught.value.field == field
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"agent": "none"}, "agent"),  # no infusion to titrate
        ({"agent": "heparin"}, "agent"),
        ({"test": "pt_s"}, "test"),
        ({"unit": "ms"}, "unit"),
        ({"source": " "}, "source"),
        ({"dose_unit": ""}, "dose_unit"),
        ({"range_low": -1.0}, "range_low"),
        ({"range_high": 301.0}, "range_high"),
        ({"range_low": 300.0, "range_high": 300.0}, "range_high"),
        ({"steps": ()}, "steps"),
        ({"steps": "0-300"}, "steps"),
        ({"steps": None}, "steps"),
    ],
)
def test_it_names_the_bad_field_of_a_nomogram(kwargs: dict[str, Any], field: str) -> None:
    settings: dict[str, Any] = {"steps": (_step(0.0, 300.0),)}
    settings.update(kwargs)
    with pytest.raises(InputError) as caught:
        Nomogram(
            name=settings.get("name", "n"),
            agent=settings.get("agent", "ufh"),
            test=settings.get("test", "aptt_s"),
            unit=settings.get("unit", "s"),
            steps=settings["steps"],
            source=settings.get("source", "src"),
            range_low=settings.get("range_low", 0.0),
            range_high=settings.get("range_high", 300.0),
            dose_unit=settings.get("dose_unit", "U"),
        )
    assert caught.value.field == field


def test_it_stores_a_list_of_steps_as_a_tuple() -> None:
    nomogram = _nomogram(steps=[_step(0.0, 300.0)])
    assert isinstance(nomogram.steps, tuple)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"upper": 0.0}, "upper"),  # empty band
        ({"upper": -1.0}, "upper"),
        ({"lower": "0"}, "lower"),
        ({"upper": math.inf}, "upper"),
        ({"hold_minutes": -1}, "hold_minutes"),
        ({"hold_minutes": 1441}, "hold_minutes"),
        ({"hold_minutes": 30.5}, "hold_minutes"),
        ({"bolus_units_kg": -1.0}, "bolus_units_kg"),
        ({"bolus_units_kg": 101.0}, "bolus_units_kg"),
        ({"rate_change_units_kg_h": 40.0}, "rate_change_units_kg_h"),  # 40 typed for 4
        ({"rate_change_units_kg_h": -10.5}, "rate_change_units_kg_h"),
        ({"recheck_hours": 0.0}, "recheck_hours"),
        ({"recheck_hours": 73.0}, "recheck_hours"),
        ({"message": None}, "message"),
    ],
)
def test_it_names_the_bad_field_of_a_step(kwargs: dict[str, Any], field: str) -> None:
    settings: dict[str, Any] = {
        "lower": 0.0,
        "upper": 1.0,
        "rate_change_units_kg_h": 1.0,
        "recheck_hours": 6.0,
    }
    settings.update(kwargs)
    with pytest.raises(InputError) as caught:
        NomogramStep(**settings)
    assert caught.value.field == field


def test_it_accepts_the_extremes_of_each_step_setting() -> None:
    step = NomogramStep(
        lower=0,
        upper=1,
        hold_minutes=1440,
        bolus_units_kg=100,
        rate_change_units_kg_h=-10,
        recheck_hours=72,
    )
    assert (step.lower, step.upper, step.hold_minutes, step.bolus_units_kg) == (0.0, 1.0, 1440, 100.0)
    assert step.message == ""


def _broken(change: Any) -> dict[str, Any]:
    data = _mapping(DEFAULT_UFH_ANTI_XA_NOMOGRAM)
    change(data)
    return data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (["steps"], "nomogram"),
        (None, "nomogram"),
        (_broken(lambda d: d.update(nmae="typo")), "nomogram.nmae"),
        (_broken(lambda d: d.pop("source")), "nomogram.source"),
        (_broken(lambda d: d.pop("range_high")), "nomogram.range_high"),
        (_broken(lambda d: d.update(steps="0-10")), "nomogram.steps"),
        (_broken(lambda d: d.update(steps={"lower": 0})), "nomogram.steps"),
        (_broken(lambda d: d["steps"].__setitem__(2, [0.2, 0.3])), "nomogram.steps[2]"),
        (_broken(lambda d: d["steps"][2].pop("recheck_hours")), "nomogram.steps[2].recheck_hours"),
        (_broken(lambda d: d["steps"][2].update(rate_change=2)), "nomogram.steps[2].rate_change"),
        (_broken(lambda d: d["steps"][2].update(upper=0.1)), "nomogram.steps[2].upper"),
        (_broken(lambda d: d["steps"][3].update(lower=0.35)), "nomogram.steps[3].lower"),
        (_broken(lambda d: d.update(unit="IU/L")), "nomogram.unit"),
        (_broken(lambda d: d.update(test=None)), "nomogram.test"),
    ],
)
def test_it_names_the_bad_key_of_a_nomogram_mapping(data: object, field: str) -> None:
    with pytest.raises(InputError) as caught:
        nomogram_from_mapping(data)
    assert caught.value.field == field


def test_it_prefixes_mapping_errors_with_the_given_field() -> None:
    with pytest.raises(InputError) as caught:
        nomogram_from_mapping({}, field="settings.anticoagulation.nomogram")
    assert caught.value.field == "settings.anticoagulation.nomogram.name"


def test_it_lists_its_public_calculators() -> None:
    assert ac.CALCULATORS == ("default_targets", "classify", "titrate")
    assert all(callable(getattr(ac, name)) for name in ac.CALCULATORS)
    assert set(ac.__all__) <= set(dir(ac))
