"""Spec checklist for ``ecmo_core.scores.save`` (SAVE score).

Point table: scores-and-models.md §2 (Schmidt 2015, confidence A; class boundary at 5: B). Every expected
total was added up by hand from that table, item by item, including the constant −6; SAVE-01 and SAVE-02
also match the worked scores of demo runs 5 and 2 (demo-scenarios.md).

- [x] Reference cases, including the published extremes −35 and +17 (range check of §2).
- [x] The constant −6 is always a component (pitfall §15.1: a tool that drops it is 6 points high).
- [x] Diagnoses add; each scores its points; duplicates, unknown names, empty lists, a bare string and a
      non-iterable are refused; any iterable is accepted.
- [x] Age 38/39, 52/53, 62/63; weight 64.9/65/65.1, 89/89.5/90 (65 kg scores +1 with a note; 89.5 kg is
      between printed bands, scored +2 with a note); intubation 10/10.5/11, 29/29.5/30 h; PIP 20/20.1;
      diastolic 39.9/40; pulse pressure 20/20.1; bicarbonate 15/15.1.
- [x] Class edges: 6 is I; exactly 5 is II (58 %) with a note (settled: the paper's "> 5", B); 4, 1 are II;
      0, −4 III; −5, −9 IV; −10 V.
- [x] At exactly 65 kg the class is published only if the +2 reading gives the same class.
- [x] Bad input on every keyword raises ``InputError`` naming that keyword.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from ecmo_core.errors import InputError
from ecmo_core.scores import save

# Base patient: every item scores 0. Age 70 (≥63: 0); 95 kg (≥90: 0); diagnosis "other" (0); no organ
# failure; intubated 5 h (≤10: 0); PIP 25 (> 20: 0); no arrest; diastolic 30 (< 40: 0); pulse pressure 30
# (> 20: 0); HCO3 20 (> 15: 0); constant −6. Total −6, class IV.
BASE: dict[str, Any] = {
    "age_years": 70,
    "weight_kg": 95,
    "diagnoses": ["other"],
    "liver_failure": False,
    "cns_dysfunction": False,
    "acute_renal_failure": False,
    "chronic_renal_failure": False,
    "intubation_hours_before_ecmo": 5,
    "peak_inspiratory_pressure_cmh2o": 25,
    "cardiac_arrest": False,
    "diastolic_bp_mmhg": 30,
    "pulse_pressure_mmhg": 30,
    "bicarbonate_mmol_l": 20,
}


def _save(**changes: Any) -> Any:
    return save(**{**BASE, **changes})


def test_it_scores_the_base_patient_as_the_constant_alone() -> None:
    result = _save()
    assert result.points == -6
    assert result.components["constant"] == -6
    assert {k: v for k, v in result.components.items() if k != "constant"} == dict.fromkeys(
        [k for k in result.components if k != "constant"], 0
    )
    assert (result.risk_class, result.predicted_survival_pct) == ("IV", 30.0)


REFERENCE_CASES = [
    pytest.param(
        # SAVE-01 = demo run 5: age 29 (18–38) +7; 62 kg (≤65) +1; myocarditis +3; no organ failure; intubated
        # 6 h 0; PIP 18 (≤20) +3; no arrest; diastolic 38 (< 40) 0; pulse pressure 16 (≤20) −2; HCO3 14 (≤15)
        # −3; constant −6 → 7+1+3+3−2−3−6 = 3 → class II (both readings), 58 %.
        {
            "age_years": 29,
            "weight_kg": 62,
            "diagnoses": ["myocarditis"],
            "intubation_hours_before_ecmo": 6,
            "peak_inspiratory_pressure_cmh2o": 18,
            "diastolic_bp_mmhg": 38,
            "pulse_pressure_mmhg": 16,
            "bicarbonate_mmol_l": 14,
        },
        3,
        "II",
        58.0,
        id="SAVE-01-demo-run-5",
    ),
    pytest.param(
        # SAVE-02 = demo run 2: age 58 (53–62) +3; 92 kg 0; "other" 0; acute renal failure −3; intubated 2 h
        # 0; PIP 26 0; arrest −2; diastolic 42 (≥40) +3; pulse pressure 18 (≤20) −2; HCO3 17 0; constant −6 →
        # 3−3−2+3−2−6 = −7 → class IV, 30 %.
        {
            "age_years": 58,
            "weight_kg": 92,
            "acute_renal_failure": True,
            "intubation_hours_before_ecmo": 2,
            "peak_inspiratory_pressure_cmh2o": 26,
            "cardiac_arrest": True,
            "diastolic_bp_mmhg": 42,
            "pulse_pressure_mmhg": 18,
            "bicarbonate_mmol_l": 17,
        },
        -7,
        "IV",
        30.0,
        id="SAVE-02-demo-run-2",
    ),
    pytest.param(
        # SAVE-03, maximum: age 30 +7; 70 kg (65–89) +2; myocarditis +3, VT/VF +2, transplant +3 (= +8); PIP
        # 15 +3; diastolic 50 +3; pulse pressure 40 0; HCO3 24 0; constant −6 → 7+2+8+3+3−6 = 17 → I, 75 %.
        {
            "age_years": 30,
            "weight_kg": 70,
            "diagnoses": ["myocarditis", "refractory_vt_vf", "post_heart_or_lung_transplant"],
            "peak_inspiratory_pressure_cmh2o": 15,
            "diastolic_bp_mmhg": 50,
            "pulse_pressure_mmhg": 40,
            "bicarbonate_mmol_l": 24,
        },
        17,
        "I",
        75.0,
        id="SAVE-03-maximum-17",
    ),
    pytest.param(
        # SAVE-04, minimum: age 70 0; 95 kg 0; congenital heart disease −3; liver −3, CNS −3, acute renal −3;
        # chronic renal −6; intubated 48 h (≥30) −4; PIP 30 0; arrest −2; diastolic 30 0; pulse pressure 10
        # −2; HCO3 10 −3; constant −6 → −3−9−6−4−2−2−3−6 = −35 → V, 18 %.
        {
            "diagnoses": ["congenital_heart_disease"],
            "liver_failure": True,
            "cns_dysfunction": True,
            "acute_renal_failure": True,
            "chronic_renal_failure": True,
            "intubation_hours_before_ecmo": 48,
            "peak_inspiratory_pressure_cmh2o": 30,
            "cardiac_arrest": True,
            "pulse_pressure_mmhg": 10,
            "bicarbonate_mmol_l": 10,
        },
        -35,
        "V",
        18.0,
        id="SAVE-04-minimum-minus-35",
    ),
    pytest.param(
        # SAVE-05: age 45 (39–52) +4; 80 kg +2; VT/VF +2; intubated 20 h (11–29) −2; PIP 22 0; arrest −2;
        # diastolic 45 +3; pulse pressure 25 0; HCO3 18 0; constant −6 → 4+2+2−2−2+3−6 = 1 → II, 58 %.
        {
            "age_years": 45,
            "weight_kg": 80,
            "diagnoses": ["refractory_vt_vf"],
            "intubation_hours_before_ecmo": 20,
            "peak_inspiratory_pressure_cmh2o": 22,
            "cardiac_arrest": True,
            "diastolic_bp_mmhg": 45,
            "pulse_pressure_mmhg": 25,
            "bicarbonate_mmol_l": 18,
        },
        1,
        "II",
        58.0,
        id="SAVE-05",
    ),
]


@pytest.mark.parametrize(("changes", "points", "risk_class", "survival"), REFERENCE_CASES)
def test_it_matches_the_reference_cases(
    changes: dict[str, Any], points: int, risk_class: str, survival: float
) -> None:
    result = _save(**changes)
    assert result.points == points
    assert sum(result.components.values()) == points
    assert result.components["constant"] == -6
    assert (result.risk_class, result.predicted_survival_pct) == (risk_class, survival)
    assert result.name == "SAVE"
    assert "doi:10.1093/eurheartj/ehv194" in result.reference


@pytest.mark.parametrize(
    ("diagnoses", "points"),
    [
        (["myocarditis"], 3),
        (["refractory_vt_vf"], 2),
        (["post_heart_or_lung_transplant"], 3),
        (["congenital_heart_disease"], -3),
        (["other"], 0),
        (["myocarditis", "refractory_vt_vf"], 5),
        (["refractory_vt_vf", "congenital_heart_disease", "other"], -1),
        (("myocarditis",), 3),
        ({"post_heart_or_lung_transplant", "refractory_vt_vf"}, 5),
        ((d for d in ["myocarditis", "refractory_vt_vf"]), 5),
    ],
)
def test_it_adds_the_diagnosis_points(diagnoses: Any, points: int) -> None:
    result = _save(diagnoses=diagnoses)
    assert result.components["diagnoses"] == points
    assert result.points == points - 6


@pytest.mark.parametrize(
    ("diagnoses", "words"),
    [
        ([], "at least one"),
        ("myocarditis", "list"),
        (b"myocarditis", "list"),
        (42, "list"),
        (None, "list"),
        (["myocarditis", "myocarditis"], "more than once"),
        (["flu"], "must be one of"),
        (["Myocarditis"], "must be one of"),
        ([None], "must be one of"),
    ],
)
def test_it_refuses_bad_diagnoses(diagnoses: Any, words: str) -> None:
    with pytest.raises(InputError) as caught:
        _save(diagnoses=diagnoses)
    assert caught.value.field == "diagnoses"
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("age", "points"),
    [(18, 7), (38, 7), (39, 4), (52, 4), (53, 3), (62, 3), (63, 0), (100, 0)],
)
def test_it_scores_age_on_both_sides_of_each_cut_off(age: int, points: int) -> None:
    assert _save(age_years=age).components["age_years"] == points


@pytest.mark.parametrize(
    ("weight", "points", "note"),
    [
        (20, 1, None),
        (64.9, 1, None),
        (65, 1, "exactly 65 kg"),
        (65.1, 2, None),
        (89, 2, None),
        (89.5, 2, "between two printed bands"),
        (90, 0, None),
        (400, 0, None),
    ],
)
def test_it_scores_weight_on_both_sides_of_each_cut_off(weight: float, points: int, note: str | None) -> None:
    result = _save(weight_kg=weight)
    assert result.components["weight_kg"] == points
    band_notes = [n for n in result.notes if n.startswith("Weight exactly") or "printed bands" in n]
    if note is None:
        assert band_notes == []
    else:
        assert len(band_notes) == 1
        assert note in band_notes[0]


@pytest.mark.parametrize(
    ("hours", "points", "in_gap"),
    [
        (0, 0, False),
        (10, 0, False),
        (10.5, 0, True),
        (11, -2, False),
        (29, -2, False),
        (29.5, -2, True),
        (30, -4, False),
        (500, -4, False),
    ],
)
def test_it_scores_intubation_hours_on_both_sides_of_each_cut_off(
    hours: float, points: int, in_gap: bool
) -> None:
    result = _save(intubation_hours_before_ecmo=hours)
    assert result.components["intubation_hours_before_ecmo"] == points
    assert any("intubation_hours_before_ecmo" in n and "printed bands" in n for n in result.notes) == in_gap


@pytest.mark.parametrize(
    ("field", "value", "points"),
    [
        ("peak_inspiratory_pressure_cmh2o", 20, 3),
        ("peak_inspiratory_pressure_cmh2o", 20.1, 0),
        ("peak_inspiratory_pressure_cmh2o", 0, 3),
        ("diastolic_bp_mmhg", 39.9, 0),
        ("diastolic_bp_mmhg", 40, 3),
        ("pulse_pressure_mmhg", 20, -2),
        ("pulse_pressure_mmhg", 20.1, 0),
        ("pulse_pressure_mmhg", 0, -2),
        ("bicarbonate_mmol_l", 15, -3),
        ("bicarbonate_mmol_l", 15.1, 0),
    ],
)
def test_it_scores_each_threshold_item_on_both_sides(field: str, value: float, points: int) -> None:
    assert _save(**{field: value}).components[field] == points


@pytest.mark.parametrize(
    ("item", "points"),
    [
        ("liver_failure", -3),
        ("cns_dysfunction", -3),
        ("acute_renal_failure", -3),
        ("chronic_renal_failure", -6),
        ("cardiac_arrest", -2),
    ],
)
def test_it_scores_each_yes_no_item(item: str, points: int) -> None:
    assert _save(**{item: False}).components[item] == 0
    result = _save(**{item: True})
    assert result.components[item] == points
    assert result.points == points - 6


@pytest.mark.parametrize(
    ("changes", "points", "risk_class", "survival"),
    [
        # age 30 +7, 70 kg +2, PIP 15 +3, −6 → 6: class I under both readings
        ({"age_years": 30, "weight_kg": 70, "peak_inspiratory_pressure_cmh2o": 15}, 6, "I", 75.0),
        # age 30 +7, diastolic 45 +3, −6 → 4: class II under both readings
        ({"age_years": 30, "diastolic_bp_mmhg": 45}, 4, "II", 58.0),
        # age 30 +7, −6 → 1
        ({"age_years": 30}, 1, "II", 58.0),
        # age 45 +4, 70 kg +2, −6 → 0
        ({"age_years": 45, "weight_kg": 70}, 0, "III", 42.0),
        # 70 kg +2, −6 → −4
        ({"weight_kg": 70}, -4, "III", 42.0),
        # 60 kg +1, −6 → −5
        ({"weight_kg": 60}, -5, "IV", 30.0),
        # 60 kg +1, pulse pressure 10 −2, arrest −2, −6 → −9
        ({"weight_kg": 60, "pulse_pressure_mmhg": 10, "cardiac_arrest": True}, -9, "IV", 30.0),
        # pulse pressure 10 −2, arrest −2, −6 → −10
        ({"pulse_pressure_mmhg": 10, "cardiac_arrest": True}, -10, "V", 18.0),
    ],
)
def test_it_classes_both_sides_of_each_class_edge(
    changes: dict[str, Any], points: int, risk_class: str, survival: float
) -> None:
    result = _save(**changes)
    assert (result.points, result.risk_class, result.predicted_survival_pct) == (points, risk_class, survival)
    assert not any("withheld" in note for note in result.notes)


def test_it_classes_a_total_of_exactly_5_as_class_ii() -> None:
    # age 45 +4, 60 kg +1, PIP 15 +3, diastolic 45 +3, −6 → 4+1+3+3−6 = 5: "> 5" is class I, so 5 is II (58 %)
    result = _save(age_years=45, weight_kg=60, peak_inspiratory_pressure_cmh2o=15, diastolic_bp_mmhg=45)
    assert (result.points, result.risk_class, result.predicted_survival_pct) == (5, "II", 58.0)
    assert not any("withheld" in n for n in result.notes)
    assert any("exactly 5 is class II" in n for n in result.notes)
    # one point more (diastolic and PIP as before, age 30 +7): 7+1+3+3−6 = 8 → I, and no such note
    higher = _save(age_years=30, weight_kg=60, peak_inspiratory_pressure_cmh2o=15, diastolic_bp_mmhg=45)
    assert (higher.points, higher.risk_class) == (8, "I")
    assert not any("exactly 5" in n for n in higher.notes)


@pytest.mark.parametrize(
    ("changes", "points", "risk_class"),
    [
        # age 30 +7, 65 kg +1, −6 → 2; read as +2 → 3: class II either way, published
        ({"age_years": 30}, 2, "II"),
        # age 45 +4, 65 kg +1, myocarditis +3, arrest −2, −6 → 0 (III); read as +2 → 1 (II): withheld
        ({"age_years": 45, "diagnoses": ["myocarditis"], "cardiac_arrest": True}, 0, None),
        # age 30 +7, 65 kg +1, VT/VF +2, −6 → 4 (II); read as +2 → 5 (II): published
        ({"age_years": 30, "diagnoses": ["refractory_vt_vf"]}, 4, "II"),
        # age 30 +7, 65 kg +1, VT/VF +2, PIP 15 +3, −6 → 7 (I); read as +2 → 8 (I): published
        ({"age_years": 30, "diagnoses": ["refractory_vt_vf"], "peak_inspiratory_pressure_cmh2o": 15}, 7, "I"),
        # age 45 +4, 65 kg +1, VT/VF +2, PIP 15 +3, −6 → 4 … read as +2 → 5: both II, published
        (
            {"age_years": 45, "diagnoses": ["refractory_vt_vf"], "peak_inspiratory_pressure_cmh2o": 15},
            4,
            "II",
        ),
        # age 30 +7, 65 kg +1, myocarditis +3, −6 → 5 (II); read as +2 → 6 (I): withheld
        ({"age_years": 30, "diagnoses": ["myocarditis"]}, 5, None),
        # age 70 0, 65 kg +1, −6 → −5 (IV); read as +2 → −4 (III): withheld
        ({}, -5, None),
    ],
)
def test_it_publishes_a_65_kg_class_only_when_both_weight_readings_agree(
    changes: dict[str, Any], points: int, risk_class: str | None
) -> None:
    result = _save(weight_kg=65, **changes)
    assert result.points == points
    assert result.components["weight_kg"] == 1
    assert result.risk_class == risk_class
    assert any(f"would be {points + 1}" in note for note in result.notes)
    assert any("withheld" in note for note in result.notes) == (risk_class is None)


def test_it_notes_hospital_survival() -> None:
    assert any("hospital survival" in note for note in _save().notes)


NUMBER_BAD = ["12", None, True, math.nan, -math.inf]
BOOL_BAD = [1, 0, "no", None]
BAD_INPUTS = [
    *[("age_years", bad) for bad in [*NUMBER_BAD, 52.5, 17, 101]],
    *[("weight_kg", bad) for bad in [*NUMBER_BAD, 19.9, 400.1]],
    *[("intubation_hours_before_ecmo", bad) for bad in [*NUMBER_BAD, -1, 8761]],
    *[("peak_inspiratory_pressure_cmh2o", bad) for bad in [*NUMBER_BAD, -1, 101]],
    *[("diastolic_bp_mmhg", bad) for bad in [*NUMBER_BAD, -1, 301]],
    *[("pulse_pressure_mmhg", bad) for bad in [*NUMBER_BAD, -1, 301]],
    *[("bicarbonate_mmol_l", bad) for bad in [*NUMBER_BAD, -1, 61]],
    *[
        (field, bad)
        for field in (
            "liver_failure",
            "cns_dysfunction",
            "acute_renal_failure",
            "chronic_renal_failure",
            "cardiac_arrest",
        )
        for bad in BOOL_BAD
    ],
    ("diagnoses", ["other", "unknown"]),
]


@pytest.mark.parametrize(("field", "bad"), BAD_INPUTS)
def test_it_refuses_bad_input_naming_the_field(field: str, bad: object) -> None:
    with pytest.raises(InputError) as caught:
        _save(**{field: bad})
    assert caught.value.field == field
