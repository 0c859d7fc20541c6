"""Spec checklist for ``ecmo_core.scores.resp`` (RESP score).

Point table: scores-and-models.md §1 (Schmidt 2014, confidence A). Every expected total below was added
up by hand from that table, item by item; RESP-01 and RESP-02 also match the worked scores of demo runs
1 and 4 (demo-scenarios.md).

- [x] Reference cases, including the published extremes −22 and +15 (range check of §1).
- [x] Aspiration pneumonitis is +5, not the +3 of the cliot documentation (pitfall §15.2).
- [x] Age 49/50 and 59/60; ventilation 47.9/48 h and 168/168.1 h (exactly 48 h and exactly 7 days score +1,
      with a note); PaCO2 74.9/75; PIP 41.9/42.
- [x] Every diagnosis and every yes/no item scores its published points.
- [x] Class edges 6/5, 3/2, −1/−2, −5/−6 with the published hospital survival.
- [x] Notes: hospital survival (not COVID-19), bacteraemia convention.
- [x] Bad input on every keyword raises ``InputError`` naming that keyword.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from ecmo_core.errors import InputError
from ecmo_core.scores import resp

# Base patient: every item scores 0. Age 30 (18–49: 0); ventilated 200 h (> 7 days: 0);
# "nonrespiratory_or_chronic" (0); no yes/no item; PaCO2 40 (< 75: 0); PIP 30 (< 42: 0). Total 0.
BASE: dict[str, Any] = {
    "age_years": 30,
    "immunocompromised": False,
    "ventilation_hours_before_ecmo": 200,
    "diagnosis": "nonrespiratory_or_chronic",
    "cns_dysfunction": False,
    "nonpulmonary_infection": False,
    "neuromuscular_blockade": False,
    "inhaled_nitric_oxide": False,
    "bicarbonate_infusion": False,
    "cardiac_arrest": False,
    "paco2_mmhg": 40,
    "peak_inspiratory_pressure_cmh2o": 30,
}


def _resp(**changes: Any) -> Any:
    return resp(**{**BASE, **changes})


def test_it_scores_the_base_patient_zero() -> None:
    result = _resp()
    assert result.points == 0
    assert set(result.components.values()) == {0}
    assert result.risk_class == "III"


REFERENCE_CASES = [
    pytest.param(
        # RESP-01 = demo run 1: age 52 (50–59) −2; ventilated 30 h (< 48 h) +3; viral pneumonia +3;
        # NMB +1; inhaled NO −1; PaCO2 72 (< 75) 0; PIP 36 (< 42) 0 → −2+3+3+1−1 = 4 → class II, 76 %.
        {
            "age_years": 52,
            "ventilation_hours_before_ecmo": 30,
            "diagnosis": "viral_pneumonia",
            "neuromuscular_blockade": True,
            "inhaled_nitric_oxide": True,
            "paco2_mmhg": 72,
            "peak_inspiratory_pressure_cmh2o": 36,
        },
        4,
        "II",
        76.0,
        id="RESP-01-demo-run-1",
    ),
    pytest.param(
        # RESP-02 = demo run 4: age 36 0; ventilated 52 h (48 h–7 d) +1; bacterial pneumonia +3; NMB +1;
        # PaCO2 68 0; PIP 38 0 → 0+1+3+1 = 5 → class II, 76 %.
        {
            "age_years": 36,
            "ventilation_hours_before_ecmo": 52,
            "diagnosis": "bacterial_pneumonia",
            "neuromuscular_blockade": True,
            "paco2_mmhg": 68,
            "peak_inspiratory_pressure_cmh2o": 38,
        },
        5,
        "II",
        76.0,
        id="RESP-02-demo-run-4",
    ),
    pytest.param(
        # RESP-03 = demo run 4 with the bacteraemia scored as a non-pulmonary infection: 5 − 3 = 2 → class
        # III.
        {
            "age_years": 36,
            "ventilation_hours_before_ecmo": 52,
            "diagnosis": "bacterial_pneumonia",
            "neuromuscular_blockade": True,
            "nonpulmonary_infection": True,
            "paco2_mmhg": 68,
            "peak_inspiratory_pressure_cmh2o": 38,
        },
        2,
        "III",
        57.0,
        id="RESP-03-run-4-bacteraemia-as-infection",
    ),
    pytest.param(
        # RESP-04, maximum: age 30 0; ventilated 10 h +3; asthma +11; NMB +1; nothing else → 3+11+1 = 15 → I,
        # 92 %.
        {"ventilation_hours_before_ecmo": 10, "diagnosis": "asthma", "neuromuscular_blockade": True},
        15,
        "I",
        92.0,
        id="RESP-04-maximum-15",
    ),
    pytest.param(
        # RESP-05, minimum: age 65 −3; immunocompromised −2; ventilated 200 h 0; non-respiratory 0; CNS −7;
        # infection −3; inhaled NO −1; bicarbonate −2; arrest −2; PaCO2 80 −1; PIP 45 −1
        # → −3−2−7−3−1−2−2−1−1 = −22 → V, 18 %.
        {
            "age_years": 65,
            "immunocompromised": True,
            "cns_dysfunction": True,
            "nonpulmonary_infection": True,
            "inhaled_nitric_oxide": True,
            "bicarbonate_infusion": True,
            "cardiac_arrest": True,
            "paco2_mmhg": 80,
            "peak_inspiratory_pressure_cmh2o": 45,
        },
        -22,
        "V",
        18.0,
        id="RESP-05-minimum-minus-22",
    ),
    pytest.param(
        # RESP-06, aspiration (pitfall §15.2): age 55 −2; ventilated 24 h +3; aspiration +5; PaCO2 75 −1;
        # PIP 42 −1 → −2+3+5−1−1 = 4 → II. With cliot's +3 it would be 2 → III.
        {
            "age_years": 55,
            "ventilation_hours_before_ecmo": 24,
            "diagnosis": "aspiration_pneumonitis",
            "paco2_mmhg": 75,
            "peak_inspiratory_pressure_cmh2o": 42,
        },
        4,
        "II",
        76.0,
        id="RESP-06-aspiration-plus-5",
    ),
    pytest.param(
        # RESP-07: age 60 −3; immunocompromised −2; ventilated 48 h +1; bacterial +3; inhaled NO −1
        # → −3−2+1+3−1 = −2 → IV, 33 %.
        {
            "age_years": 60,
            "immunocompromised": True,
            "ventilation_hours_before_ecmo": 48,
            "diagnosis": "bacterial_pneumonia",
            "inhaled_nitric_oxide": True,
        },
        -2,
        "IV",
        33.0,
        id="RESP-07",
    ),
]


@pytest.mark.parametrize(("changes", "points", "risk_class", "survival"), REFERENCE_CASES)
def test_it_matches_the_reference_cases(
    changes: dict[str, Any], points: int, risk_class: str, survival: float
) -> None:
    result = _resp(**changes)
    assert result.points == points
    assert sum(result.components.values()) == points
    assert result.risk_class == risk_class
    assert result.predicted_survival_pct == survival
    assert result.name == "RESP"
    assert "doi:10.1164/rccm.201311-2023OC" in result.reference


@pytest.mark.parametrize(
    ("age", "points"),
    [(18, 0), (49, 0), (50, -2), (59, -2), (60, -3), (100, -3), (49.0, 0)],
)
def test_it_scores_age_on_both_sides_of_each_cut_off(age: int, points: int) -> None:
    assert _resp(age_years=age).components["age_years"] == points


@pytest.mark.parametrize(
    ("hours", "points"),
    [(0, 3), (47.9, 3), (48, 1), (100, 1), (168, 1), (168.1, 0), (8760, 0)],
)
def test_it_scores_ventilation_hours_on_both_sides_of_each_cut_off(hours: float, points: int) -> None:
    assert _resp(ventilation_hours_before_ecmo=hours).components["ventilation_hours_before_ecmo"] == points


def test_it_notes_the_exact_48_hour_and_7_day_conventions() -> None:
    assert any("exactly 48 h" in note for note in _resp(ventilation_hours_before_ecmo=48).notes)
    assert any("exactly 7 days" in note for note in _resp(ventilation_hours_before_ecmo=168).notes)
    assert not any("exactly" in note for note in _resp(ventilation_hours_before_ecmo=100).notes)


@pytest.mark.parametrize(("paco2", "points"), [(74.9, 0), (75, -1), (75.0, -1), (120, -1)])
def test_it_scores_paco2_from_75_mmhg(paco2: float, points: int) -> None:
    assert _resp(paco2_mmhg=paco2).components["paco2_mmhg"] == points


@pytest.mark.parametrize(("pip", "points"), [(41.9, 0), (42, -1), (60, -1)])
def test_it_scores_peak_pressure_from_42_cmh2o(pip: float, points: int) -> None:
    assert _resp(peak_inspiratory_pressure_cmh2o=pip).components["peak_inspiratory_pressure_cmh2o"] == points


@pytest.mark.parametrize(
    ("diagnosis", "points"),
    [
        ("viral_pneumonia", 3),
        ("bacterial_pneumonia", 3),
        ("asthma", 11),
        ("trauma_burn", 3),
        ("aspiration_pneumonitis", 5),
        ("other_acute_respiratory", 1),
        ("nonrespiratory_or_chronic", 0),
    ],
)
def test_it_scores_each_diagnosis(diagnosis: str, points: int) -> None:
    result = _resp(diagnosis=diagnosis)
    assert result.components["diagnosis"] == points
    assert result.points == points


@pytest.mark.parametrize(
    ("item", "points"),
    [
        ("immunocompromised", -2),
        ("cns_dysfunction", -7),
        ("nonpulmonary_infection", -3),
        ("neuromuscular_blockade", 1),
        ("inhaled_nitric_oxide", -1),
        ("bicarbonate_infusion", -2),
        ("cardiac_arrest", -2),
    ],
)
def test_it_scores_each_yes_no_item(item: str, points: int) -> None:
    assert _resp(**{item: False}).components[item] == 0
    result = _resp(**{item: True})
    assert result.components[item] == points
    assert result.points == points


@pytest.mark.parametrize(
    ("changes", "points", "risk_class", "survival"),
    [
        # ventilated 10 h +3, viral +3 → 6
        ({"ventilation_hours_before_ecmo": 10, "diagnosis": "viral_pneumonia"}, 6, "I", 92.0),
        # ventilated 10 h +3, viral +3, inhaled NO −1 → 5
        (
            {
                "ventilation_hours_before_ecmo": 10,
                "diagnosis": "viral_pneumonia",
                "inhaled_nitric_oxide": True,
            },
            5,
            "II",
            76.0,
        ),
        # ventilated 10 h +3 → 3
        ({"ventilation_hours_before_ecmo": 10}, 3, "II", 76.0),
        # ventilated 10 h +3, inhaled NO −1 → 2
        ({"ventilation_hours_before_ecmo": 10, "inhaled_nitric_oxide": True}, 2, "III", 57.0),
        # inhaled NO −1 → −1
        ({"inhaled_nitric_oxide": True}, -1, "III", 57.0),
        # arrest −2 → −2
        ({"cardiac_arrest": True}, -2, "IV", 33.0),
        # infection −3, arrest −2 → −5
        ({"nonpulmonary_infection": True, "cardiac_arrest": True}, -5, "IV", 33.0),
        # infection −3, arrest −2, inhaled NO −1 → −6
        (
            {"nonpulmonary_infection": True, "cardiac_arrest": True, "inhaled_nitric_oxide": True},
            -6,
            "V",
            18.0,
        ),
    ],
)
def test_it_classes_both_sides_of_each_class_edge(
    changes: dict[str, Any], points: int, risk_class: str, survival: float
) -> None:
    result = _resp(**changes)
    assert (result.points, result.risk_class, result.predicted_survival_pct) == (points, risk_class, survival)


def test_it_notes_the_survival_population_and_the_bacteraemia_convention() -> None:
    notes = " ".join(_resp().notes)
    assert "hospital survival" in notes
    assert "COVID-19" in notes
    assert "bacteraemia" in notes


NUMBER_BAD = ["12", None, True, math.nan, math.inf]
BOOL_BAD = [1, 0, "yes", None]
BAD_INPUTS = [
    *[("age_years", bad) for bad in [*NUMBER_BAD, 52.5, 17, 101, -1]],
    *[("ventilation_hours_before_ecmo", bad) for bad in [*NUMBER_BAD, -0.1, 8760.1]],
    *[("diagnosis", bad) for bad in ["Viral_Pneumonia", "covid", "", None, 3, True]],
    *[("paco2_mmhg", bad) for bad in [*NUMBER_BAD, 4.9, 300.1]],
    *[("peak_inspiratory_pressure_cmh2o", bad) for bad in [*NUMBER_BAD, -0.1, 100.1]],
    *[
        (field, bad)
        for field in (
            "immunocompromised",
            "cns_dysfunction",
            "nonpulmonary_infection",
            "neuromuscular_blockade",
            "inhaled_nitric_oxide",
            "bicarbonate_infusion",
            "cardiac_arrest",
        )
        for bad in BOOL_BAD
    ],
]


@pytest.mark.parametrize(("field", "bad"), BAD_INPUTS)
def test_it_refuses_bad_input_naming_the_field(field: str, bad: object) -> None:
    with pytest.raises(InputError) as caught:
        _resp(**{field: bad})
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("field", "bad", "words"),
    [
        ("age_years", 17, "[18, 100] years"),
        ("ventilation_hours_before_ecmo", -1, "[0, 8760] h"),
        ("paco2_mmhg", 4, "[5, 300] mmHg"),
        ("diagnosis", "covid", "viral_pneumonia"),
    ],
)
def test_it_names_the_accepted_range(field: str, bad: object, words: str) -> None:
    with pytest.raises(InputError, match=r".") as caught:
        _resp(**{field: bad})
    assert words in caught.value.message
