"""KPIs and audit criteria (ecmo_core.quality), computed from a fixture whose answers were worked out by hand.

Checklist:
- runs and ECMO days count only time inside the period; a run crossing either edge is clipped; an ongoing run
  and a period reaching past ``now`` stop at ``now``;
- survival to decannulation and to discharge count runs that ended in the period, overall and by mode group;
  transferred and ongoing runs, and unknown discharge status, are excluded;
- complications and circuit changes per 1000 ECMO days use the clipped days; outside events are not counted;
- oxygenator life and time to acknowledgement are medians of the items in the period;
- time in range is Rosendaal interpolation, clipped to the period, with long gaps and untargeted labs excluded;
- hourly-check completeness counts whole 60-minute slots from the run's start;
- the perfusion involvement index and its parts;
- an empty period gives zero counts and no rates (never a division by zero);
- mode and unit filters; the KPIS registry; audits (each criterion, sample size, bad input).
"""

from __future__ import annotations

import datetime as dt

import pytest

from ecmo_core import quality as q
from ecmo_core.errors import InputError

UTC = dt.UTC


def t(day: int, hour: int = 0, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


NOW = t(10)
PERIOD = q.Period(t(1), t(3))  # 1 March 00:00 to 3 March 00:00: two days

R1 = q.RunRecord(1, t(28, 18, month=2), t(1, 6), "vv", "CICU bed 4", "weaned", True)  # 0.25 d in period
R2 = q.RunRecord(2, t(1, 12), t(2, 12), "va", "CICU bed 6", "died_on_ecmo", False)  # 1.0 d
R3 = q.RunRecord(3, t(2), None, "vav", "MICU bed 1")  # ongoing: 1.0 d in period (to its end)
R4 = q.RunRecord(4, t(2, 18), t(4, 6), "vv", "CICU bed 9", "weaned", True)  # 0.25 d; ends after the period
R5 = q.RunRecord(5, t(20, month=2), t(25, month=2), "va", "CICU bed 1", "weaned", True)  # before the period
R6 = q.RunRecord(6, t(1, 6), t(1, 18), "va", "", "transferred", None)  # 0.5 d; transferred: no survival

# R1 checks in period slots 0, 1, 2 and 4 of six (00–06 on 1 March); R6 every hour; the rest none.
CHECKS = (
    q.CheckRecord(1, t(28, 23, 30, month=2)),  # before the period: its slot is outside
    q.CheckRecord(1, t(1, 0, 10)),
    q.CheckRecord(1, t(1, 1, 10)),
    q.CheckRecord(1, t(1, 2, 10)),
    q.CheckRecord(1, t(1, 4, 59)),
    *(q.CheckRecord(6, t(1, 6 + h, 30)) for h in range(12)),
)

DATA = q.QualityData(
    now=NOW,
    runs=(R1, R2, R3, R4, R5, R6),
    events=(
        q.EventRecord(2, t(1, 20), "mechanical", "mech.oxygenator_failure", action_recorded=True),
        q.EventRecord(3, t(2, 10), "hemorrhagic", "hem.cannulation_site", action_recorded=False),
        q.EventRecord(5, t(22, month=2), "renal", "renal.dialysis"),  # before
        q.EventRecord(4, t(3, 1), "limb", "limb.ischemia"),  # after
    ),
    changes=(
        q.ChangeRecord(3, t(2, 8), "circuit"),
        q.ChangeRecord(2, t(1, 23), "oxygenator"),
        q.ChangeRecord(4, t(4), "oxygenator"),  # after
    ),
    components=(
        q.ComponentRecord(1, "oxygenator", t(28, 18, month=2), t(1, 6)),  # 12 h
        q.ComponentRecord(2, "oxygenator", t(1, 12), t(1, 23)),  # 11 h
        q.ComponentRecord(2, "oxygenator", t(1, 23), t(2, 12)),  # 13 h
        q.ComponentRecord(3, "oxygenator", t(2), None),  # still in use: excluded
        q.ComponentRecord(2, "pump_head", t(1, 12), t(2, 12)),  # not an oxygenator
    ),
    alerts=(
        q.AlertRecord(2, t(1, 13), t(1, 13, 5)),  # 5 min
        q.AlertRecord(3, t(2, 1), t(2, 1, 20), "critical"),  # 20 min
        q.AlertRecord(3, t(2, 2), None),  # never acknowledged
        q.AlertRecord(5, t(21, month=2), t(21, 1, month=2)),  # before
    ),
    labs=(
        # R2 anti-Xa, target 0.3–0.5 from its start.
        q.LabRecord(2, "anti_xa_iu_ml", t(1, 14), 0.2),
        q.LabRecord(2, "anti_xa_iu_ml", t(1, 20), 0.4),
        q.LabRecord(2, "anti_xa_iu_ml", t(2, 8), 0.6),
        q.LabRecord(2, "anti_xa_iu_ml", t(2, 10), 0.6),
        # R1 aPTT, target 60–80, straddling the period's start.
        q.LabRecord(1, "aptt_s", t(28, 22, month=2), 50.0),
        q.LabRecord(1, "aptt_s", t(1, 4), 80.0),
        # R3 has no target: not counted.
        q.LabRecord(3, "anti_xa_iu_ml", t(2, 2), 0.1),
        q.LabRecord(3, "anti_xa_iu_ml", t(2, 8), 0.9),
        # R4: a pair after the period, then a gap of 25 h.
        q.LabRecord(4, "anti_xa_iu_ml", t(3, 2), 0.4),
        q.LabRecord(4, "anti_xa_iu_ml", t(3, 4), 0.4),
        q.LabRecord(4, "anti_xa_iu_ml", t(4, 5), 0.2),
    ),
    targets=(
        q.TargetRecord(2, "anti_xa_iu_ml", t(1, 12), 0.3, 0.5),
        q.TargetRecord(1, "aptt_s", t(28, 18, month=2), 60.0, 80.0),
        q.TargetRecord(4, "anti_xa_iu_ml", t(2, 18), 0.3, None),
        q.TargetRecord(6, "anti_xa_iu_ml", t(1, 13), 0.3, 0.7),  # 7 h after R6 started
    ),
    checks=CHECKS,
    involvement=(
        q.InvolvementRecord(2, "rounds", t(1, 14), frozenset({"perfusionist", "intensivist"})),
        q.InvolvementRecord(3, "rounds", t(2, 9), frozenset({"intensivist"})),
        q.InvolvementRecord(2, "decision", t(1, 13), frozenset({"perfusionist"})),
        q.InvolvementRecord(3, "transport", t(2, 5), frozenset({"intensivist"})),
        q.InvolvementRecord(3, "ambulation", t(2, 15), frozenset({"physiotherapist", "perfusionist"})),
        q.InvolvementRecord(2, "mm_case", t(2, 20), frozenset({"perfusionist"})),
        q.InvolvementRecord(5, "rounds", t(22, month=2), frozenset({"perfusionist"})),  # before
    ),
)


def values(data: q.QualityData = DATA, period: q.Period = PERIOD) -> dict[str, q.KpiValue]:
    return {k.key: k for k in q.compute_kpis(data, period)}


def test_it_counts_runs_on_ecmo_in_the_period() -> None:
    # R1 (crosses the start), R2, R3 (ongoing), R4 (crosses the end), R6; R5 ended before.
    kpi = values()["runs"]
    assert (kpi.value, kpi.numerator, kpi.denominator, kpi.unit) == (5, 5, None, "runs")


def test_it_clips_ecmo_days_to_the_period() -> None:
    # R1 00:00–06:00 = 0.25; R2 12:00–12:00 = 1.0; R3 2 Mar 00:00–3 Mar 00:00 = 1.0; R4 18:00–24:00 = 0.25;
    # R6 06:00–18:00 = 0.5. Total 3.0 days.
    assert values()["ecmo_days"].value == pytest.approx(3.0)


def test_it_stops_an_ongoing_run_at_now() -> None:
    # Period 9–12 March, now 10 March 00:00: R3 counts 9 March 00:00 to 10 March 00:00 = 1 day, and no
    # check slots are expected after now.
    kpis = values(period=q.Period(t(9), t(12)))
    assert kpis["ecmo_days"].value == pytest.approx(1.0)
    assert kpis["runs"].value == 1
    assert kpis["hourly_check_completeness"].denominator == 24


def test_it_counts_survival_for_runs_that_ended_in_the_period() -> None:
    kpis = values()
    # Ended in the period: R1 (weaned), R2 (died on ECMO), R6 (transferred: excluded). 1 of 2.
    assert (kpis["survival_to_decannulation"].numerator, kpis["survival_to_decannulation"].denominator) == (
        1,
        2,
    )
    assert kpis["survival_to_decannulation"].value == pytest.approx(0.5)
    assert kpis["survival_to_decannulation_vv"].value == 1.0  # R1
    assert kpis["survival_to_decannulation_va"].value == 0.0  # R2
    hybrid = kpis["survival_to_decannulation_hybrid"]
    assert (hybrid.value, hybrid.denominator) == (None, 0)  # R3 has not ended
    # To discharge: R1 yes, R2 no, R6 unknown (excluded): 1 of 2.
    assert kpis["survival_to_discharge"].value == pytest.approx(0.5)
    assert kpis["survival_to_discharge_va"].numerator == 0


def test_it_rates_complications_and_circuit_changes_per_1000_ecmo_days() -> None:
    kpis = values()
    # Two complications in the period (R2 1 Mar 20:00, R3 2 Mar 10:00) over 3.0 ECMO days: 2 / 3 × 1000 = 666.7.
    assert kpis["complications_per_1000_ecmo_days"].value == pytest.approx(666.666, rel=1e-4)
    assert kpis["complications_per_1000_ecmo_days"].numerator == 2
    assert kpis["complications_per_1000_ecmo_days"].denominator == pytest.approx(3.0)
    # Two changes (R3 circuit 2 Mar 08:00, R2 oxygenator 1 Mar 23:00): also 666.7.
    assert kpis["circuit_changes_per_1000_ecmo_days"].numerator == 2
    assert kpis["circuit_changes_per_1000_ecmo_days"].value == pytest.approx(666.666, rel=1e-4)


def test_it_takes_medians_of_oxygenator_life_and_acknowledgement_time() -> None:
    kpis = values()
    # Oxygenators removed in the period: 12 h, 11 h, 13 h → median 12 h (the one still in use is excluded).
    assert (kpis["oxygenator_life_hours"].value, kpis["oxygenator_life_hours"].denominator) == (12.0, 3)
    assert kpis["oxygenator_life_hours"].numerator is None
    # Acknowledged alerts opened in the period: 5 and 20 min → median 12.5 min; the unacknowledged one excluded.
    ack = kpis["alert_acknowledgement_minutes"]
    assert (ack.value, ack.denominator) == (12.5, 2)


def test_it_interpolates_time_in_range_the_rosendaal_way() -> None:
    # R2, range 0.3–0.5: 14:00→20:00 0.2→0.4 is in range for the 0.3–0.4 half: 3 of 6 h; 20:00→08:00 0.4→0.6
    # for 0.4–0.5: 6 of 12 h; 08:00→10:00 flat at 0.6: 0 of 2 h. R1, range 60–80, 28 Feb 22:00 50 → 1 Mar 04:00
    # 80, clipped at 00:00 where the line is 50 + 30 × 2/6 = 60: 4 of 4 h. R3 (no target) and R4 (after the
    # period, then a 25 h gap) add nothing. In range 3 + 6 + 0 + 4 = 13 h of 6 + 12 + 2 + 4 = 24 h.
    ttr = values()["anticoagulation_time_in_range"]
    assert ttr.numerator == pytest.approx(13.0)
    assert ttr.denominator == pytest.approx(24.0)
    assert ttr.value == pytest.approx(13 / 24)


def test_it_counts_a_flat_line_inside_the_range_as_in_range() -> None:
    data = q.QualityData(
        now=NOW,
        runs=(R2,),
        labs=(q.LabRecord(2, "aptt_s", t(1, 14), 70.0), q.LabRecord(2, "aptt_s", t(1, 16), 70.0)),
        targets=(q.TargetRecord(2, "aptt_s", t(1, 12), 60.0, 80.0),),
    )
    assert q.anticoagulation_time_in_range(data, PERIOD).value == 1.0


def test_it_counts_hourly_check_slots_from_the_run_start() -> None:
    # R1 slots 00–06 on 1 March: 4 of 6 checked; R6 12 of 12; R2 0 of 24; R3 0 of 24; R4 0 of 6.
    # 16 of 72.
    kpi = values()["hourly_check_completeness"]
    assert (kpi.numerator, kpi.denominator) == (16, 72)
    assert kpi.value == pytest.approx(16 / 72)


def test_it_counts_only_whole_slots_when_the_run_started_off_the_hour() -> None:
    # Started 28 Feb 17:30; the period begins 1 March 00:00, so the first whole slot is 00:30–01:30; the run
    # ends 1 March 03:00, so the last is 01:30–02:30. Two slots.
    run = q.RunRecord(9, t(28, 17, 30, month=2), t(1, 3))
    assert q.check_slots(run, PERIOD, NOW) == [(t(1, 0, 30), t(1, 1, 30)), (t(1, 1, 30), t(1, 2, 30))]
    assert q.check_slots(R5, PERIOD, NOW) == []


def test_it_measures_perfusion_involvement() -> None:
    kpis = values()
    assert (kpis["rounds_with_perfusion"].numerator, kpis["rounds_with_perfusion"].denominator) == (1, 2)
    assert kpis["decisions_with_perfusionist"].value == 1.0
    assert kpis["transports_with_perfusion"].value == 0.0
    assert kpis["ambulation_with_perfusion"].value == 1.0
    assert kpis["mm_cases_with_perfusion_input"].value == 1.0
    index = kpis["perfusion_involvement_index"]
    # Pooled: 1 + 1 + 0 + 1 + 1 = 4 items with perfusion of 2 + 1 + 1 + 1 + 1 = 6.
    assert (index.numerator, index.denominator) == (4, 6)
    assert index.value == pytest.approx(4 / 6)


def test_it_lets_a_program_name_its_perfusion_roles() -> None:
    data = q.QualityData(
        now=NOW,
        involvement=(q.InvolvementRecord(1, "decision", t(1, 2), frozenset({"ecmo_specialist"})),),
        perfusion_roles=frozenset({"perfusionist", "ecmo_specialist"}),
    )
    assert q.perfusion_involvement_index(data, PERIOD).value == 1.0


def test_it_gives_no_rates_for_an_empty_period() -> None:
    kpis = values(period=q.Period(t(1, month=1), t(2, month=1)))
    assert kpis["runs"].value == 0
    assert kpis["ecmo_days"].value == 0
    for key in (
        "complications_per_1000_ecmo_days",
        "circuit_changes_per_1000_ecmo_days",
        "survival_to_decannulation",
        "survival_to_discharge",
        "oxygenator_life_hours",
        "alert_acknowledgement_minutes",
        "anticoagulation_time_in_range",
        "hourly_check_completeness",
        "perfusion_involvement_index",
    ):
        assert kpis[key].value is None, key
    assert kpis["complications_per_1000_ecmo_days"].denominator == 0


def test_it_filters_by_mode_and_unit() -> None:
    vv = q.filter_runs(DATA, mode="vv")
    assert [r.run_id for r in vv.runs] == [1, 4]
    assert q.ecmo_days(vv, PERIOD).value == pytest.approx(0.5)
    assert all(e.run_id in (1, 4) for e in vv.events)
    hybrid = q.filter_runs(DATA, mode="hybrid")
    assert [r.run_id for r in hybrid.runs] == [3]
    assert [r.run_id for r in q.filter_runs(DATA, mode="vav").runs] == [3]
    cicu = q.filter_runs(DATA, unit=" cicu ")
    assert [r.run_id for r in cicu.runs] == [1, 2, 4, 5]
    both = q.filter_runs(DATA, mode="va", unit="CICU")
    assert [r.run_id for r in both.runs] == [2, 5]
    assert q.filter_runs(DATA) == DATA


def test_it_filters_records_of_runs_that_ended_before_the_period_by_their_run() -> None:
    # An M&M case in March about R5 (V-A, ended in February): R5 is context, not counted as a run.
    data = q.QualityData(
        now=NOW,
        runs=(R2,),
        context_runs=(R5,),
        involvement=(q.InvolvementRecord(5, "mm_case", t(2, 9), frozenset({"perfusionist"})),),
    )
    assert q.runs(data, PERIOD).value == 1
    assert q.perfusion_involvement_index(q.filter_runs(data, mode="va"), PERIOD).value == 1.0
    assert q.perfusion_involvement_index(q.filter_runs(data, mode="vv"), PERIOD).value is None


def test_it_keeps_a_registry_of_kpi_definitions() -> None:
    keys = [k.key for k in q.KPIS]
    assert len(keys) == len(set(keys))
    assert {"ecmo_days", "perfusion_involvement_index", "runs"} <= set(keys)
    assert all(k.endswith("_per_1000_ecmo_days") for k in keys if "per_1000" in k)
    assert q.kpi("ecmo_days").unit == "days"
    with pytest.raises(InputError) as err:
        q.kpi("nonsense")
    assert err.value.field == "key"
    chosen = q.compute_kpis(DATA, PERIOD, ["ecmo_days", "runs"])
    assert [k.key for k in chosen] == ["ecmo_days", "runs"]


def test_it_rejects_a_bad_period() -> None:
    with pytest.raises(InputError) as err:
        q.Period(dt.datetime(2026, 3, 1), t(2))
    assert err.value.field == "start"
    with pytest.raises(InputError) as err:
        q.Period(t(2), t(2))
    assert err.value.field == "end"


def test_it_splits_a_span_into_periods() -> None:
    assert q.periods(t(1), t(3, 12), step_days=1) == [
        q.Period(t(1), t(2)),
        q.Period(t(2), t(3)),
        q.Period(t(3), t(3, 12)),
    ]
    with pytest.raises(InputError):
        q.periods(t(1), t(3), step_days=0)


def test_it_audits_hourly_checks() -> None:
    result = q.run_audit("hourly_checks_90", DATA, PERIOD)
    # R6 12/12 complies; R1 4/6, R2, R3 and R4 do not.
    assert (result.sample_count, result.compliant_count) == (5, 1)
    assert result.compliance_fraction == pytest.approx(0.2)
    assert {i.run_id: i.note for i in result.items}[1] == "4 of 6 hours checked"


def test_it_audits_acknowledgement_time() -> None:
    result = q.run_audit("alert_acknowledged_15_min", DATA, PERIOD)
    # 5 min complies; 20 min and never do not.
    assert (result.sample_count, result.compliant_count) == (3, 1)
    assert sorted(i.note for i in result.items) == ["20 min", "5 min", "not acknowledged"]


def test_it_audits_the_anticoagulation_target() -> None:
    result = q.run_audit("anticoagulation_target_6_h", DATA, PERIOD)
    # Started in the period: R2 (target at start ✓), R3 (none ✗), R4 (at start ✓), R6 (after 7 h ✗).
    assert (result.sample_count, result.compliant_count) == (4, 2)
    notes = {i.run_id: i.note for i in result.items}
    assert notes[3] == "no target recorded"
    assert notes[6] == "target after 7.0 h"


def test_it_audits_that_adverse_events_record_the_action() -> None:
    result = q.run_audit("adverse_event_action_recorded", DATA, PERIOD)
    assert (result.sample_count, result.compliant_count) == (2, 1)
    assert [i.note for i in result.items] == ["no action recorded", ""]  # most recent first


def test_it_samples_the_most_recent_cases() -> None:
    result = q.run_audit("alert_acknowledged_15_min", DATA, PERIOD, sample_size=1)
    assert result.sample_count == 1
    assert result.items[0].at == t(2, 2)
    with pytest.raises(InputError) as err:
        q.run_audit("alert_acknowledged_15_min", DATA, PERIOD, sample_size=0)
    assert err.value.field == "sample_size"
    with pytest.raises(InputError) as err:
        q.run_audit("nonsense", DATA, PERIOD)
    assert err.value.field == "criterion"
    assert (
        q.run_audit("hourly_checks_90", DATA, q.Period(t(1, month=1), t(2, month=1))).compliance_fraction
        is None
    )
