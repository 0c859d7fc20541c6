"""Evaluation of a run from its database records (actions.evaluate_run).

- the run context comes from the DB: configuration history, every oxygenator and pump-head install time,
  anticoagulation targets (RunTarget, with their history), checks, weaning trials from other apps (hook)
- an oxygenator change resets the ΔP baseline: indeterminate while the new baseline forms, then clear
- ΔP/flow (resistance) is judged when flow changed; the alert carries rule id and version
- a weaning trial recorded by another app keeps the pump rule quiet
- a target change is judged from its effective time (replay across segments)
- ended runs are evaluated up to their end only; moments before the cursor are never walked again
- late readings (stamped before the cursor) still raise the alert they carry, at their own time, and clear nothing;
  beyond the late-data window they do not
- V-A runs get no recirculation finding (the rule does not apply)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ecmo_core.surveillance import Sample
from ecmo_web import contributions
from ecmo_web.contributions import Contributions
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.actions import DEMO
from ecmo_web.surveillance.evaluation import RunFacts
from ecmo_web.surveillance.models import Alert, AlertTransition, RuleState
from tests.web.conftest import T0
from tests.web.surveil_support import circuit_samples, fit

H = dt.timedelta(hours=1)


def _states(run: EcmoRun) -> dict[str, str]:
    return dict(RuleState.objects.filter(run=run).values_list("rule_id", "status"))


def _ingest(run: EcmoRun, samples: list[Sample], now: dt.datetime) -> None:
    actions.ingest_samples(actor_or_system=DEMO, run=run, samples=samples, now=now)


def test_it_builds_the_context_from_the_database(run: EcmoRun, perfusionist: Any) -> None:
    fit(run, perfusionist, "oxygenator", T0)
    fit(run, perfusionist, "pump_head", T0)
    fit(run, perfusionist, "oxygenator", T0 + 30 * H, lot="LOT-2", reason="rising ΔP")
    run_actions.change_configuration(
        actor=perfusionist, run=run, mode="vav", started_at=T0 + 40 * H, reason="differential hypoxia"
    )
    run_actions.set_target(
        actor=perfusionist, run=run, parameter="anti_xa_iu_ml", low=0.3, high=0.5, effective_from=T0
    )
    run_actions.set_target(
        actor=perfusionist, run=run, parameter="aptt_s", low=None, high=80, effective_from=T0 + 10 * H
    )
    facts = RunFacts.load(run)
    context = facts.context_at(T0 + 50 * H)
    assert context.oxygenator_installed_as_of(T0 + 50 * H) == T0 + 30 * H
    assert context.oxygenator_installed_as_of(T0 + 20 * H) == T0
    assert context.pump_head_installed_as_of(T0 + 50 * H) == T0
    assert context.configuration_at(T0 + 41 * H) == "vav" and context.configuration_at(T0 + H) == "vv"
    assert dict(context.anticoagulation_targets) == {"anti_xa_iu_ml": (0.3, 0.5), "aptt_s": (5.0, 80)}
    assert dict(facts.context_at(T0 + H).anticoagulation_targets) == {"anti_xa_iu_ml": (0.3, 0.5)}


def test_it_resets_the_delta_p_baseline_after_an_oxygenator_change(run: EcmoRun, perfusionist: Any) -> None:
    fit(run, perfusionist, "oxygenator", T0)
    samples = circuit_samples(T0, T0 + 8 * H)  # ΔP 16 at 4.8 L/min: the baseline
    samples += circuit_samples(
        T0 + 8 * H + dt.timedelta(minutes=1), T0 + 10 * H, pre=260, post=234
    )  # ΔP 26: +62 %
    _ingest(run, samples, now=T0 + 10 * H)
    alert = Alert.objects.get(run=run, rule_id="oxygenator.delta_p_rise")
    assert alert.status == "firing" and alert.rule_version == 1
    assert T0 + 8 * H < alert.opened_at <= T0 + 8 * H + dt.timedelta(minutes=10)
    assert alert.evidence["baseline_delta_p_mmhg"] == 16

    fit(run, perfusionist, "oxygenator", T0 + 10 * H + dt.timedelta(minutes=5), lot="LOT-2", reason="ΔP rise")
    # The new oxygenator keeps ΔP 26: that is its own baseline, so the rule must end clear, not firing.
    _ingest(
        run,
        circuit_samples(T0 + 10 * H + dt.timedelta(minutes=6), T0 + 18 * H, pre=260, post=234),
        now=T0 + 18 * H,
    )
    steps = list(
        AlertTransition.objects.filter(run=run, rule_id="oxygenator.delta_p_rise").values_list(
            "from_status", "to_status"
        )
    )
    assert steps[-2:] == [("firing", "indeterminate"), ("indeterminate", "clear")]
    state = RuleState.objects.get(run=run, rule_id="oxygenator.delta_p_rise")
    assert state.evidence["baseline_delta_p_mmhg"] == 26


def test_it_judges_resistance_when_flow_changed(run: EcmoRun, perfusionist: Any) -> None:
    fit(run, perfusionist, "oxygenator", T0)
    samples = circuit_samples(T0, T0 + 7 * H)  # ΔP 16 at 4.8: R 3.33
    # ΔP 23 at 4.4: raw ΔP +44 % (below 50 %) but resistance 5.23 is +57 %.
    samples += circuit_samples(T0 + 7 * H + dt.timedelta(minutes=1), T0 + 8 * H, flow=4.4, pre=232, post=209)
    _ingest(run, samples, now=T0 + 8 * H)
    alert = Alert.objects.get(run=run, rule_id="oxygenator.delta_p_rise")
    assert alert.evidence["mode"] == "resistance"
    assert alert.evidence["rise_fraction"] == pytest.approx(0.568, abs=0.01)


def test_it_keeps_the_pump_rule_quiet_during_a_weaning_trial(
    run: EcmoRun, perfusionist: Any, django_db_blocker: Any
) -> None:
    fit(run, perfusionist, "pump_head", T0)
    trial = (T0 + 7 * H, T0 + 9 * H)

    def provider(r: Any) -> list[tuple[dt.datetime, dt.datetime | None]]:
        return [trial] if r.pk == run.pk else []

    with contributions.added(Contributions(weaning_providers=(provider,))):
        samples = circuit_samples(T0, T0 + 7 * H)
        # Same speed, 25 % less flow: pump-head thrombus pattern, but inside the weaning trial.
        samples += circuit_samples(T0 + 7 * H + dt.timedelta(minutes=1), T0 + 9 * H, flow=3.6)
        _ingest(run, samples, now=T0 + 9 * H - dt.timedelta(minutes=1))
        assert not Alert.objects.filter(run=run, rule_id="pump.flow_per_rpm_fall").exists()
        assert _states(run)["pump.flow_per_rpm_fall"] == "not_applicable"
        # After the trial the same pattern fires.
        _ingest(
            run, circuit_samples(T0 + 9 * H + dt.timedelta(minutes=1), T0 + 10 * H, flow=3.6), now=T0 + 10 * H
        )
        assert Alert.objects.get(run=run, rule_id="pump.flow_per_rpm_fall").status == "firing"


def test_it_judges_targets_from_their_effective_time(run: EcmoRun, perfusionist: Any) -> None:
    run_actions.set_target(
        actor=perfusionist, run=run, parameter="anti_xa_iu_ml", low=0.3, high=0.5, effective_from=T0
    )
    run_actions.set_target(
        actor=perfusionist, run=run, parameter="anti_xa_iu_ml", low=0.2, high=0.4, effective_from=T0 + 3 * H
    )
    samples = [Sample(T0 + H, "anti_xa_iu_ml", 0.25, "lab"), Sample(T0 + 4 * H, "anti_xa_iu_ml", 0.25, "lab")]
    _ingest(run, samples, now=T0 + 5 * H)
    steps = list(
        AlertTransition.objects.filter(run=run, rule_id="anticoagulation.out_of_range").values_list(
            "to_status", "at"
        )
    )
    assert steps == [("firing", T0 + H), ("clear", T0 + 4 * H)]


def test_it_stores_transitions_only_on_change_and_never_before_the_cursor(run: EcmoRun) -> None:
    _ingest(run, circuit_samples(T0, T0 + 2 * H), now=T0 + 2 * H)
    stored = list(AlertTransition.objects.filter(run=run).values_list("pk", "at", "to_status"))
    assert actions.evaluate_run(run, now=T0 + 2 * H) == []
    assert actions.evaluate_run(run, now=T0 + H, replay_from=T0) == []
    # More of the same telemetry: states do not change, so nothing is stored; earlier rows are untouched.
    _ingest(run, circuit_samples(T0 + 2 * H + dt.timedelta(minutes=1), T0 + 3 * H), now=T0 + 3 * H)
    after = list(AlertTransition.objects.filter(run=run).values_list("pk", "at", "to_status"))
    assert after[: len(stored)] == stored
    assert all(t.from_status != t.to_status for t in AlertTransition.objects.filter(run=run))


def _air(start: dt.datetime, seconds: int, then_clear: bool = True) -> list[Sample]:
    air = [Sample(start + dt.timedelta(seconds=k), "bubble_detected", 1.0) for k in range(seconds)]
    return (
        [*air, Sample(start + dt.timedelta(seconds=seconds), "bubble_detected", 0.0)] if then_clear else air
    )


def test_late_readings_raise_the_alert_they_carry(run: EcmoRun) -> None:
    _ingest(run, circuit_samples(T0, T0 + H), now=T0 + H)  # evaluated through T0 + 1 h
    episode = T0 + H - dt.timedelta(seconds=30)  # five seconds of air the listener commits only now
    _ingest(run, _air(episode, 5), now=T0 + H + dt.timedelta(seconds=5))
    steps = list(
        AlertTransition.objects.filter(run=run, rule_id="air.detected", at__gt=T0 + H / 2)
        .order_by("at")
        .values_list("to_status", "at")
    )
    assert steps == [("firing", episode), ("clear", T0 + H + dt.timedelta(seconds=5))]
    assert Alert.objects.get(run=run, rule_id="air.detected").opened_at == episode


def test_late_readings_beyond_the_window_are_history(run: EcmoRun, settings: Any) -> None:
    settings.ECMO_LATE_DATA_S = 10
    _ingest(run, circuit_samples(T0, T0 + H), now=T0 + H)
    _ingest(run, _air(T0 + H - dt.timedelta(seconds=30), 5), now=T0 + H + dt.timedelta(seconds=5))
    assert not AlertTransition.objects.filter(run=run, rule_id="air.detected", to_status="firing").exists()


def test_late_readings_clear_nothing(run: EcmoRun) -> None:
    _ingest(run, circuit_samples(T0, T0 + H), now=T0 + H - dt.timedelta(minutes=1))
    _ingest(
        run, _air(T0 + H - dt.timedelta(seconds=50), 50, then_clear=False), now=T0 + H
    )  # air at the cursor
    late_clear = [
        Sample(T0 + H - dt.timedelta(seconds=20), "bubble_detected", 0.0)
    ]  # contradicts, arrives late
    _ingest(run, late_clear, now=T0 + H + dt.timedelta(seconds=1))
    steps = list(
        AlertTransition.objects.filter(run=run, rule_id="air.detected", at__gt=T0 + H / 2)
        .order_by("at")
        .values_list("to_status", "at")
    )
    assert steps == [("firing", T0 + H - dt.timedelta(seconds=50))]  # still firing: the newest reading is air


def test_it_evaluates_an_ended_run_only_up_to_its_end(run: EcmoRun, perfusionist: Any) -> None:
    run_actions.end_run(actor=perfusionist, run=run, ended_at=T0 + 2 * H, outcome="weaned")
    run.refresh_from_db()
    actions.evaluate_run(run, now=T0 + 30 * H, replay_from=T0)
    assert AlertTransition.objects.filter(run=run, at__gt=T0 + 2 * H).count() == 0
    assert run.evaluation_cursor.evaluated_through == T0 + 2 * H


def test_it_gives_no_recirculation_finding_on_va(program: Any, perfusionist: Any) -> None:
    va = run_actions.start_run(
        actor=perfusionist,
        program=program,
        patient_code="TEST-VA",
        sex="female",
        birth_year=1980,
        indication="cardiac",
        mode="va",
        started_at=T0,
    )
    samples = [
        Sample(T0 + H, "pre_oxygenator_so2", 0.8),
        Sample(T0 + H, "post_oxygenator_so2", 1.0),
        Sample(T0 + H, "mixed_venous_so2", 0.66, "estimate"),
    ]
    _ingest(va, samples, now=T0 + H)
    assert "recirculation.high" not in _states(va)


def test_it_loads_the_same_timeline_as_the_stored_rows_say(run: EcmoRun) -> None:
    """``load_timeline`` reads SQLite's stored times as text and parses each distinct time once; the timeline is
    the one the ORM's rows give: every parameter and source kind, times to the microsecond, device and hand-entered
    sources apart."""
    import numpy as np

    from ecmo_web.surveillance.evaluation import load_timeline, timeline_of_rows
    from ecmo_web.surveillance.models import Sample as StoredSample

    at = T0 + dt.timedelta(hours=2)
    samples = [
        Sample(at + dt.timedelta(seconds=s, microseconds=m), parameter, value, source)
        for s, m in ((0, 0), (1, 250_000), (2, 999_999))
        for parameter, value, source in (
            ("blood_flow_l_min", 4.5, "hl7:0A1B"),
            ("pump_speed_rpm", 3400, "device"),
            ("blood_flow_l_min", 4.4, "check"),
        )
    ]
    _ingest(run, samples, at + H)
    loaded = load_timeline(RunFacts.load(run), start=at, end=at + H)
    rows = StoredSample.objects.filter(run=run).values_list("observed_at", "parameter", "value", "source")
    expected = timeline_of_rows(rows)
    assert (
        loaded._series.keys()
        == expected._series.keys()
        == {
            ("blood_flow_l_min", True),
            ("blood_flow_l_min", False),
            ("pump_speed_rpm", True),
        }
    )
    for key, series in expected._series.items():
        assert np.array_equal(loaded._series[key].us, series.us), key
        assert np.array_equal(loaded._series[key].values, series.values), key
    assert loaded.times == expected.times
