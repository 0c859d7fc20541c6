"""Spec checklist for ``ecmo_core.scores`` — behaviour shared by every score.

The per-score reference cases, cut-off edges and bad-input sweeps are in ``test_scores_<score>.py``.
Reference cases there were worked out by hand from the point tables in
``shared/clinical/scores-and-models.md`` (§1 RESP, §2 SAVE, §3 PRESERVE, §4 PRESET, §7 Murray,
§8 ENCOURAGE, §10 SOFA) and cross-checked against the worked scores in
``shared/clinical/demo-scenarios.md`` where one exists; each expected total carries its arithmetic.

Shared contract (core-api.md §3):
- [x] ``CALCULATORS`` names exactly the seven public functions, each callable from the module.
- [x] Every function takes keyword-only arguments (a positional call is a ``TypeError``).
- [x] Every function returns a frozen ``ScoreResult`` with name, points, risk_class,
      predicted_survival_pct, outcome, components, reference (with a DOI) and notes (tuple of str).
- [x] ``components`` is read-only and a copy of what was passed in; ``notes`` is a tuple.
- [x] ``as_dict()`` gives a JSON-serialisable dict.
- [x] For every score but Murray (a mean) the components add up to ``points``.
- [x] Survival outcomes are named: hospital (RESP, SAVE), 6-month (PRESERVE, ENCOURAGE), ICU mortality
      (PRESET) — pitfall §15.5.
- [x] Point tables are well-formed: bands run from the top down and end with the open bottom band.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from ecmo_core import scores
from ecmo_core.scores import Band, ScoreResult

# One valid call per score: (function, keyword arguments).
VALID_CALLS: dict[str, dict[str, Any]] = {
    "resp": {
        "age_years": 52,
        "immunocompromised": False,
        "ventilation_hours_before_ecmo": 30,
        "diagnosis": "viral_pneumonia",
        "cns_dysfunction": False,
        "nonpulmonary_infection": False,
        "neuromuscular_blockade": True,
        "inhaled_nitric_oxide": True,
        "bicarbonate_infusion": False,
        "cardiac_arrest": False,
        "paco2_mmhg": 72,
        "peak_inspiratory_pressure_cmh2o": 36,
    },
    "save": {
        "age_years": 29,
        "weight_kg": 62,
        "diagnoses": ["myocarditis"],
        "liver_failure": False,
        "cns_dysfunction": False,
        "acute_renal_failure": False,
        "chronic_renal_failure": False,
        "intubation_hours_before_ecmo": 6,
        "peak_inspiratory_pressure_cmh2o": 18,
        "cardiac_arrest": False,
        "diastolic_bp_mmhg": 38,
        "pulse_pressure_mmhg": 16,
        "bicarbonate_mmol_l": 14,
    },
    "preserve": {
        "age_years": 52,
        "bmi_kg_m2": 30.3,
        "immunocompromised": False,
        "ventilation_days_before_ecmo": 1.25,
        "sofa_points": 10,
        "prone_before_ecmo": True,
        "peep_cmh2o": 16,
        "plateau_pressure_cmh2o": 32,
    },
    "preset": {
        "mean_arterial_pressure_mmhg": 75,
        "lactate_mmol_l": 2.4,
        "arterial_ph": 7.15,
        "platelets_10e9_l": 150,
        "hospital_days_before_ecmo": 5,
    },
    "encourage": {
        "age_years": 58,
        "female": False,
        "bmi_kg_m2": 29.0,
        "glasgow_coma_scale": 13,
        "creatinine_umol_l": 168,
        "lactate_mmol_l": 6.8,
        "prothrombin_activity_pct": 68,
    },
    "murray_lung_injury": {
        "chest_xray_quadrants": 4,
        "pf_ratio_mmhg": 68,
        "peep_cmh2o": 16,
        "static_compliance_ml_cmh2o": 26.25,
    },
    "sofa": {
        "pf_ratio_mmhg": 150,
        "respiratory_support": True,
        "platelets_10e3_ul": 80,
        "bilirubin_mg_dl": 2.5,
        "mean_arterial_pressure_mmhg": 65,
        "norepinephrine_ug_kg_min": 0.05,
        "glasgow_coma_scale": 11,
        "creatinine_mg_dl": 1.5,
    },
}


def _call(name: str) -> ScoreResult:
    function: Callable[..., ScoreResult] = getattr(scores, name)
    return function(**VALID_CALLS[name])


def test_it_lists_exactly_the_seven_calculators() -> None:
    assert scores.CALCULATORS == (
        "resp",
        "save",
        "preserve",
        "preset",
        "encourage",
        "murray_lung_injury",
        "sofa",
    )
    assert set(VALID_CALLS) == set(scores.CALCULATORS)
    for name in scores.CALCULATORS:
        assert callable(getattr(scores, name))
        assert name in scores.__all__


@pytest.mark.parametrize("name", scores.CALCULATORS)
def test_it_refuses_positional_arguments(name: str) -> None:
    function: Callable[..., ScoreResult] = getattr(scores, name)
    with pytest.raises(TypeError):
        function(*VALID_CALLS[name].values())


@pytest.mark.parametrize("name", scores.CALCULATORS)
def test_it_returns_a_complete_frozen_result(name: str) -> None:
    result = _call(name)
    assert isinstance(result, ScoreResult)
    assert result.name
    assert isinstance(result.points, int | float)
    assert result.risk_class is None or isinstance(result.risk_class, str)
    assert result.predicted_survival_pct is None or isinstance(result.predicted_survival_pct, float)
    assert (result.risk_class is None) == (
        result.predicted_survival_pct is None
    ) or name == "murray_lung_injury"
    assert "doi:10." in result.reference
    assert isinstance(result.notes, tuple)
    assert all(isinstance(note, str) and note for note in result.notes)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.points = 99  # type: ignore[misc]


@pytest.mark.parametrize("name", scores.CALCULATORS)
def test_it_makes_components_read_only(name: str) -> None:
    result = _call(name)
    with pytest.raises(TypeError):
        result.components["extra"] = 1  # type: ignore[index]
    assert all(
        isinstance(points, int) and not isinstance(points, bool) for points in result.components.values()
    )


@pytest.mark.parametrize("name", [n for n in scores.CALCULATORS if n != "murray_lung_injury"])
def test_it_adds_components_up_to_the_points(name: str) -> None:
    result = _call(name)
    assert sum(result.components.values()) == result.points
    assert isinstance(result.points, int)


def test_it_gives_murray_points_as_the_mean_of_its_components() -> None:
    result = _call("murray_lung_injury")
    assert result.points == pytest.approx(sum(result.components.values()) / len(result.components))
    assert isinstance(result.points, float)


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("resp", "hospital survival"),
        ("save", "hospital survival"),
        ("preserve", "6-month survival"),
        ("encourage", "6-month survival"),
        ("preset", "ICU mortality"),
        ("murray_lung_injury", "lung injury severity"),
        ("sofa", "organ dysfunction"),
    ],
)
def test_it_names_the_outcome(name: str, outcome: str) -> None:
    assert _call(name).outcome == outcome


@pytest.mark.parametrize("name", scores.CALCULATORS)
def test_it_serialises_to_json(name: str) -> None:
    result = _call(name)
    data = result.as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["components"] == dict(result.components)
    assert data["notes"] == list(result.notes)
    assert set(data) == {f.name for f in dataclasses.fields(ScoreResult)}


def test_it_copies_the_components_it_is_given() -> None:
    source = {"a": 1}
    result = ScoreResult(
        name="X",
        points=1,
        risk_class=None,
        predicted_survival_pct=None,
        outcome="test",
        components=source,
        reference="doi:10.0/x",
        notes=["a note"],  # type: ignore[arg-type]
    )
    source["a"] = 2
    assert result.components["a"] == 1
    assert result.notes == ("a note",)
    assert result == ScoreResult("X", 1, None, None, "test", {"a": 1}, "doi:10.0/x", ("a note",))


def _band_tables() -> list[tuple[str, tuple[Band, ...]]]:
    tables = [
        (name, value)
        for name, value in vars(scores).items()
        if name.isupper() and isinstance(value, tuple) and value and all(isinstance(b, Band) for b in value)
    ]
    tables.append(("PRESERVE_WEIGHTS_KLINZING", scores.PRESERVE_WEIGHTS_KLINZING.ventilation_days))
    tables.append(("PRESERVE_WEIGHTS_ALTERNATIVE", scores.PRESERVE_WEIGHTS_ALTERNATIVE.ventilation_days))
    return tables


def test_it_finds_every_band_table() -> None:
    # RESP 2, SAVE 3, PRESERVE 1 + 2 weightings, PRESET 5, ENCOURAGE 1, Murray 3, SOFA 6.
    assert len(_band_tables()) == 23


@pytest.mark.parametrize(("name", "bands"), _band_tables())
def test_it_keeps_band_tables_well_formed(name: str, bands: tuple[Band, ...]) -> None:
    lows = [band.low for band in bands]
    assert lows == sorted(lows, reverse=True), name
    assert len(set(lows)) == len(lows), name
    assert bands[-1].low == -math.inf, name
    assert all(band.low > -math.inf for band in bands[:-1]), name
    assert all(band.label for band in bands), name
