"""Spec checklist for ``ecmo_core.scores.encourage`` (ENCOURAGE score).

Point table: scores-and-models.md §8 (Muller 2016; six items and the classes A, prothrombin weight C).
Expected totals were added up by hand from that table; ENCOURAGE-01 also matches the worked score of demo
run 2 (demo-scenarios.md).

- [x] Reference cases, including the maximum 45 (all items).
- [x] Age 60/61; BMI 25/25.1; GCS 6/5; creatinine 150/150.1; lactate 1.99/2, 8/8.01; prothrombin 50/49.9.
- [x] Lactate exactly 8 scores 8 (the published labels "< 2, 2–8, > 8", settled) with a note giving the
      '< 8' total; the class is published even where that reading would change it.
- [x] The notes always say the prothrombin weight has one source only (and whether it scored).
- [x] Class edges 12/13, 18/19, 22/23, 27/28 with the published 6-month survival.
- [x] Bad input on every keyword raises ``InputError`` naming that keyword.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from ecmo_core.errors import InputError
from ecmo_core.scores import encourage

# Base patient: every item 0. Age 50 (≤ 60); male; BMI 22 (≤ 25); GCS 15 (≥ 6); creatinine 90 (≤ 150);
# lactate 1.5 (< 2); prothrombin 80 % (≥ 50). Total 0.
BASE: dict[str, Any] = {
    "age_years": 50,
    "female": False,
    "bmi_kg_m2": 22,
    "glasgow_coma_scale": 15,
    "creatinine_umol_l": 90,
    "lactate_mmol_l": 1.5,
    "prothrombin_activity_pct": 80,
}


def _encourage(**changes: Any) -> Any:
    return encourage(**{**BASE, **changes})


REFERENCE_CASES = [
    pytest.param(
        # ENCOURAGE-01 = demo run 2: age 58 0; male 0; BMI 29.0 (> 25) +6; GCS 13 0; creatinine 168 (> 150)
        # +5; lactate 6.8 (2–8) +8; prothrombin 68 % 0 → 6+5+8 = 19 → 19–22, 25 %.
        {
            "age_years": 58,
            "bmi_kg_m2": 29.0,
            "glasgow_coma_scale": 13,
            "creatinine_umol_l": 168,
            "lactate_mmol_l": 6.8,
            "prothrombin_activity_pct": 68,
        },
        19,
        "19-22",
        25.0,
        id="ENCOURAGE-01-demo-run-2",
    ),
    pytest.param(
        # ENCOURAGE-02, maximum: age 70 +5; female +7; BMI 30 +6; GCS 4 +6; creatinine 200 +5; lactate 10 (>
        # 8) +11; prothrombin 40 % +5 → 5+7+6+6+5+11+5 = 45 → ≥28, 7 %.
        {
            "age_years": 70,
            "female": True,
            "bmi_kg_m2": 30,
            "glasgow_coma_scale": 4,
            "creatinine_umol_l": 200,
            "lactate_mmol_l": 10,
            "prothrombin_activity_pct": 40,
        },
        45,
        ">=28",
        7.0,
        id="ENCOURAGE-02-maximum-45",
    ),
    pytest.param(
        # ENCOURAGE-03: female +7; lactate 3 (2–8) +8 → 15 → 13–18, 58 %.
        {"female": True, "lactate_mmol_l": 3},
        15,
        "13-18",
        58.0,
        id="ENCOURAGE-03",
    ),
    pytest.param(
        # ENCOURAGE-04: all items 0 → 0 → 0–12, 80 %.
        {},
        0,
        "0-12",
        80.0,
        id="ENCOURAGE-04-minimum-0",
    ),
]


@pytest.mark.parametrize(("changes", "points", "risk_class", "survival"), REFERENCE_CASES)
def test_it_matches_the_reference_cases(
    changes: dict[str, Any], points: int, risk_class: str, survival: float
) -> None:
    result = _encourage(**changes)
    assert result.points == points
    assert sum(result.components.values()) == points
    assert (result.risk_class, result.predicted_survival_pct) == (risk_class, survival)
    assert result.name == "ENCOURAGE"
    assert "doi:10.1007/s00134-016-4223-9" in result.reference
    assert any("6-month survival" in note for note in result.notes)


@pytest.mark.parametrize(
    ("field", "value", "points"),
    [
        ("age_years", 18, 0),
        ("age_years", 60, 0),
        ("age_years", 61, 5),
        ("female", True, 7),
        ("female", False, 0),
        ("bmi_kg_m2", 25, 0),
        ("bmi_kg_m2", 25.1, 6),
        ("glasgow_coma_scale", 15, 0),
        ("glasgow_coma_scale", 6, 0),
        ("glasgow_coma_scale", 5, 6),
        ("glasgow_coma_scale", 3, 6),
        ("creatinine_umol_l", 150, 0),
        ("creatinine_umol_l", 150.1, 5),
        ("lactate_mmol_l", 0, 0),
        ("lactate_mmol_l", 1.99, 0),
        ("lactate_mmol_l", 2, 8),
        ("lactate_mmol_l", 8, 8),
        ("lactate_mmol_l", 8.01, 11),
        ("prothrombin_activity_pct", 50, 0),
        ("prothrombin_activity_pct", 49.9, 5),
    ],
)
def test_it_scores_both_sides_of_every_cut_off(field: str, value: object, points: int) -> None:
    result = _encourage(**{field: value})
    assert result.components[field] == points
    assert result.points == points


def test_it_notes_that_the_prothrombin_weight_has_one_source_only() -> None:
    scored = _encourage(prothrombin_activity_pct=30)
    unscored = _encourage(prothrombin_activity_pct=60)
    assert any("one source only" in n and "it scored here" in n for n in scored.notes)
    assert any("one source only" in n and "did not score" in n for n in unscored.notes)


def test_it_notes_the_lactate_8_reading_only_at_8() -> None:
    assert any("exactly 8" in note for note in _encourage(lactate_mmol_l=8).notes)
    assert not any("exactly 8" in note for note in _encourage(lactate_mmol_l=7.9).notes)


@pytest.mark.parametrize(
    ("changes", "points", "alternative", "risk_class"),
    [
        # lactate 8 +8 → 8 (0–12); the '< 8' reading would give 11
        ({}, 8, 11, "0-12"),
        # female +7, lactate 8 +8 → 15 (13–18)
        ({"female": True}, 15, 18, "13-18"),
        # female +7, age 61 +5, lactate 8 +8 → 20 (19–22, 25 %); '< 8' would give 23 (23–27): 8 is settled
        ({"female": True, "age_years": 61}, 20, 23, "19-22"),
        # female +7, BMI +6, lactate 8 +8 → 21 (19–22); '< 8' would give 24
        ({"female": True, "bmi_kg_m2": 30}, 21, 24, "19-22"),
    ],
)
def test_it_scores_lactate_exactly_8_as_8_and_publishes_the_class(
    changes: dict[str, Any], points: int, alternative: int, risk_class: str
) -> None:
    result = _encourage(lactate_mmol_l=8, **changes)
    assert result.points == points
    assert any(f"a total of {alternative}" in note for note in result.notes)
    assert result.risk_class == risk_class
    assert not any("withheld" in note for note in result.notes)
    assert (result.predicted_survival_pct is None) == (risk_class is None)
    assert any("withheld" in note for note in result.notes) == (risk_class is None)


@pytest.mark.parametrize(
    ("changes", "points", "risk_class", "survival"),
    [
        # age 61 +5, female +7 → 12
        ({"age_years": 61, "female": True}, 12, "0-12", 80.0),
        # female +7, BMI +6 → 13
        ({"female": True, "bmi_kg_m2": 30}, 13, "13-18", 58.0),
        # female +7, BMI +6, creatinine +5 → 18
        ({"female": True, "bmi_kg_m2": 30, "creatinine_umol_l": 200}, 18, "13-18", 58.0),
        # lactate 3 +8, BMI +6, age 61 +5 → 19
        ({"lactate_mmol_l": 3, "bmi_kg_m2": 30, "age_years": 61}, 19, "19-22", 25.0),
        # lactate 9 +11, BMI +6, age 61 +5 → 22
        ({"lactate_mmol_l": 9, "bmi_kg_m2": 30, "age_years": 61}, 22, "19-22", 25.0),
        # lactate 9 +11, female +7, age 61 +5 → 23
        ({"lactate_mmol_l": 9, "female": True, "age_years": 61}, 23, "23-27", 20.0),
        # lactate 9 +11, BMI +6, age 61 +5, creatinine +5 → 27
        (
            {"lactate_mmol_l": 9, "bmi_kg_m2": 30, "age_years": 61, "creatinine_umol_l": 200},
            27,
            "23-27",
            20.0,
        ),
        # lactate 9 +11, female +7, age 61 +5, creatinine +5 → 28
        (
            {"lactate_mmol_l": 9, "female": True, "age_years": 61, "creatinine_umol_l": 200},
            28,
            ">=28",
            7.0,
        ),
    ],
)
def test_it_classes_both_sides_of_each_class_edge(
    changes: dict[str, Any], points: int, risk_class: str, survival: float
) -> None:
    result = _encourage(**changes)
    assert (result.points, result.risk_class, result.predicted_survival_pct) == (points, risk_class, survival)


NUMBER_BAD = ["12", None, True, math.nan, math.inf]
BAD_INPUTS = [
    *[("age_years", bad) for bad in [*NUMBER_BAD, 60.5, 17, 101]],
    *[("female", bad) for bad in [1, 0, "female", None]],
    *[("bmi_kg_m2", bad) for bad in [*NUMBER_BAD, 9, 101]],
    *[("glasgow_coma_scale", bad) for bad in [*NUMBER_BAD, 2, 16, 14.5]],
    *[("creatinine_umol_l", bad) for bad in [*NUMBER_BAD, -1, 3001]],
    *[("lactate_mmol_l", bad) for bad in [*NUMBER_BAD, -1, 51]],
    *[("prothrombin_activity_pct", bad) for bad in [*NUMBER_BAD, -1, 201]],
]


@pytest.mark.parametrize(("field", "bad"), BAD_INPUTS)
def test_it_refuses_bad_input_naming_the_field(field: str, bad: object) -> None:
    with pytest.raises(InputError) as caught:
        _encourage(**{field: bad})
    assert caught.value.field == field
