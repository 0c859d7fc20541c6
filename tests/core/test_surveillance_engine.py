"""Spec checklist — ``evaluate`` and the rule registry (core-api §4; STYLE.md lessons 3 and 10):

- [x] every rule of the core-api §4 table is registered, with a version, a title, a scope and a docstring
      giving rationale and source; findings come in registry order
- [x] ``now`` must be aware; samples must be Samples; config and context must be of their types
- [x] a switched-off rule gives no finding; rules that do not apply give none either
- [x] a list of samples and a prebuilt Timeline give the same findings; samples after ``now`` are ignored;
      duplicates (a resent message) collapse
- [x] findings validate status and severity and keep evidence read-only
- [x] three days of minute telemetry replay in well under the time a perfusionist would wait
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest

from ecmo_core.errors import InputError
from ecmo_core.replay import replay
from ecmo_core.surveillance import (
    RULES,
    AirDetectedConfig,
    Finding,
    RunContext,
    Sample,
    SurveillanceConfig,
    Timeline,
    config_from_mapping,
    evaluate,
)
from ecmo_core.surveillance.base import num, pct
from ecmo_core.surveillance.model import iso
from ecmo_core.surveillance.synthetic import steady

T0 = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
CORE_API_RULES = (
    "oxygenator.delta_p_rise",
    "oxygenator.post_po2_low",
    "pump.flow_per_rpm_fall",
    "access.pressure_low",
    "hemolysis.pfhb_high",
    "recirculation.high",
    "anticoagulation.out_of_range",
    "air.detected",
    "documentation.check_overdue",
)


def test_it_registers_every_rule_of_the_core_api_table() -> None:
    assert sorted(RULES) == sorted(CORE_API_RULES)
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id and rule.version >= 1 and rule.title and rule.scope
        assert rule.severity in ("warning", "critical")
        module = importlib.import_module(rule.evaluate.__module__)
        assert module.RULE_ID == rule_id and module.RULE_VERSION == rule.version
        doc = module.__doc__ or ""
        assert "Rationale" in doc and any(mark in doc for mark in ("[✔", "[◐", "[○", "local practice"))


def test_it_returns_findings_in_registry_order() -> None:
    findings = evaluate([], now=T0)
    assert [f.rule_id for f in findings] == list(RULES)
    assert all(f.status == "indeterminate" and f.severity == "info" for f in findings)


def test_it_refuses_a_naive_now() -> None:
    with pytest.raises(InputError) as error:
        evaluate([], now=datetime(2025, 1, 1, 10, 0))
    assert error.value.field == "now"
    assert "no time zone" in str(error.value)


def test_it_refuses_things_that_are_not_samples() -> None:
    with pytest.raises(InputError) as error:
        evaluate([{"parameter": "fdo2"}], now=T0)  # type: ignore[list-item]
    assert error.value.field == "samples[0]"


def test_it_refuses_a_config_or_context_of_the_wrong_type() -> None:
    with pytest.raises(InputError) as config_error:
        evaluate([], now=T0, config={"engine": {}})  # type: ignore[arg-type]
    assert config_error.value.field == "config"
    with pytest.raises(InputError) as context_error:
        evaluate([], now=T0, context={"configuration": "vv"})  # type: ignore[arg-type]
    assert context_error.value.field == "context"


def test_it_skips_a_rule_the_site_switched_off() -> None:
    config = SurveillanceConfig(air_detected=AirDetectedConfig(enabled=False))
    assert "air.detected" not in [f.rule_id for f in evaluate([], now=T0, config=config)]


def test_it_gives_the_same_findings_from_a_list_or_a_timeline() -> None:
    samples = steady("access_pressure_mmhg", -120.0, start=T0, end=T0 + timedelta(minutes=30))
    now = T0 + timedelta(minutes=20)
    assert evaluate(samples, now=now) == evaluate(Timeline(samples), now=now)


def test_it_ignores_samples_observed_after_now() -> None:
    samples = steady("access_pressure_mmhg", -60.0, start=T0, end=T0 + timedelta(minutes=10))
    samples += steady(
        "access_pressure_mmhg", -150.0, start=T0 + timedelta(minutes=11), end=T0 + timedelta(hours=1)
    )
    findings = evaluate(samples, now=T0 + timedelta(minutes=10))
    access = next(f for f in findings if f.rule_id == "access.pressure_low")
    assert access.status == "clear"


def test_it_collapses_duplicate_samples() -> None:
    samples = [Sample(T0, "fdo2", 1.0), Sample(T0, "fdo2", 1.0), Sample(T0, "fdo2", 1.0, "check")]
    assert len(Timeline(samples)) == 2


def test_it_validates_findings() -> None:
    with pytest.raises(InputError):
        Finding("x", 1, "alarm", "info", "m")  # type: ignore[arg-type]
    with pytest.raises(InputError):
        Finding("x", 1, "clear", "minor", "m")  # type: ignore[arg-type]
    finding = Finding("x", 1, "clear", "info", "m", {"a": 1.0})
    with pytest.raises(TypeError):
        finding.evidence["a"] = 2.0  # type: ignore[index]


def test_it_words_numbers_as_a_perfusionist_would() -> None:
    assert [num(4.4), num(331.0), num(5.2273), num(-125.0, 0), num(100.0, 0), num(-0.001)] == [
        "4.4",
        "331",
        "5.23",
        "-125",
        "100",
        "0",
    ]
    assert pct(0.568) == "57 %"
    assert iso(datetime(2025, 1, 1, 11, 0, tzinfo=UTC)) == "2025-01-01T11:00:00Z"


def test_it_replays_three_days_of_steady_minute_telemetry_without_an_alert() -> None:
    # How fast is measured in `make bench` (replay beside a Polars baseline), never in a timed test.
    end = T0 + timedelta(days=3)
    samples: list[Sample] = []
    for parameter, value in (
        ("blood_flow_l_min", 4.8),
        ("pump_speed_rpm", 3400.0),
        ("access_pressure_mmhg", -60.0),
        ("pre_oxygenator_pressure_mmhg", 250.0),
        ("post_oxygenator_pressure_mmhg", 234.0),
        ("sweep_gas_l_min", 4.0),
        ("fdo2", 1.0),
        ("bubble_detected", 0.0),
    ):
        samples += steady(parameter, value, start=T0, end=end)
    transitions = replay(samples, context=RunContext(configuration="vv"))
    assert {t.rule_id for t in transitions if t.to_status == "firing"} == set()


def test_it_declares_the_data_each_rule_needs() -> None:
    # Defaults: windows 10 min, device fresh 5 min, a check counts 75 min; gas 24 h, pfHb 30 h, recirculation
    # 12 h, anti-Xa 26 h (aPTT 26 h, ACT 6 h); ΔP and pump baselines 6 h.
    config = SurveillanceConfig()
    minutes = {rule_id: rule.lookback(config) / timedelta(minutes=1) for rule_id, rule in RULES.items()}
    assert minutes == {
        "air.detected": 75,
        "oxygenator.post_po2_low": 24 * 60 + 75,  # a gas up to 24 h old, then the FdO2 as of that gas
        "oxygenator.delta_p_rise": 75,
        "pump.flow_per_rpm_fall": 75,
        "access.pressure_low": 75,
        "hemolysis.pfhb_high": 30 * 60,
        "recirculation.high": 12 * 60,
        "anticoagulation.out_of_range": 26 * 60,
        "documentation.check_overdue": 75,
    }
    baselines = {rule_id: rule.baseline(config) for rule_id, rule in RULES.items() if rule.baseline(config)}
    assert baselines == {
        "oxygenator.delta_p_rise": timedelta(hours=6),
        "pump.flow_per_rpm_fall": timedelta(hours=6),
    }
    wide = config_from_mapping({"engine": {"median_window_min": 60, "check_max_age_min": 30}})
    assert RULES["access.pressure_low"].lookback(wide) == timedelta(minutes=60)
