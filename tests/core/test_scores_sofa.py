"""Spec checklist for ``ecmo_core.scores.sofa`` (SOFA, Vincent 1996).

Point table: scores-and-models.md §10 (confidence A; table as in PMC4968574). Expected totals were added up
by hand from that table, organ by organ.

- [x] Reference cases: a full SOFA, all-normal 0 and the maximum 24.
- [x] Only the organs given are scored; components keyed ``respiration``, ``coagulation``, ``liver``,
      ``cardiovascular``, ``cns``, ``renal``; a partial SOFA carries a note; no organ at all is an
      ``InputError`` (field ``__all__``).
- [x] Respiration 400/399, 300/299, 200/199, 100/99; 3–4 only with respiratory support (capped at 2
      otherwise, with a note); support without P/F is noted.
- [x] Coagulation 150/149, 100/99, 50/49, 20/19.
- [x] Liver 1.19/1.2, 1.9/1.95/2.0, 5.9/6.0, 11.9/11.95/12.0/12.1 (12.0 scores 4, noted).
- [x] Cardiovascular: MAP 70/69.9; dopamine 5/5.1, 15/15.1; dobutamine any; epinephrine and
      norepinephrine 0.1/0.11; drugs without MAP; the highest applicable points win.
- [x] CNS 15/14, 13/12, 10/9, 6/5, 3.
- [x] Renal: creatinine 1.19/1.2, 1.9/2.0, 3.4/3.45/3.5, 4.9/5.0 (5.0 scores 4, noted); urine output
      500/499, 200/199; the worse of the two; urine output alone is noted.
- [x] Bad input on every keyword raises ``InputError`` naming that keyword.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from ecmo_core.errors import InputError
from ecmo_core.scores import sofa

# Full normal set: P/F 450 (≥ 400) 0; platelets 200 (≥ 150) 0; bilirubin 0.8 (< 1.2) 0; MAP 80 (≥ 70) 0;
# GCS 15 0; creatinine 0.9 (< 1.2) 0. Total 0 over six organs.
NORMAL: dict[str, Any] = {
    "pf_ratio_mmhg": 450,
    "respiratory_support": True,
    "platelets_10e3_ul": 200,
    "bilirubin_mg_dl": 0.8,
    "mean_arterial_pressure_mmhg": 80,
    "glasgow_coma_scale": 15,
    "creatinine_mg_dl": 0.9,
}
ORGANS = ("respiration", "coagulation", "liver", "cardiovascular", "cns", "renal")


def _sofa(**changes: Any) -> Any:
    return sofa(**{**NORMAL, **changes})


REFERENCE_CASES = [
    pytest.param(
        # SOFA-01: P/F 150 (< 200) ventilated → 3; platelets 80 (< 100) → 2; bilirubin 2.5 (2.0–5.9) → 2;
        # MAP 65 on norepinephrine 0.05 (≤ 0.1) → 3; GCS 11 (10–12) → 2; creatinine 1.5 (1.2–1.9) → 1
        # → 3+2+2+3+2+1 = 13.
        {
            "pf_ratio_mmhg": 150,
            "platelets_10e3_ul": 80,
            "bilirubin_mg_dl": 2.5,
            "mean_arterial_pressure_mmhg": 65,
            "norepinephrine_ug_kg_min": 0.05,
            "glasgow_coma_scale": 11,
            "creatinine_mg_dl": 1.5,
        },
        {"respiration": 3, "coagulation": 2, "liver": 2, "cardiovascular": 3, "cns": 2, "renal": 1},
        13,
        id="SOFA-01",
    ),
    pytest.param(
        # SOFA-02: all normal → 0+0+0+0+0+0 = 0.
        {},
        dict.fromkeys(ORGANS, 0),
        0,
        id="SOFA-02-normal-0",
    ),
    pytest.param(
        # SOFA-03, maximum: P/F 80 ventilated → 4; platelets 10 → 4; bilirubin 15 → 4; norepinephrine 0.2 → 4;
        # GCS 5 → 4; creatinine 6 → 4 → 24.
        {
            "pf_ratio_mmhg": 80,
            "platelets_10e3_ul": 10,
            "bilirubin_mg_dl": 15,
            "norepinephrine_ug_kg_min": 0.2,
            "glasgow_coma_scale": 5,
            "creatinine_mg_dl": 6,
        },
        dict.fromkeys(ORGANS, 4),
        24,
        id="SOFA-03-maximum-24",
    ),
    pytest.param(
        # SOFA-04: P/F 250 (< 300) not ventilated → 2; platelets 120 (< 150) → 1; bilirubin 1.5 → 1; MAP 60 →
        # 1; GCS 14 → 1; creatinine 2.2 (2.0–3.4) → 2 → 2+1+1+1+1+2 = 8.
        {
            "pf_ratio_mmhg": 250,
            "respiratory_support": False,
            "platelets_10e3_ul": 120,
            "bilirubin_mg_dl": 1.5,
            "mean_arterial_pressure_mmhg": 60,
            "glasgow_coma_scale": 14,
            "creatinine_mg_dl": 2.2,
        },
        {"respiration": 2, "coagulation": 1, "liver": 1, "cardiovascular": 1, "cns": 1, "renal": 2},
        8,
        id="SOFA-04",
    ),
]


@pytest.mark.parametrize(("changes", "components", "points"), REFERENCE_CASES)
def test_it_matches_the_reference_cases(
    changes: dict[str, Any], components: dict[str, int], points: int
) -> None:
    result = _sofa(**changes)
    assert dict(result.components) == components
    assert list(result.components) == list(ORGANS)
    assert result.points == points
    assert result.risk_class is None
    assert result.predicted_survival_pct is None
    assert result.name == "SOFA"
    assert "doi:10.1007/BF01709751" in result.reference
    assert result.notes == ()


def test_it_refuses_a_sofa_with_no_organ() -> None:
    with pytest.raises(InputError) as caught:
        sofa()
    assert caught.value.field == "__all__"
    assert "at least one organ" in caught.value.message


def test_it_scores_only_the_organs_given_and_says_so() -> None:
    result = sofa(platelets_10e3_ul=80, glasgow_coma_scale=11)
    assert dict(result.components) == {"coagulation": 2, "cns": 2}
    assert result.points == 4
    (note,) = [n for n in result.notes if n.startswith("Partial SOFA")]
    assert "2 of 6 organs (respiration, liver, cardiovascular, renal not given)" in note


def test_it_notes_respiratory_support_without_a_pf_ratio() -> None:
    result = sofa(respiratory_support=True, platelets_10e3_ul=200)
    assert "respiration" not in result.components
    assert any("without pf_ratio_mmhg" in note for note in result.notes)


@pytest.mark.parametrize(
    ("pf", "support", "points", "capped"),
    [
        (800, True, 0, False),
        (400, True, 0, False),
        (399, True, 1, False),
        (300, True, 1, False),
        (299, True, 2, False),
        (200, True, 2, False),
        (199, True, 3, False),
        (100, True, 3, False),
        (99, True, 4, False),
        (0.1, True, 4, False),
        (399, False, 1, False),
        (200, False, 2, False),
        (199, False, 2, True),
        (99, False, 2, True),
    ],
)
def test_it_scores_respiration_with_3_and_4_only_on_support(
    pf: float, support: bool, points: int, capped: bool
) -> None:
    result = _sofa(pf_ratio_mmhg=pf, respiratory_support=support)
    assert result.components["respiration"] == points
    assert any("require respiratory support" in note for note in result.notes) == capped


@pytest.mark.parametrize(
    ("platelets", "points"),
    [(2000, 0), (150, 0), (149, 1), (100, 1), (99, 2), (50, 2), (49, 3), (20, 3), (19, 4), (0, 4)],
)
def test_it_scores_coagulation_on_both_sides_of_each_edge(platelets: float, points: int) -> None:
    assert _sofa(platelets_10e3_ul=platelets).components["coagulation"] == points


@pytest.mark.parametrize(
    ("bilirubin", "points", "note"),
    [
        (0, 0, None),
        (1.19, 0, None),
        (1.2, 1, None),
        (1.9, 1, None),
        (1.95, 1, "printed bands"),
        (2.0, 2, None),
        (5.9, 2, None),
        (5.95, 2, "printed bands"),
        (6.0, 3, None),
        (11.9, 3, None),
        (11.95, 3, "printed bands"),
        (12.0, 4, "exactly 12.0"),
        (12.1, 4, None),
        (70, 4, None),
    ],
)
def test_it_scores_liver_on_both_sides_of_each_edge(bilirubin: float, points: int, note: str | None) -> None:
    result = _sofa(bilirubin_mg_dl=bilirubin)
    assert result.components["liver"] == points
    if note is None:
        assert result.notes == ()
    else:
        (only,) = result.notes
        assert note in only


@pytest.mark.parametrize(
    ("changes", "points"),
    [
        ({"mean_arterial_pressure_mmhg": 70}, 0),
        ({"mean_arterial_pressure_mmhg": 69.9}, 1),
        ({"mean_arterial_pressure_mmhg": 0}, 1),
        ({"dopamine_ug_kg_min": 0.5}, 2),
        ({"dopamine_ug_kg_min": 5}, 2),
        ({"dopamine_ug_kg_min": 5.1}, 3),
        ({"dopamine_ug_kg_min": 15}, 3),
        ({"dopamine_ug_kg_min": 15.1}, 4),
        ({"dobutamine_ug_kg_min": 0.1}, 2),
        ({"dobutamine_ug_kg_min": 20}, 2),
        ({"epinephrine_ug_kg_min": 0.01}, 3),
        ({"epinephrine_ug_kg_min": 0.1}, 3),
        ({"epinephrine_ug_kg_min": 0.11}, 4),
        ({"norepinephrine_ug_kg_min": 0.01}, 3),
        ({"norepinephrine_ug_kg_min": 0.1}, 3),
        ({"norepinephrine_ug_kg_min": 0.11}, 4),
        # the highest applicable row wins: MAP 60 (1) with dobutamine (2) → 2
        ({"mean_arterial_pressure_mmhg": 60, "dobutamine_ug_kg_min": 5}, 2),
        # dopamine 4 (2) with norepinephrine 0.2 (4) → 4
        ({"dopamine_ug_kg_min": 4, "norepinephrine_ug_kg_min": 0.2}, 4),
    ],
)
def test_it_scores_cardiovascular_on_both_sides_of_each_edge(changes: dict[str, Any], points: int) -> None:
    assert _sofa(**changes).components["cardiovascular"] == points


@pytest.mark.parametrize(
    ("drug", "dose", "points"),
    [
        ("dopamine_ug_kg_min", 3, 2),
        ("dobutamine_ug_kg_min", 3, 2),
        ("epinephrine_ug_kg_min", 0.05, 3),
        ("norepinephrine_ug_kg_min", 0.3, 4),
    ],
)
def test_it_scores_cardiovascular_from_drugs_without_a_map(drug: str, dose: float, points: int) -> None:
    kwargs: dict[str, Any] = {drug: dose}
    result = sofa(**kwargs)
    assert dict(result.components) == {"cardiovascular": points}


def test_it_leaves_cardiovascular_out_without_map_or_drugs() -> None:
    assert "cardiovascular" not in sofa(glasgow_coma_scale=15).components


@pytest.mark.parametrize(
    ("gcs", "points"),
    [(15, 0), (14, 1), (13, 1), (12, 2), (10, 2), (9, 3), (6, 3), (5, 4), (3, 4), (15.0, 0)],
)
def test_it_scores_cns_on_both_sides_of_each_edge(gcs: int, points: int) -> None:
    assert _sofa(glasgow_coma_scale=gcs).components["cns"] == points


@pytest.mark.parametrize(
    ("creatinine", "points", "note"),
    [
        (0, 0, None),
        (1.19, 0, None),
        (1.2, 1, None),
        (1.9, 1, None),
        (1.95, 1, "printed bands"),
        (2.0, 2, None),
        (3.4, 2, None),
        (3.45, 2, "printed bands"),
        (3.5, 3, None),
        (4.9, 3, None),
        (4.95, 3, "printed bands"),
        (5.0, 4, "exactly 5.0"),
        (5.1, 4, None),
    ],
)
def test_it_scores_renal_creatinine_on_both_sides_of_each_edge(
    creatinine: float, points: int, note: str | None
) -> None:
    result = _sofa(creatinine_mg_dl=creatinine)
    assert result.components["renal"] == points
    if note is None:
        assert result.notes == ()
    else:
        (only,) = result.notes
        assert note in only


@pytest.mark.parametrize(
    ("urine", "points"),
    [(20000, 0), (500, 0), (499, 3), (200, 3), (199, 4), (0, 4)],
)
def test_it_scores_renal_urine_output_alone_with_a_note(urine: float, points: int) -> None:
    result = _sofa(creatinine_mg_dl=None, urine_output_ml_day=urine)
    assert result.components["renal"] == points
    assert any("urine output alone" in note for note in result.notes)


@pytest.mark.parametrize(
    ("creatinine", "urine", "points"),
    [
        (0.9, 300, 3),  # creatinine 0, urine < 500 → 3: urine output is worse
        (5.5, 300, 4),  # creatinine 4, urine 3 → 4: creatinine is worse
        (2.5, 600, 2),  # creatinine 2, urine 0 → 2
        (2.5, 150, 4),  # creatinine 2, urine < 200 → 4
    ],
)
def test_it_takes_the_worse_of_creatinine_and_urine_output(
    creatinine: float, urine: float, points: int
) -> None:
    result = _sofa(creatinine_mg_dl=creatinine, urine_output_ml_day=urine)
    assert result.components["renal"] == points
    assert any("worse of the creatinine and urine-output" in note for note in result.notes)


NUMBER_BAD = ["12", True, math.nan, math.inf]
BAD_INPUTS = [
    *[("pf_ratio_mmhg", bad) for bad in [*NUMBER_BAD, 0, -1, 800.1]],
    *[("respiratory_support", bad) for bad in [1, 0, "yes", None]],
    *[("platelets_10e3_ul", bad) for bad in [*NUMBER_BAD, -1, 2000.1]],
    *[("bilirubin_mg_dl", bad) for bad in [*NUMBER_BAD, -0.1, 70.1]],
    *[("mean_arterial_pressure_mmhg", bad) for bad in [*NUMBER_BAD, -1, 300.1]],
    *[("dopamine_ug_kg_min", bad) for bad in [*NUMBER_BAD, None, -0.1, 50.1]],
    *[("dobutamine_ug_kg_min", bad) for bad in [*NUMBER_BAD, None, -0.1, 50.1]],
    *[("epinephrine_ug_kg_min", bad) for bad in [*NUMBER_BAD, None, -0.1, 5.1]],
    *[("norepinephrine_ug_kg_min", bad) for bad in [*NUMBER_BAD, None, -0.1, 5.1, 20]],
    *[("glasgow_coma_scale", bad) for bad in [*NUMBER_BAD, 2, 16, 14.5]],
    *[("creatinine_mg_dl", bad) for bad in [*NUMBER_BAD, -0.1, 35.1, 150]],
    *[("urine_output_ml_day", bad) for bad in [*NUMBER_BAD, -1, 20000.1]],
]


@pytest.mark.parametrize(("field", "bad"), BAD_INPUTS)
def test_it_refuses_bad_input_naming_the_field(field: str, bad: object) -> None:
    with pytest.raises(InputError) as caught:
        _sofa(**{field: bad})
    assert caught.value.field == field
