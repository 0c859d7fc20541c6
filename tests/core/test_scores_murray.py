"""Spec checklist for ``ecmo_core.scores.murray_lung_injury`` (Murray lung injury score).

Point table: scores-and-models.md §7 (Murray 1988, confidence A). Expected means were worked out by hand;
MURRAY-01 and MURRAY-02 also match the worked scores of demo runs 1 and 4 (demo-scenarios.md).

- [x] Reference cases with 4, 3 and 2 components; ``points`` is the mean of the components given.
- [x] Missing PEEP and/or compliance: mean over the rest, with a note naming what is missing.
- [x] Class edges: 0 none; 0.25 (the smallest non-zero mean) and 2.5 mild_moderate; 2.67 severe.
- [x] Every band edge: CXR 0–4; P/F 300/299/299.5, 225/224/224.5, 175/174, 100/99.9; PEEP 5/5.5/6, 8/8.5/9,
      11/12, 14/15; compliance 80/79.5/79, 60/59, 40/39, 20/19.5/19. A value between printed bands scores
      with the lower-valued band, with a note.
- [x] Pitfall §15.3 (TypeScript runMurrayLIS): CXR is not divided by 4, P/F < 100 is 4, PEEP 15 is 4.
- [x] Bad input on every keyword raises ``InputError`` naming that keyword.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from ecmo_core.errors import InputError
from ecmo_core.scores import murray_lung_injury

# Base: all four components 0. CXR 0 quadrants; P/F 350 (≥ 300); PEEP 5 (≤ 5); compliance 90 (≥ 80).
BASE: dict[str, Any] = {
    "chest_xray_quadrants": 0,
    "pf_ratio_mmhg": 350,
    "peep_cmh2o": 5,
    "static_compliance_ml_cmh2o": 90,
}


def _murray(**changes: Any) -> Any:
    return murray_lung_injury(**{**BASE, **changes})


REFERENCE_CASES = [
    pytest.param(
        # MURRAY-01 = demo run 1: CXR 4 → 4; P/F 68 (< 100) → 4; PEEP 16 (≥ 15) → 4;
        # compliance 420/16 = 26.25 (20–39) → 3 → (4+4+4+3)/4 = 15/4 = 3.75 → severe.
        {
            "chest_xray_quadrants": 4,
            "pf_ratio_mmhg": 68,
            "peep_cmh2o": 16,
            "static_compliance_ml_cmh2o": 420 / 16,
        },
        3.75,
        "severe",
        id="MURRAY-01-demo-run-1",
    ),
    pytest.param(
        # MURRAY-02 = demo run 4: CXR 4 → 4; P/F 62 → 4; PEEP 14 (12–14) → 3; compliance 350/(31−14) = 20.6 →
        # 3 → (4+4+3+3)/4 = 14/4 = 3.5 → severe.
        {
            "chest_xray_quadrants": 4,
            "pf_ratio_mmhg": 62,
            "peep_cmh2o": 14,
            "static_compliance_ml_cmh2o": 350 / 17,
        },
        3.5,
        "severe",
        id="MURRAY-02-demo-run-4",
    ),
    pytest.param(
        # MURRAY-03, two components: CXR 1 → 1; P/F 250 (225–299) → 1 → (1+1)/2 = 1.0 → mild_moderate.
        {
            "chest_xray_quadrants": 1,
            "pf_ratio_mmhg": 250,
            "peep_cmh2o": None,
            "static_compliance_ml_cmh2o": None,
        },
        1.0,
        "mild_moderate",
        id="MURRAY-03-two-components",
    ),
    pytest.param(
        # MURRAY-04, three components: CXR 2 → 2; P/F 200 (175–224) → 2; PEEP 10 (9–11) → 2 → 6/3 = 2.0.
        {
            "chest_xray_quadrants": 2,
            "pf_ratio_mmhg": 200,
            "peep_cmh2o": 10,
            "static_compliance_ml_cmh2o": None,
        },
        2.0,
        "mild_moderate",
        id="MURRAY-04-three-components",
    ),
    pytest.param(
        # MURRAY-05, no injury: 0+0+0+0 = 0 → none.
        {},
        0.0,
        "none",
        id="MURRAY-05-none",
    ),
    pytest.param(
        # MURRAY-06, exactly 2.5: CXR 3 → 3; P/F 150 (100–174) → 3; PEEP 10 → 2; compliance 50 (40–59) → 2
        # → 10/4 = 2.5 → mild_moderate (severe is > 2.5).
        {"chest_xray_quadrants": 3, "pf_ratio_mmhg": 150, "peep_cmh2o": 10, "static_compliance_ml_cmh2o": 50},
        2.5,
        "mild_moderate",
        id="MURRAY-06-exactly-2.5",
    ),
    pytest.param(
        # MURRAY-07, just above 2.5: CXR 3 → 3; P/F 150 → 3; PEEP 10 → 2; no compliance → 8/3 = 2.667 →
        # severe.
        {
            "chest_xray_quadrants": 3,
            "pf_ratio_mmhg": 150,
            "peep_cmh2o": 10,
            "static_compliance_ml_cmh2o": None,
        },
        8 / 3,
        "severe",
        id="MURRAY-07-eight-thirds",
    ),
    pytest.param(
        # MURRAY-08, smallest non-zero mean: CXR 1 → 1; the rest 0 → 1/4 = 0.25 → mild_moderate.
        {"chest_xray_quadrants": 1},
        0.25,
        "mild_moderate",
        id="MURRAY-08-one-quarter",
    ),
    pytest.param(
        # MURRAY-09, compliance without PEEP: CXR 2 → 2; P/F 120 → 3; compliance 30 (20–39) → 3 → 8/3 = 2.667.
        {
            "chest_xray_quadrants": 2,
            "pf_ratio_mmhg": 120,
            "peep_cmh2o": None,
            "static_compliance_ml_cmh2o": 30,
        },
        8 / 3,
        "severe",
        id="MURRAY-09-no-peep",
    ),
]


@pytest.mark.parametrize(("changes", "points", "risk_class"), REFERENCE_CASES)
def test_it_matches_the_reference_cases(changes: dict[str, Any], points: float, risk_class: str) -> None:
    result = _murray(**changes)
    assert result.points == pytest.approx(points, abs=1e-12)
    assert isinstance(result.points, float)
    assert result.risk_class == risk_class
    assert result.predicted_survival_pct is None
    assert result.name == "Murray LIS"
    assert "doi:10.1164/ajrccm/138.3.720" in result.reference


def test_it_accepts_only_the_two_required_components() -> None:
    result = murray_lung_injury(chest_xray_quadrants=2, pf_ratio_mmhg=200)
    assert dict(result.components) == {"chest_xray_quadrants": 2, "pf_ratio_mmhg": 2}
    assert result.points == 2.0


@pytest.mark.parametrize(
    ("peep", "compliance", "count", "missing"),
    [
        (None, None, 2, "peep_cmh2o, static_compliance_ml_cmh2o"),
        (10, None, 3, "static_compliance_ml_cmh2o"),
        (None, 50, 3, "peep_cmh2o"),
    ],
)
def test_it_notes_missing_components(
    peep: float | None, compliance: float | None, count: int, missing: str
) -> None:
    result = _murray(peep_cmh2o=peep, static_compliance_ml_cmh2o=compliance)
    assert len(result.components) == count
    (note,) = [n for n in result.notes if n.startswith("Mean of")]
    assert f"Mean of {count} of 4 components ({missing} not given)" in note


def test_it_has_no_notes_for_a_complete_score_on_whole_numbers() -> None:
    assert _murray().notes == ()


@pytest.mark.parametrize("quadrants", [0, 1, 2, 3, 4])
def test_it_scores_chest_xray_quadrants_one_point_each(quadrants: int) -> None:
    assert _murray(chest_xray_quadrants=quadrants).components["chest_xray_quadrants"] == quadrants


@pytest.mark.parametrize(
    ("field", "value", "points", "in_gap"),
    [
        ("pf_ratio_mmhg", 800, 0, False),
        ("pf_ratio_mmhg", 300, 0, False),
        ("pf_ratio_mmhg", 299.5, 1, True),
        ("pf_ratio_mmhg", 299, 1, False),
        ("pf_ratio_mmhg", 225, 1, False),
        ("pf_ratio_mmhg", 224.5, 2, True),
        ("pf_ratio_mmhg", 224, 2, False),
        ("pf_ratio_mmhg", 175, 2, False),
        ("pf_ratio_mmhg", 174, 3, False),
        ("pf_ratio_mmhg", 100, 3, False),
        ("pf_ratio_mmhg", 99.9, 4, False),
        ("pf_ratio_mmhg", 0.1, 4, False),
        ("peep_cmh2o", 0, 0, False),
        ("peep_cmh2o", 5, 0, False),
        ("peep_cmh2o", 5.5, 0, True),
        ("peep_cmh2o", 6, 1, False),
        ("peep_cmh2o", 8, 1, False),
        ("peep_cmh2o", 8.5, 1, True),
        ("peep_cmh2o", 9, 2, False),
        ("peep_cmh2o", 11, 2, False),
        ("peep_cmh2o", 12, 3, False),
        ("peep_cmh2o", 14, 3, False),
        ("peep_cmh2o", 15, 4, False),
        ("peep_cmh2o", 50, 4, False),
        ("static_compliance_ml_cmh2o", 300, 0, False),
        ("static_compliance_ml_cmh2o", 80, 0, False),
        ("static_compliance_ml_cmh2o", 79.5, 1, True),
        ("static_compliance_ml_cmh2o", 79, 1, False),
        ("static_compliance_ml_cmh2o", 60, 1, False),
        ("static_compliance_ml_cmh2o", 59, 2, False),
        ("static_compliance_ml_cmh2o", 40, 2, False),
        ("static_compliance_ml_cmh2o", 39, 3, False),
        ("static_compliance_ml_cmh2o", 20, 3, False),
        ("static_compliance_ml_cmh2o", 19.5, 4, True),
        ("static_compliance_ml_cmh2o", 19, 4, False),
        ("static_compliance_ml_cmh2o", 0.1, 4, False),
    ],
)
def test_it_scores_both_sides_of_every_band_edge(field: str, value: float, points: int, in_gap: bool) -> None:
    result = _murray(**{field: value})
    assert result.components[field] == points
    gap_notes = [n for n in result.notes if "printed bands" in n]
    assert bool(gap_notes) == in_gap
    if in_gap:
        assert gap_notes[0].startswith(f"{field} = {value:g} ")


def test_it_avoids_the_typescript_band_errors() -> None:
    # runMurrayLIS scored CXR as quadrants/4, P/F < 100 as 3 and PEEP ≥ 16 as 3 (pitfall §15.3).
    result = _murray(chest_xray_quadrants=4, pf_ratio_mmhg=90, peep_cmh2o=15)
    assert result.components["chest_xray_quadrants"] == 4
    assert result.components["pf_ratio_mmhg"] == 4
    assert result.components["peep_cmh2o"] == 4


NUMBER_BAD = ["12", True, math.nan, math.inf]
BAD_INPUTS = [
    *[("chest_xray_quadrants", bad) for bad in [*NUMBER_BAD, None, 2.5, -1, 5]],
    *[("pf_ratio_mmhg", bad) for bad in [*NUMBER_BAD, None, 0, -10, 800.1]],
    *[("peep_cmh2o", bad) for bad in [*NUMBER_BAD, -1, 50.1]],
    *[("static_compliance_ml_cmh2o", bad) for bad in [*NUMBER_BAD, 0, -5, 300.1]],
]


@pytest.mark.parametrize(("field", "bad"), BAD_INPUTS)
def test_it_refuses_bad_input_naming_the_field(field: str, bad: object) -> None:
    with pytest.raises(InputError) as caught:
        _murray(**{field: bad})
    assert caught.value.field == field
