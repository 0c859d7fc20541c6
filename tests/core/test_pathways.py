"""ecmo_core.pathways: weaning, candidacy, configuration, checklists, transport and ambulation criteria.

Spec checklist:
- every threshold is judged on both sides of its value (met / not met), and at the value itself according
  to its comparison (≥ includes, > excludes)
- missing values are "missing", never a pass; trials are "in_progress" until every criterion is met
- the demo-scenarios numbers give the documented results: Run 4 sweep-off trial passes, Run 5 VA trial passes
  with S′ ≥ 6 and fails with the review's > 10, Run 3 ECPR criteria met with the listed intervals, Run 1
  transport O2 1,320 L and battery 30 min, Run 4 ambulation ready and IMS 7 counts
- site overrides replace a threshold's value or the whole threshold, switch optional criteria on and off,
  and unknown names are InputErrors naming them
- a program's new settings are refused outside each setting's accepted range (SETTING_RANGES), as a percentage
  where a fraction is due, or in another unit than the setting is judged in; every default lies in its range
- checklists are complete only when every item is done or waived with a reason
- bad inputs raise InputError naming the field
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from ecmo_core import pathways as p
from ecmo_core.errors import InputError

UTC = dt.UTC


def at(minutes: float, **values: object) -> p.TrialObservation:
    return p.observation_from_mapping(values, minutes=minutes)


# --- Threshold ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "below", "equal", "above"),
    [
        (">", False, False, True),
        (">=", False, True, True),
        ("<", True, False, False),
        ("<=", True, True, False),
    ],
)
def test_it_compares_on_both_sides_and_at_the_value(op: str, below: bool, equal: bool, above: bool) -> None:
    t = p.Threshold(op, 10.0, "mmHg", "src")
    assert (t.passes(9.99), t.passes(10.0), t.passes(10.01)) == (below, equal, above)
    assert t.describe().endswith("10 mmHg")


def test_it_describes_unitless_thresholds_and_refuses_bad_ones() -> None:
    assert p.Threshold(">=", 0.9).describe() == "≥ 0.9"
    with pytest.raises(InputError, match="op"):
        p.Threshold("=>", 1.0)
    with pytest.raises(InputError, match="value"):
        p.Threshold(">", float("nan"))


# --- Overrides and criteria tables -------------------------------------------------------------------


def test_it_overrides_a_value_keeping_the_comparison() -> None:
    c = p.with_overrides(p.VVSweepOffCriteria(), {"pao2_mmhg": 65})
    assert c.pao2_mmhg.op == ">" and c.pao2_mmhg.value == 65 and c.pao2_mmhg.source == "site setting"


def test_it_overrides_a_whole_threshold_and_plain_settings() -> None:
    c = p.with_overrides(
        p.VAFlowReductionCriteria(),
        {
            "lateral_s_prime_cm_s": {"op": ">", "value": 10, "source": "review [S28]"},
            "tapse_mm": {"op": ">=", "value": 19, "unit": "mm"},
        },
    )
    assert c.lateral_s_prime_cm_s == p.Threshold(">", 10, "cm/s", "review [S28]")
    assert c.tapse_mm == p.Threshold(">=", 19, "mm", "site setting")
    c2 = p.with_overrides(c, {"tapse_mm": None})
    assert c2.tapse_mm is None
    e = p.with_overrides(p.EcprCriteria(), {"exclusion_min_count": 3})
    assert e.exclusion_min_count == 3
    v = p.with_overrides(p.VVSweepOffCriteria(), {"require_no_acute_cor_pulmonale": False})
    assert v.require_no_acute_cor_pulmonale is False


@pytest.mark.parametrize(
    ("criteria", "changes", "field"),
    [
        (p.VVSweepOffCriteria(), {"pao2": 60}, "pao2"),
        (p.VVSweepOffCriteria(), {"pao2_mmhg": None}, "pao2_mmhg"),
        (p.VVSweepOffCriteria(), {"pao2_mmhg": {"limit": 3}}, "pao2_mmhg"),
        (p.VAFlowReductionCriteria(), {"tapse_mm": {"value": 19}}, "tapse_mm"),
        (p.VAFlowReductionCriteria(), {"tapse_mm": 19}, "tapse_mm"),
        (p.VVSweepOffCriteria(), {"pao2_mmhg": "sixty"}, "pao2_mmhg"),
        (p.VVSweepOffCriteria(), {"require_no_acute_cor_pulmonale": 1}, "require_no_acute_cor_pulmonale"),
        (p.EcprCriteria(), {"exclusion_min_count": -1}, "exclusion_min_count"),
    ],
)
def test_it_refuses_bad_overrides_naming_the_setting(
    criteria: p.CriteriaSet, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InputError) as err:
        p.with_overrides(criteria, changes)
    assert err.value.field == field


ALL_SETS: tuple[p.CriteriaSet, ...] = (
    p.VVSweepOffCriteria(),
    p.VAFlowReductionCriteria(),
    p.VVEntryCriteria(),
    p.EcprCriteria(),
    p.AmbulationCriteria(),
    p.LvDistensionCriteria(),
    p.DifferentialHypoxiaCriteria(),
)


@pytest.mark.parametrize("criteria", ALL_SETS, ids=lambda c: type(c).__name__)
def test_every_numeric_setting_has_a_range_holding_its_default_in_its_unit(criteria: p.CriteriaSet) -> None:
    for f in dataclasses.fields(criteria):
        value = getattr(criteria, f.name)
        if isinstance(value, bool):
            continue
        low, high, unit, _ = p.SETTING_RANGES[f.name]
        if isinstance(value, p.Threshold):
            assert value.unit == unit, f.name
            value = value.value
        if value is not None:
            assert low <= value <= high, f.name
    assert p.validate_overrides(criteria, {}) == criteria


def test_it_accepts_new_settings_within_their_ranges() -> None:
    c = p.validate_overrides(
        p.VVEntryCriteria(), {"pf_mmhg": {"op": "<", "value": 80.0316}, "pf_severe_mmhg": 700}
    )
    assert c.pf_mmhg == p.Threshold("<", 80.0316, "mmHg", "site setting") and c.pf_severe_mmhg.value == 700
    va = p.validate_overrides(p.VAFlowReductionCriteria(), {"tapse_mm": {"op": ">=", "value": 17}})
    assert va.tapse_mm == p.Threshold(">=", 17, "mm", "site setting")  # the setting's unit when none is given
    assert p.validate_overrides(va, {"tapse_mm": None}).tapse_mm is None
    e = p.validate_overrides(p.EcprCriteria(), {"exclusion_min_count": 4, "exclusion_spo2": 0.8})
    assert e.exclusion_min_count == 4 and e.exclusion_spo2.value == 0.8
    v = p.validate_overrides(p.VVSweepOffCriteria(), {"require_no_acute_cor_pulmonale": False})
    assert v.require_no_acute_cor_pulmonale is False


@pytest.mark.parametrize(
    ("criteria", "changes", "says"),
    [
        # 10.67 typed meaning kPa, read as mmHg: below the P/F range
        (
            p.VVEntryCriteria(),
            {"pf_mmhg": 9.9},
            "9.9 mmHg is outside the accepted range (accepted range [10, 700] mmHg)",
        ),
        (p.VVEntryCriteria(), {"pf_mmhg": {"op": "<", "value": 701}}, "[10, 700] mmHg"),
        (
            p.VVEntryCriteria(),
            {"pf_mmhg": {"value": 10.67, "unit": "kPa"}},
            'judged in mmHg: leave "unit" out',
        ),
        (p.VVSweepOffCriteria(), {"sao2": 90}, "not a fraction"),
        (p.VVSweepOffCriteria(), {"fio2": 0.1}, "[0.21, 1]"),
        (p.VVSweepOffCriteria(), {"sao2": {"op": ">", "value": 0.9, "unit": "%"}}, "a number without a unit"),
        (p.EcprCriteria(), {"exclusion_min_count": 5}, "[1, 4]"),
        (p.AmbulationCriteria(), {"rass_min": -6}, "[-5, 4]"),
        (p.VVSweepOffCriteria(), {"pao2": 60}, "not a setting"),
    ],
)
def test_it_refuses_new_settings_out_of_range_or_unit_naming_the_setting(
    criteria: p.CriteriaSet, changes: dict[str, object], says: str
) -> None:
    with pytest.raises(InputError) as err:
        p.validate_overrides(criteria, changes)
    assert err.value.field == next(iter(changes)) and says in err.value.message


def test_it_tabulates_criteria_with_their_sources() -> None:
    rows = {r["key"]: r for r in p.criteria_table(p.VVSweepOffCriteria())}
    assert rows["pao2_mmhg"]["requirement"] == "> 60 mmHg"
    assert "S29" in str(rows["pao2_mmhg"]["source"])
    assert rows["require_no_acute_cor_pulmonale"]["requirement"] == "True"
    assert "cor pulmonale" in str(rows["require_no_acute_cor_pulmonale"]["source"])
    va_rows = {r["key"]: r for r in p.criteria_table(p.VAFlowReductionCriteria())}
    assert va_rows["tapse_mm"]["requirement"] == "off"


# --- Observations ------------------------------------------------------------------------------------


def test_it_validates_observations_naming_the_code() -> None:
    obs = at(30, sao2=0.95, acute_cor_pulmonale=False, pao2_mmhg=None)
    assert obs.sao2 == 0.95 and obs.acute_cor_pulmonale is False and obs.pao2_mmhg is None
    with pytest.raises(InputError, match="fraction") as err:
        at(0, sao2=95)
    assert err.value.field == "sao2"
    with pytest.raises(InputError) as err:
        at(0, fio2=0.1)
    assert err.value.field == "fio2"
    with pytest.raises(InputError) as err:
        at(0, pao2_mmhg=5000)
    assert err.value.field == "pao2_mmhg"
    with pytest.raises(InputError) as err:
        at(0, spo2_pct=95)
    assert err.value.field == "spo2_pct"
    with pytest.raises(InputError) as err:
        at(0, acute_cor_pulmonale="no")
    assert err.value.field == "acute_cor_pulmonale"
    with pytest.raises(InputError) as err:
        at(-1)
    assert err.value.field == "minutes"


# --- VV sweep-off trial (demo Run 4) -----------------------------------------------------------------

VENT = {"fio2": 0.40, "plateau_cmh2o": 24.0, "blood_flow_l_min": 2.5}
RUN4 = [
    at(
        0,
        sao2=0.96,
        pao2_mmhg=82,
        paco2_mmhg=43,
        arterial_ph=7.39,
        rr_per_min=20,
        heart_rate_per_min=90,
        **VENT,
    ),
    at(
        30,
        sao2=0.95,
        pao2_mmhg=78,
        paco2_mmhg=45,
        arterial_ph=7.37,
        rr_per_min=22,
        heart_rate_per_min=92,
        **VENT,
    ),
    at(
        120,
        sao2=0.94,
        pao2_mmhg=72,
        paco2_mmhg=46,
        arterial_ph=7.36,
        rr_per_min=23,
        acute_cor_pulmonale=False,
        **VENT,
    ),
    at(360, sao2=0.95, pao2_mmhg=75, paco2_mmhg=46, arterial_ph=7.36, rr_per_min=22, **VENT),
]


def test_it_passes_the_run4_sweep_off_trial() -> None:
    result = p.vv_sweep_off_trial(RUN4)
    assert result.status == "pass"
    by = {c.key: c for c in result.criteria}
    assert by["paco2_rise_mmhg"].observed == 3 and by["paco2_rise_mmhg"].status == p.MET
    assert by["rr_rise_per_min"].observed == 2
    assert by["no_acute_cor_pulmonale"].status == p.MET and by["no_acute_cor_pulmonale"].at_minutes == 120
    assert by["duration_min"].observed == 360
    assert result.details["baseline_paco2_mmhg"] == 43
    assert result.as_dict()["status"] == "pass" and result.failed() == () and result.missing() == ()


def test_it_shows_a_trial_in_progress_before_the_minimum_duration() -> None:
    result = p.vv_sweep_off_trial(RUN4[:2])
    assert result.status == "in_progress"
    keys = {c.key for c in result.missing()}
    assert keys == {"duration_min", "no_acute_cor_pulmonale"}


def test_it_reports_an_empty_trial_as_in_progress_with_everything_missing() -> None:
    result = p.vv_sweep_off_trial([])
    assert result.status == "in_progress"
    assert all(c.status == p.MISSING for c in result.criteria)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"pao2_mmhg": 60}, "pao2_mmhg"),  # > 60: 60 fails
        ({"sao2": 0.90}, "sao2"),  # > 0.90
        ({"fio2": 0.6}, "fio2"),  # < 0.6
        ({"plateau_cmh2o": 30}, "plateau_cmh2o"),  # < 30
        ({"paco2_mmhg": 51.5}, "paco2_rise_mmhg"),  # +8.5 > 8
        ({"arterial_ph": 7.29}, "arterial_ph"),  # ≥ 7.30
        ({"rr_per_min": 26}, "rr_rise_per_min"),  # +6 > 5
        ({"blood_flow_l_min": 1.9}, "blood_flow_l_min"),  # ≥ 2.0
    ],
)
def test_it_fails_the_vv_trial_just_past_each_threshold(change: dict[str, float], key: str) -> None:
    last = dataclasses.replace(RUN4[-1], **change)
    result = p.vv_sweep_off_trial([*RUN4[:-1], last])
    assert result.status == "fail"
    failed = {c.key: c for c in result.failed()}
    assert set(failed) == {key}
    assert failed[key].at_minutes == 360


@pytest.mark.parametrize(
    "change",
    [
        {"pao2_mmhg": 60.1},
        {"sao2": 0.91},
        {"fio2": 0.59},
        {"plateau_cmh2o": 29.9},
        {"paco2_mmhg": 51},
        {"arterial_ph": 7.30},
        {"rr_per_min": 25},
        {"blood_flow_l_min": 2.0},
    ],
)
def test_it_passes_the_vv_trial_just_inside_each_threshold(change: dict[str, float]) -> None:
    last = dataclasses.replace(RUN4[-1], **change)
    assert p.vv_sweep_off_trial([*RUN4[:-1], last]).status == "pass"


def test_it_fails_on_acute_cor_pulmonale_and_can_be_told_not_to_ask() -> None:
    acp = dataclasses.replace(RUN4[2], acute_cor_pulmonale=True)
    result = p.vv_sweep_off_trial([RUN4[0], RUN4[1], acp, RUN4[3]])
    assert [c.key for c in result.failed()] == ["no_acute_cor_pulmonale"]
    no_echo = [dataclasses.replace(o, acute_cor_pulmonale=None) for o in RUN4]
    relaxed = p.with_overrides(p.VVSweepOffCriteria(), {"require_no_acute_cor_pulmonale": False})
    assert p.vv_sweep_off_trial(no_echo, relaxed).status == "pass"
    assert p.vv_sweep_off_trial(no_echo).status == "in_progress"


def test_it_marks_rises_missing_without_a_baseline_value() -> None:
    first = dataclasses.replace(RUN4[0], paco2_mmhg=None, rr_per_min=None)
    result = p.vv_sweep_off_trial([first, *RUN4[1:]])
    by = {c.key: c for c in result.criteria}
    assert by["paco2_rise_mmhg"].status == p.MISSING and by["rr_rise_per_min"].status == p.MISSING
    assert result.status == "in_progress"


def test_it_judges_a_site_setting_of_the_duration() -> None:
    longer = p.with_overrides(p.VVSweepOffCriteria(), {"duration_min": 400})
    assert p.vv_sweep_off_trial(RUN4, longer).status == "in_progress"
    shorter = p.with_overrides(p.VVSweepOffCriteria(), {"duration_min": 360})
    assert p.vv_sweep_off_trial(RUN4, shorter).status == "pass"


# --- VA flow-reduction trial (demo Run 5) ------------------------------------------------------------

RUN5 = [
    at(0, blood_flow_l_min=3.2, mean_arterial_pressure_mmhg=78),
    at(20, blood_flow_l_min=2.2, mean_arterial_pressure_mmhg=77),
    at(40, blood_flow_l_min=1.2, mean_arterial_pressure_mmhg=76),
    at(
        60,
        blood_flow_l_min=1.2,
        mean_arterial_pressure_mmhg=76,
        pulse_pressure_mmhg=38,
        heart_rate_per_min=96,
        lactate_mmol_l=1.0,
        aortic_vti_cm=14,
        lvef_pct=38,
        lateral_s_prime_cm_s=8,
        tapse_mm=20,
    ),
]


def test_it_passes_the_run5_flow_reduction_trial() -> None:
    result = p.va_flow_reduction_trial(RUN5)
    assert result.status == "pass"
    by = {c.key: c for c in result.criteria}
    assert by["blood_flow_l_min"].observed == 1.2 and by["blood_flow_l_min"].at_minutes == 40
    assert "tapse_mm" not in by
    assert result.details["minimal_flow_observations"] == 2


def test_it_fails_run5_with_the_review_s_prime_cut_off() -> None:
    review = p.with_overrides(p.VAFlowReductionCriteria(), {"lateral_s_prime_cm_s": {"op": ">", "value": 10}})
    result = p.va_flow_reduction_trial(RUN5, review)
    assert [c.key for c in result.failed()] == ["lateral_s_prime_cm_s"]
    assert result.status == "fail"


def test_it_judges_tapse_when_a_site_switches_it_on() -> None:
    on = p.with_overrides(p.VAFlowReductionCriteria(), {"tapse_mm": {"op": ">=", "value": 19}})
    assert p.va_flow_reduction_trial(RUN5, on).status == "pass"
    strict = p.with_overrides(on, {"tapse_mm": 21})
    assert [c.key for c in p.va_flow_reduction_trial(RUN5, strict).failed()] == ["tapse_mm"]


@pytest.mark.parametrize(
    ("change", "key", "status"),
    [
        ({"aortic_vti_cm": 9.9}, "aortic_vti_cm", "fail"),
        ({"aortic_vti_cm": 10.0}, None, "pass"),
        ({"lvef_pct": 25.0}, "lvef_pct", "fail"),
        ({"lvef_pct": 25.1}, None, "pass"),
        ({"lateral_s_prime_cm_s": 5.9}, "lateral_s_prime_cm_s", "fail"),
        ({"lateral_s_prime_cm_s": 6.0}, None, "pass"),
        ({"mean_arterial_pressure_mmhg": 64}, "mean_arterial_pressure_mmhg", "fail"),
        ({"mean_arterial_pressure_mmhg": 65}, None, "pass"),
        ({"lactate_mmol_l": 2.1}, "lactate_mmol_l", "fail"),
        ({"lactate_mmol_l": 2.0}, None, "pass"),
    ],
)
def test_it_judges_each_va_threshold_on_both_sides(
    change: dict[str, float], key: str | None, status: str
) -> None:
    last = dataclasses.replace(RUN5[-1], **change)
    result = p.va_flow_reduction_trial([*RUN5[:-1], last])
    assert result.status == status
    assert [c.key for c in result.failed()] == ([key] if key else [])


def test_it_waits_for_minimal_flow_before_judging_echo() -> None:
    at_threshold = dataclasses.replace(RUN5[2], blood_flow_l_min=1.5)  # < 1.5: 1.5 is not yet minimal
    result = p.va_flow_reduction_trial([RUN5[0], RUN5[1], at_threshold])
    by = {c.key: c for c in result.criteria}
    assert by["blood_flow_l_min"].status == p.MISSING and by["blood_flow_l_min"].observed == 1.5
    assert by["aortic_vti_cm"].status == p.MISSING
    assert result.status == "in_progress"
    no_flow = p.va_flow_reduction_trial([at(0, mean_arterial_pressure_mmhg=70)])
    assert {c.key: c for c in no_flow.criteria}["blood_flow_l_min"].observed is None
    assert no_flow.status == "in_progress"


# --- VV entry criteria (EOLIA) -----------------------------------------------------------------------


def test_it_finds_run1_meets_the_pf_80_arm_but_not_hypercapnia() -> None:
    result = p.vv_entry_criteria(
        pf_ratio_mmhg=68, pf_hours=7, arterial_ph=7.22, paco2_mmhg=72, hypercapnia_hours=4
    )
    by = {c.key: c.status for c in result.criteria}
    assert by == {
        "pf_below_50_over_3h": p.NOT_MET,
        "pf_below_80_over_6h": p.MET,
        "hypercapnic_acidosis_over_6h": p.NOT_MET,
    }
    assert result.status == "met"


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        (
            {
                "pf_ratio_mmhg": 80,
                "pf_hours": 7,
                "arterial_ph": 7.25,
                "paco2_mmhg": 72,
                "hypercapnia_hours": 7,
            },
            "not_met",
        ),
        ({"pf_ratio_mmhg": 79.9, "pf_hours": 6.1}, "met"),
        ({"pf_ratio_mmhg": 79.9, "pf_hours": 6.0}, "incomplete"),
        (
            {
                "pf_ratio_mmhg": 49,
                "pf_hours": 3.0,
                "arterial_ph": 7.3,
                "paco2_mmhg": 50,
                "hypercapnia_hours": 1,
            },
            "not_met",
        ),
        ({"pf_ratio_mmhg": 49, "pf_hours": 3.1}, "met"),
        (
            {
                "pf_ratio_mmhg": 200,
                "pf_hours": 1,
                "arterial_ph": 7.24,
                "paco2_mmhg": 60,
                "hypercapnia_hours": 6.5,
            },
            "met",
        ),
        (
            {
                "pf_ratio_mmhg": 200,
                "pf_hours": 1,
                "arterial_ph": 7.24,
                "paco2_mmhg": 59,
                "hypercapnia_hours": 6.5,
            },
            "not_met",
        ),
        ({}, "incomplete"),
    ],
)
def test_it_judges_each_eolia_arm_on_both_sides(kwargs: dict[str, float], status: str) -> None:
    assert p.vv_entry_criteria(**kwargs).status == status  # type: ignore[arg-type]


def test_it_refuses_implausible_entry_values() -> None:
    with pytest.raises(InputError) as err:
        p.vv_entry_criteria(pf_ratio_mmhg=0)
    assert err.value.field == "pf_ratio_mmhg"


# --- ECPR (demo Run 3) -------------------------------------------------------------------------------


def t(h: int, m: int, s: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 13, h, m, s, tzinfo=UTC)


RUN3_TIMES = p.EcprTimes(
    collapse_at=t(2, 14),
    cpr_started_at=t(2, 14, 40),
    ecpr_call_at=t(2, 25),
    puncture_at=t(2, 38),
    flow_at=t(2, 49),
)
RUN3 = {
    "age_years": 49,
    "witnessed": True,
    "initial_rhythm_shockable": True,
    "etco2_mmhg": 18,
    "signs_of_life_or_intermittent_rosc": True,
    "life_limiting_disease": False,
    "pao2_mmhg": 88,
    "lactate_mmol_l": 9.4,
    "spo2": 0.92,
}


def test_it_meets_the_ecpr_criteria_for_run3_with_its_intervals() -> None:
    result = p.ecpr_assessment(times=RUN3_TIMES, **RUN3)  # type: ignore[arg-type]
    assert result.status == "criteria_met"
    d = result.details
    assert d["no_flow_min"] == pytest.approx(40 / 60)
    assert d["arrest_to_flow_min"] == 35
    assert d["low_flow_min"] == pytest.approx(34 + 20 / 60)
    assert d["call_to_flow_min"] == 24 and d["puncture_to_flow_min"] == 11
    assert d["collapse_to_call_min"] == 11
    assert d["low_flow_favourable"] is False  # 34:20 is past the ~20 min in which IHCA does best
    assert d["exclusion_findings"] == []


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"age_years": 70}, "age_years"),
        ({"etco2_mmhg": 10}, "etco2_mmhg"),
        ({"witnessed": False}, "witnessed"),
        ({"life_limiting_disease": True}, "no_life_limiting_disease"),
    ],
)
def test_it_fails_an_ecpr_criterion_at_its_threshold(change: dict[str, object], key: str) -> None:
    result = p.ecpr_assessment(times=RUN3_TIMES, **{**RUN3, **change})  # type: ignore[arg-type]
    assert result.status == "criteria_not_met"
    assert [c.key for c in result.failed()] == [key]


def test_it_judges_the_ecpr_intervals_on_both_sides() -> None:
    late = dataclasses.replace(RUN3_TIMES, flow_at=t(3, 14))  # exactly 60 min after collapse
    assert [c.key for c in p.ecpr_assessment(times=late, **RUN3).failed()] == ["arrest_to_flow_min"]  # type: ignore[arg-type]
    inside = dataclasses.replace(RUN3_TIMES, flow_at=t(3, 13, 59))
    assert p.ecpr_assessment(times=inside, **RUN3).status == "criteria_met"  # type: ignore[arg-type]
    slow_cpr = dataclasses.replace(RUN3_TIMES, cpr_started_at=t(2, 19))  # no-flow exactly 5 min
    assert "no_flow_min" in [c.key for c in p.ecpr_assessment(times=slow_cpr, **RUN3).failed()]  # type: ignore[arg-type]
    early_call = dataclasses.replace(RUN3_TIMES, ecpr_call_at=t(2, 24, 30))  # 9:50 of CPR before the call
    assert [c.key for c in p.ecpr_assessment(times=early_call, **RUN3).failed()] == ["failed_cpr_min"]  # type: ignore[arg-type]
    quick = dataclasses.replace(RUN3_TIMES, puncture_at=t(2, 30), flow_at=t(2, 34, 30))  # low-flow 19:50
    assert p.ecpr_assessment(times=quick, **RUN3).details["low_flow_favourable"] is True  # type: ignore[arg-type]


def test_it_excludes_with_two_arrest_type_findings_but_not_one() -> None:
    one = p.ecpr_assessment(times=RUN3_TIMES, **{**RUN3, "lactate_mmol_l": 18.1})  # type: ignore[arg-type]
    assert one.status == "criteria_met" and one.details["exclusion_findings"] == ["exclusion_lactate_mmol_l"]
    two = p.ecpr_assessment(times=RUN3_TIMES, **{**RUN3, "lactate_mmol_l": 18.1, "pao2_mmhg": 49})  # type: ignore[arg-type]
    assert two.status == "excluded"
    edge = p.ecpr_assessment(
        times=RUN3_TIMES,
        **{
            **RUN3,
            "lactate_mmol_l": 18,
            "pao2_mmhg": 50,  # type: ignore[arg-type]
            "spo2": 0.85,
            "etco2_mmhg": 10,
        },
    )
    assert edge.details["exclusion_findings"] == []
    low_sat = p.ecpr_assessment(times=RUN3_TIMES, **{**RUN3, "spo2": 0.84, "etco2_mmhg": 9})  # type: ignore[arg-type]
    assert low_sat.status == "excluded"


def test_it_is_incomplete_without_times_or_values() -> None:
    result = p.ecpr_assessment()
    assert result.status == "incomplete"
    assert result.details["low_flow_favourable"] is None
    assert p.ecpr_intervals(p.EcprTimes())["arrest_to_flow_min"] is None


def test_it_refuses_naive_or_out_of_order_times() -> None:
    with pytest.raises(InputError, match="aware") as err:
        p.ecpr_intervals(p.EcprTimes(collapse_at=dt.datetime(2026, 1, 1, 2, 0), cpr_started_at=t(2, 1)))
    assert err.value.field == "cpr_started_at"
    with pytest.raises(InputError, match="out of order") as err:
        p.ecpr_intervals(p.EcprTimes(collapse_at=t(2, 30), flow_at=t(2, 0)))
    assert err.value.field == "flow_at"
    with pytest.raises(InputError) as err:
        p.ecpr_assessment(spo2=88)
    assert err.value.field == "spo2"


# --- Checklists --------------------------------------------------------------------------------------


def test_it_builds_vv_and_va_decannulation_checklists() -> None:
    vv = [s.key for s in p.decannulation_items("vv")]
    va = [s.key for s in p.decannulation_items("va")]
    assert "positioning_nmb" in vv and "arterial_repair" not in vv
    assert "arterial_repair" in va and "distal_perfusion_check" in va
    assert vv[0] == "decision_recorded" and vv[-1] == "components_closed"
    assert [s.key for s in p.decannulation_items("vav")] == va
    with pytest.raises(InputError):
        p.decannulation_items("ecpr")


def test_it_adds_the_cannulation_kit_for_primary_transports() -> None:
    assert "cannulation_kit" in [s.key for s in p.transport_items(primary=True)]
    assert "cannulation_kit" not in [s.key for s in p.transport_items(primary=False)]


def test_it_blocks_completion_until_every_item_is_done_or_waived_with_a_reason() -> None:
    specs = p.decannulation_items("vv")
    states = {s.key: p.ItemState("done") for s in specs}
    assert p.checklist_status(specs, states).complete is True
    states["family_informed"] = p.ItemState("waived", "  ")
    status = p.checklist_status(specs, states)
    assert status.complete is False and status.problems == {"family_informed": "waived without a reason"}
    states["family_informed"] = p.ItemState("waived", "no family reachable; social work informed")
    status = p.checklist_status(specs, states)
    assert status.complete is True and status.waived == ("family_informed",)
    del states["venous_doppler"]
    status = p.checklist_status(specs, states)
    assert status.outstanding == ("venous_doppler",) and status.as_dict()["problems"] == {
        "venous_doppler": "not done"
    }


def test_it_refuses_unknown_items_and_statuses() -> None:
    specs = p.transport_items(primary=False)
    with pytest.raises(InputError) as err:
        p.checklist_status(specs, {"teleporter": p.ItemState("done")})
    assert err.value.field == "teleporter"
    with pytest.raises(InputError) as err:
        p.checklist_status(specs, {"oxygen": p.ItemState("maybe")})
    assert err.value.field == "oxygen"


def test_it_lists_candidacy_checklists_for_vv_and_va() -> None:
    groups = {s.group for s in p.CANDIDACY_ITEMS["vv"]}
    assert groups == {"indication", "absolute", "relative"}
    assert "aortic_dissection" in [s.key for s in p.CANDIDACY_ITEMS["va"]]


# --- Transport (demo Run 1) --------------------------------------------------------------------------

RUN1_LEGS = [
    p.TransportLegPlan("ICU → ambulance", 15),
    p.TransportLegPlan("Road", 90, on_battery=False),
    p.TransportLegPlan("Ambulance → ICU", 15),
    p.TransportLegPlan("Cannulation on wall O2 and mains", 140, uses_cylinder_oxygen=False, on_battery=False),
]


def test_it_computes_the_run1_retrieval_oxygen_and_battery() -> None:
    s = p.transport_supplies(
        legs=RUN1_LEGS,
        sweep_gas_l_min=3,
        ventilator_o2_l_min=5,
        oxygen_carried_l=4360,
        battery_runtime_min=90,
    )
    assert s.oxygen_per_leg_l == (165, 990, 165, 0)
    assert s.oxygen_needed_l == 1320 and s.oxygen_required_l == 1980 and s.oxygen_sufficient
    assert s.battery_needed_min == 30 and s.battery_required_min == 45 and s.battery_sufficient
    assert s.as_dict()["oxygen_per_leg_l"] == [165, 990, 165, 0]


def test_it_judges_supplies_on_both_sides_of_the_reserve() -> None:
    exact = p.transport_supplies(
        legs=RUN1_LEGS,
        sweep_gas_l_min=3,
        ventilator_o2_l_min=5,
        oxygen_carried_l=1980,
        battery_runtime_min=45,
    )
    assert exact.oxygen_sufficient and exact.battery_sufficient
    short = p.transport_supplies(
        legs=RUN1_LEGS,
        sweep_gas_l_min=3,
        ventilator_o2_l_min=5,
        oxygen_carried_l=1979,
        battery_runtime_min=44,
    )
    assert not short.oxygen_sufficient and not short.battery_sufficient
    no_reserve = p.transport_supplies(
        legs=RUN1_LEGS,
        sweep_gas_l_min=3,
        ventilator_o2_l_min=5,
        oxygen_carried_l=1320,
        battery_runtime_min=30,
        oxygen_reserve_factor=1,
        battery_reserve_factor=1,
        sweep_factor=2,
    )
    assert no_reserve.oxygen_sufficient and no_reserve.battery_sufficient


def test_it_refuses_bad_transport_inputs_naming_the_field() -> None:
    with pytest.raises(InputError) as err:
        p.transport_supplies(
            legs=[p.TransportLegPlan("x", -5)],
            sweep_gas_l_min=3,
            ventilator_o2_l_min=5,
            oxygen_carried_l=100,
            battery_runtime_min=10,
        )
    assert err.value.field == "legs[0].planned_minutes"
    with pytest.raises(InputError) as err:
        p.transport_supplies(
            legs=[], sweep_gas_l_min=30, ventilator_o2_l_min=5, oxygen_carried_l=100, battery_runtime_min=10
        )
    assert err.value.field == "sweep_gas_l_min"


# --- Ambulation (demo Run 4, D10) --------------------------------------------------------------------

ALL_FLAGS = dict.fromkeys(p.AMBULATION_FLAGS, True)
RUN4_SCREEN = p.AmbulationScreen(
    mean_arterial_pressure_mmhg=78, spo2=0.95, rass=0, team_size=5, flags=ALL_FLAGS
)


def test_it_finds_run4_ready_to_walk() -> None:
    result = p.ambulation_readiness(RUN4_SCREEN)
    assert result.status == "ready" and len(result.criteria) == 5 + len(p.AMBULATION_FLAGS)


@pytest.mark.parametrize(
    ("change", "key", "status"),
    [
        ({"mean_arterial_pressure_mmhg": 64}, "mean_arterial_pressure_mmhg", "not_ready"),
        ({"mean_arterial_pressure_mmhg": 65}, None, "ready"),
        ({"spo2": 0.87}, "spo2", "not_ready"),
        ({"spo2": 0.88}, None, "ready"),
        ({"rass": -2}, "rass_min", "not_ready"),
        ({"rass": -1}, None, "ready"),
        ({"rass": 2}, "rass_max", "not_ready"),
        ({"rass": 1}, None, "ready"),
        ({"team_size": 2}, "team_size", "not_ready"),
        ({"team_size": 3}, None, "ready"),
        ({"flags": {**ALL_FLAGS, "no_active_bleeding": False}}, "no_active_bleeding", "not_ready"),
        ({"spo2": None}, None, "incomplete"),
        ({"flags": {}}, None, "incomplete"),
    ],
)
def test_it_screens_each_item_on_both_sides(change: dict[str, object], key: str | None, status: str) -> None:
    result = p.ambulation_readiness(dataclasses.replace(RUN4_SCREEN, **change))
    assert result.status == status
    assert [c.key for c in result.failed()] == ([key] if key else [])


def test_it_refuses_unknown_screen_items_and_bad_values() -> None:
    with pytest.raises(InputError) as err:
        p.ambulation_readiness(dataclasses.replace(RUN4_SCREEN, flags={"vibes": True}))
    assert err.value.field == "vibes"
    with pytest.raises(InputError) as err:
        p.ambulation_readiness(dataclasses.replace(RUN4_SCREEN, rass=0.5))
    assert err.value.field == "rass"
    with pytest.raises(InputError) as err:
        p.ambulation_readiness(dataclasses.replace(RUN4_SCREEN, spo2=95))
    assert err.value.field == "spo2"
    with pytest.raises(InputError) as err:
        p.ambulation_readiness(dataclasses.replace(RUN4_SCREEN, team_size=-1))
    assert err.value.field == "team_size"
    with pytest.raises(InputError) as err:
        p.ambulation_readiness(dataclasses.replace(RUN4_SCREEN, mean_arterial_pressure_mmhg=5))
    assert err.value.field == "mean_arterial_pressure_mmhg"


def test_it_counts_ims_3_and_above_for_the_mobilisation_kpi() -> None:
    assert p.counts_for_mobilisation_kpi(7) is True
    assert p.counts_for_mobilisation_kpi(3) is True
    assert p.counts_for_mobilisation_kpi(2) is False
    with pytest.raises(InputError) as err:
        p.counts_for_mobilisation_kpi(11)
    assert err.value.field == "ims_level"


# --- LV distension and differential hypoxia (demo Run 2) ---------------------------------------------


def test_it_indicates_unloading_for_run2_at_18h() -> None:
    result = p.lv_distension(
        pulse_pressure_mmhg=6,
        aortic_valve_opening=False,
        pulmonary_oedema=True,
        lv_smoke=True,
        rising_pa_pressure_or_pcwp=None,
    )
    assert result.status == "unloading_indicated"
    assert {c.key for c in result.criteria if c.status == p.MET} == {
        "pulse_pressure_mmhg",
        "aortic_valve_closed",
        "pulmonary_oedema",
        "lv_smoke",
    }


def test_it_judges_pulse_pressure_on_both_sides_of_10() -> None:
    quiet = {
        "aortic_valve_opening": True,
        "rising_pa_pressure_or_pcwp": False,
        "pulmonary_oedema": False,
        "lv_smoke": False,
    }
    assert p.lv_distension(pulse_pressure_mmhg=10, **quiet).status == "no_trigger"  # type: ignore[arg-type]
    assert p.lv_distension(pulse_pressure_mmhg=9.9, **quiet).status == "unloading_indicated"  # type: ignore[arg-type]
    assert p.lv_distension(**quiet).status == "incomplete"  # type: ignore[arg-type]
    with pytest.raises(InputError) as err:
        p.lv_distension(pulse_pressure_mmhg=-1)
    assert err.value.field == "pulse_pressure_mmhg"


def test_it_finds_run2_differential_hypoxia_at_d3() -> None:
    result = p.differential_hypoxia(right_radial_po2_mmhg=54, right_radial_spo2=0.87)
    assert result.status == "present"
    assert result.details["predicted_upper_body_so2"] is None


def test_it_judges_differential_hypoxia_on_both_sides() -> None:
    assert p.differential_hypoxia(right_radial_po2_mmhg=60, right_radial_spo2=0.90).status == "absent"
    assert p.differential_hypoxia(right_radial_po2_mmhg=59.9, right_radial_spo2=0.90).status == "present"
    assert p.differential_hypoxia(right_radial_po2_mmhg=82, right_radial_spo2=0.89).status == "present"
    assert p.differential_hypoxia(right_radial_po2_mmhg=82).status == "incomplete"


def test_it_uses_the_watershed_model_when_its_inputs_are_given() -> None:
    # Native output covers the upper body: it receives native blood only (SO2 0.85 < 0.90).
    native = p.differential_hypoxia(
        native_flow_l_min=2.0, native_so2=0.85, upper_body_flow_l_min=1.5, post_oxygenator_so2=1.0
    )
    assert native.details["predicted_upper_body_so2"] == 0.85 and native.status == "present"
    mixed = p.differential_hypoxia(
        right_radial_po2_mmhg=82,
        right_radial_spo2=0.95,
        native_flow_l_min=0.5,
        native_so2=0.85,
        upper_body_flow_l_min=1.5,
        post_oxygenator_so2=1.0,
    )
    assert mixed.details["predicted_upper_body_so2"] == pytest.approx(0.95)
    assert mixed.status == "absent"
    with pytest.raises(InputError) as err:
        p.differential_hypoxia(right_radial_spo2=87)
    assert err.value.field == "right_radial_spo2"
    with pytest.raises(InputError) as err:
        p.differential_hypoxia(right_radial_po2_mmhg=1)
    assert err.value.field == "right_radial_po2_mmhg"


def test_it_exposes_protocol_steps() -> None:
    assert any("0.21" in step for step in p.VV_SWEEP_OFF_STEPS)
    assert any("1.5" in step for step in p.VA_FLOW_REDUCTION_STEPS)
