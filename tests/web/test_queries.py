"""surveillance.queries — the read API other apps (rounds, decisions) build on.

- latest_values: the newest value of each parameter at or before now, with time and source; the console value on a
  tie; max_age leaves out older values; two queries whatever the run's length
- series: one parameter in a time range, oldest first, optionally one source
- bucketed: means per time bucket computed in SQL; probe dropouts (flow 0) left out
- perfusion_summary: flows, speed, access pressure with their 24-h range; ΔP now vs baseline from the stored rule
  state; post-oxygenator gases; component ages and ΔP life projection; alerts in the window with their
  acknowledgement and resolution; anticoagulation against target (in or out of range); a fixed number of queries
- open_alerts: unresolved alerts per run, firing first, critical first; one query for any number of runs
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ecmo_core.surveillance import Sample
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions, queries
from ecmo_web.surveillance.models import Alert
from tests.web.conftest import T0
from tests.web.surveil_support import circuit_samples, fit

H = dt.timedelta(hours=1)
MIN = dt.timedelta(minutes=1)


def _ingest(run: EcmoRun, samples: list[Sample], now: dt.datetime) -> None:
    actions.ingest_samples(actor_or_system=actions.DEMO, run=run, samples=samples, now=now)


def test_latest_values(run: EcmoRun, django_assert_num_queries: Any) -> None:
    _ingest(
        run,
        [
            Sample(T0, "blood_flow_l_min", 4.6),
            Sample(T0 + MIN, "blood_flow_l_min", 4.8),
            Sample(T0 + MIN, "blood_flow_l_min", 4.7, "check"),
            Sample(T0 + 2 * MIN, "fdo2", 1.0, "check"),
            Sample(T0 + 3 * H, "blood_flow_l_min", 4.0),
        ],
        now=T0 + 3 * H,
    )
    with django_assert_num_queries(2):
        latest = queries.latest_values(run, ["blood_flow_l_min", "fdo2", "pump_speed_rpm"], now=T0 + 10 * MIN)
    assert latest == {"blood_flow_l_min": (4.8, T0 + MIN, "device"), "fdo2": (1.0, T0 + 2 * MIN, "check")}
    assert queries.latest_values(run, ["fdo2"], now=T0 + H, max_age=30 * MIN) == {}
    assert queries.latest_values(run, [], now=T0) == {}


def test_series_and_buckets(run: EcmoRun) -> None:
    samples = circuit_samples(T0, T0 + 9 * MIN, flow=4.0)
    samples.append(Sample(T0 + 5 * MIN, "blood_flow_l_min", 0.0, "check"))  # a dropout, left out of the means
    _ingest(run, samples, now=T0 + 10 * MIN)
    points = queries.series(run, "blood_flow_l_min", since=T0 + MIN, until=T0 + 3 * MIN)
    assert points == [(T0 + MIN, 4.0), (T0 + 2 * MIN, 4.0), (T0 + 3 * MIN, 4.0)]
    assert queries.series(run, "blood_flow_l_min", since=T0, until=T0 + H, source="check") == [
        (T0 + 5 * MIN, 0.0)
    ]
    buckets = queries.bucketed(
        run, ["blood_flow_l_min", "pump_speed_rpm"], since=T0, until=T0 + H, bucket_s=300
    )
    assert [round(v, 3) for _, v in buckets["blood_flow_l_min"]] == [4.0, 4.0]
    assert [t for t, _ in buckets["pump_speed_rpm"]] == [T0.timestamp(), (T0 + 5 * MIN).timestamp()]


def test_perfusion_summary(
    run: EcmoRun, perfusionist: Any, personas: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    fit(run, perfusionist, "oxygenator", T0, lot="OXA-1")
    fit(run, perfusionist, "pump_head", T0, lot="PHB-1")
    run_actions.set_target(
        actor=perfusionist, run=run, parameter="anti_xa_iu_ml", low=0.3, high=0.5, effective_from=T0
    )
    samples = circuit_samples(T0, T0 + 7 * H, every=2 * MIN)
    # ΔP climbs 16 → 28 over the last hours: the rule fires and the trend crosses +50 % soon.
    for i in range(0, 120, 2):
        at = T0 + 7 * H + (i + 2) * MIN
        samples += [
            Sample(at, "pre_oxygenator_pressure_mmhg", 250 + i / 10),
            Sample(at, "blood_flow_l_min", 4.8),
            Sample(at, "post_oxygenator_pressure_mmhg", 234),
            Sample(at, "pump_speed_rpm", 3400),
        ]
    samples += [
        Sample(T0 + 8 * H, "anti_xa_iu_ml", 0.22, "lab"),
        Sample(T0 + 8 * H, "post_oxygenator_po2_mmhg", 420, "lab"),
    ]
    now = T0 + 9 * H
    _ingest(run, samples, now=now)
    alert = Alert.objects.get(run=run, rule_id="anticoagulation.out_of_range")
    actions.acknowledge_alert(actor=personas["intensivist"], alert=alert, comment="UFH up", now=now)
    with django_assert_max_num_queries(12):
        summary = queries.perfusion_summary(run, now=now)
    assert summary["blood_flow_l_min"]["value"] == 4.8 and summary["blood_flow_l_min"]["min"] == 4.8
    assert summary["pump_speed_rpm"]["source"] == "device"
    assert summary["delta_p"]["baseline_mmhg"] == 16 and summary["delta_p"]["now_mmhg"] > 24
    assert summary["delta_p"]["rule"]["status"] == "firing"
    assert summary["post_oxygenator"]["post_oxygenator_po2_mmhg"]["value"] == 420
    (axa,) = summary["anticoagulation"]
    assert (axa["value"], axa["low"], axa["high"], axa["in_range"]) == (0.22, 0.3, 0.5, False)
    rules = {a["rule_id"]: a for a in summary["alerts"]}
    assert rules["anticoagulation.out_of_range"]["acknowledged_comment"] == "UFH up"
    assert "oxygenator.delta_p_rise" in rules
    oxygenator = next(c for c in summary["component_life"] if c["kind"] == "oxygenator")
    assert oxygenator["days_in_service"] == round(9 / 24, 1) and oxygenator["threshold_mmhg"] == 24
    # The straight line through the last 24 h (flat, then climbing) reaches +50 % within hours.
    assert now < oxygenator["projected_crossing_at"] < now + dt.timedelta(days=1)
    assert {c["lot"] for c in summary["components"]} == {"OXA-1", "PHB-1"}


def test_open_alerts_in_one_query_firing_first(
    program: Any, run: EcmoRun, perfusionist: Any, django_assert_num_queries: Any
) -> None:
    other = run_actions.start_run(
        actor=perfusionist,
        program=program,
        patient_code="TEST-0002",
        sex="male",
        birth_year=1970,
        indication="cardiac",
        mode="va",
        started_at=T0,
    )
    _ingest(
        run,
        [Sample(T0 + MIN, "plasma_free_hb_mg_dl", 14, "lab"), Sample(T0 + MIN, "bubble_detected", 1)],
        now=T0 + MIN,
    )
    _ingest(run, [Sample(T0 + 2 * MIN, "bubble_detected", 0)], now=T0 + 2 * MIN)
    _ingest(run, [Sample(T0 + 3 * MIN, "plasma_free_hb_mg_dl", 60, "lab")], now=T0 + 3 * MIN)
    with django_assert_num_queries(1):
        result = queries.open_alerts([run, other])
    assert [a.rule_id for a in result[run.pk]] == ["hemolysis.pfhb_high", "air.detected"]
    assert result[run.pk][0].severity == "critical" and result[other.pk] == []
    assert queries.open_alerts([]) == {}
