"""Spec checklist for ``ecmo_core.scores.preset`` (PRESET score).

Point table: scores-and-models.md §4 (Hilder 2017; predictors and range 0–15 A, cut-offs B from two
third-party calculators). Expected totals were added up by hand from that table.

- [x] Reference cases, including the published extremes 0 and 15 (range check of §4).
- [x] Risk class and mortality are never published (the sources disagree) and the notes say why.
- [x] Both sides of every cut-off: MAP 100/100.5, 91/90, 81/80, 71/70; lactate 1.5/1.51, 3.0/3.01,
      6.0/6.01, 10.0/10.01; pH 7.30/7.31, 7.201/7.20, 7.101/7.10; platelets 200/200.5, 101/100;
      hospital days 2/3, 7/7.5.
- [x] Values between printed bands (MAP 90.5, lactate 1.505, pH 7.2005, platelets 100.5, 2.5 days) score
      with the lower-valued band, with a note.
- [x] Bad input on every keyword raises ``InputError`` naming that keyword.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from ecmo_core.errors import InputError
from ecmo_core.scores import preset

# Base patient: every item scores 0. MAP 105 (> 100); lactate 1.0 (≤ 1.5); pH 7.40 (> 7.30);
# platelets 250 (> 200); 1 hospital day (≤ 2). Total 0.
BASE: dict[str, Any] = {
    "mean_arterial_pressure_mmhg": 105,
    "lactate_mmol_l": 1.0,
    "arterial_ph": 7.40,
    "platelets_10e9_l": 250,
    "hospital_days_before_ecmo": 1,
}


def _preset(**changes: Any) -> Any:
    return preset(**{**BASE, **changes})


REFERENCE_CASES = [
    # PRESET-01, minimum: every item 0 → 0.
    pytest.param({}, 0, id="PRESET-01-minimum-0"),
    # PRESET-02, maximum: MAP 60 (≤ 70) 4; lactate 12 (> 10) 4; pH 7.00 (≤ 7.10) 3; platelets 50 (≤ 100) 2;
    # 10 days (> 7) 2 → 4+4+3+2+2 = 15.
    pytest.param(
        {
            "mean_arterial_pressure_mmhg": 60,
            "lactate_mmol_l": 12,
            "arterial_ph": 7.00,
            "platelets_10e9_l": 50,
            "hospital_days_before_ecmo": 10,
        },
        15,
        id="PRESET-02-maximum-15",
    ),
    # PRESET-03: MAP 75 (71–80) 3; lactate 2.4 (1.51–3.0) 1; pH 7.15 (7.101–7.20) 2; platelets 150 (101–200)
    # 1; 5 days (3–7) 1 → 3+1+2+1+1 = 8.
    pytest.param(
        {
            "mean_arterial_pressure_mmhg": 75,
            "lactate_mmol_l": 2.4,
            "arterial_ph": 7.15,
            "platelets_10e9_l": 150,
            "hospital_days_before_ecmo": 5,
        },
        8,
        id="PRESET-03",
    ),
    # PRESET-04: MAP 85 (81–90) 2; lactate 4.5 (3.01–6.0) 2; pH 7.25 (7.201–7.30) 1; platelets 250 0;
    # 2 days (≤ 2) 0 → 2+2+1 = 5.
    pytest.param(
        {
            "mean_arterial_pressure_mmhg": 85,
            "lactate_mmol_l": 4.5,
            "arterial_ph": 7.25,
            "hospital_days_before_ecmo": 2,
        },
        5,
        id="PRESET-04",
    ),
    # PRESET-05: MAP 95 (91–100) 1; lactate 7 (6.01–10.0) 3; pH 7.35 0; platelets 90 (≤ 100) 2; 8 days (> 7) 2
    # → 1+3+2+2 = 8.
    pytest.param(
        {
            "mean_arterial_pressure_mmhg": 95,
            "lactate_mmol_l": 7,
            "arterial_ph": 7.35,
            "platelets_10e9_l": 90,
            "hospital_days_before_ecmo": 8,
        },
        8,
        id="PRESET-05",
    ),
]


@pytest.mark.parametrize(("changes", "points"), REFERENCE_CASES)
def test_it_matches_the_reference_cases(changes: dict[str, Any], points: int) -> None:
    result = _preset(**changes)
    assert result.points == points
    assert sum(result.components.values()) == points
    assert result.risk_class is None
    assert result.predicted_survival_pct is None
    assert result.name == "PRESET"
    assert "doi:10.1186/s13054-017-1888-6" in result.reference


def test_it_never_publishes_a_class_and_says_why() -> None:
    notes = " ".join(_preset().notes)
    assert "not published" in notes
    assert "I 0–5 / II 6–9 / III 10–15" in notes
    assert "I 0–3 / II 4–5 / III ≥6" in notes
    assert "confidence B" in notes


@pytest.mark.parametrize(
    ("field", "value", "points", "in_gap"),
    [
        ("mean_arterial_pressure_mmhg", 300, 0, False),
        ("mean_arterial_pressure_mmhg", 100.5, 0, False),
        ("mean_arterial_pressure_mmhg", 100, 1, False),
        ("mean_arterial_pressure_mmhg", 91, 1, False),
        ("mean_arterial_pressure_mmhg", 90.5, 2, True),
        ("mean_arterial_pressure_mmhg", 90, 2, False),
        ("mean_arterial_pressure_mmhg", 81, 2, False),
        ("mean_arterial_pressure_mmhg", 80, 3, False),
        ("mean_arterial_pressure_mmhg", 71, 3, False),
        ("mean_arterial_pressure_mmhg", 70.5, 4, True),
        ("mean_arterial_pressure_mmhg", 70, 4, False),
        ("mean_arterial_pressure_mmhg", 0, 4, False),
        ("lactate_mmol_l", 0, 0, False),
        ("lactate_mmol_l", 1.5, 0, False),
        ("lactate_mmol_l", 1.505, 0, True),
        ("lactate_mmol_l", 1.51, 1, False),
        ("lactate_mmol_l", 3.0, 1, False),
        ("lactate_mmol_l", 3.01, 2, False),
        ("lactate_mmol_l", 6.0, 2, False),
        ("lactate_mmol_l", 6.01, 3, False),
        ("lactate_mmol_l", 10.0, 3, False),
        ("lactate_mmol_l", 10.01, 4, False),
        ("arterial_ph", 7.31, 0, False),
        ("arterial_ph", 7.30, 1, False),
        ("arterial_ph", 7.201, 1, False),
        ("arterial_ph", 7.2005, 2, True),
        ("arterial_ph", 7.20, 2, False),
        ("arterial_ph", 7.101, 2, False),
        ("arterial_ph", 7.10, 3, False),
        ("arterial_ph", 6.8, 3, False),
        ("platelets_10e9_l", 200.5, 0, False),
        ("platelets_10e9_l", 200, 1, False),
        ("platelets_10e9_l", 101, 1, False),
        ("platelets_10e9_l", 100.5, 2, True),
        ("platelets_10e9_l", 100, 2, False),
        ("platelets_10e9_l", 0, 2, False),
        ("hospital_days_before_ecmo", 0, 0, False),
        ("hospital_days_before_ecmo", 2, 0, False),
        ("hospital_days_before_ecmo", 2.5, 0, True),
        ("hospital_days_before_ecmo", 3, 1, False),
        ("hospital_days_before_ecmo", 7, 1, False),
        ("hospital_days_before_ecmo", 7.5, 2, False),
    ],
)
def test_it_scores_both_sides_of_every_cut_off(field: str, value: float, points: int, in_gap: bool) -> None:
    result = _preset(**{field: value})
    assert result.components[field] == points
    assert result.points == points
    assert any("printed bands" in note for note in result.notes) == in_gap


NUMBER_BAD = ["12", None, True, math.nan, math.inf]
BAD_INPUTS = [
    *[("mean_arterial_pressure_mmhg", bad) for bad in [*NUMBER_BAD, -1, 300.1]],
    *[("lactate_mmol_l", bad) for bad in [*NUMBER_BAD, -0.1, 50.1]],
    *[("arterial_ph", bad) for bad in [*NUMBER_BAD, 5.9, 8.1, 40]],
    *[("platelets_10e9_l", bad) for bad in [*NUMBER_BAD, -1, 2000.1]],
    *[("hospital_days_before_ecmo", bad) for bad in [*NUMBER_BAD, -1, 365.1]],
]


@pytest.mark.parametrize(("field", "bad"), BAD_INPUTS)
def test_it_refuses_bad_input_naming_the_field(field: str, bad: object) -> None:
    with pytest.raises(InputError) as caught:
        _preset(**{field: bad})
    assert caught.value.field == field
