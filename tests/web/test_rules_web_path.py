"""Every rule through the web path: stored samples → ``evaluate_run`` at one moment → the stored transition.

- [x] each rule of ``RULES`` has a scenario here (a new rule without one fails the last test)
- [x] each scenario stores its samples directly, as a console or lab would have long before, then evaluates the run
      live at one moment: the web layer must load what the rule declares it needs (``lookback``, ``baseline``)
      — a lab result 28 h old, a gas 20 h old, a baseline taken 30 h ago — or the rule would stay
      indeterminate in production
- [x] the look-back and the baseline the web layer loads are derived from the rules' declarations
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from ecmo_core.surveillance import RULES, SurveillanceConfig, config_from_mapping
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.evaluation import baseline_length, lookback
from ecmo_web.surveillance.models import AlertTransition, Sample
from tests.web.conftest import T0
from tests.web.surveil_support import fit, minutes

H = dt.timedelta(hours=1)
MIN = dt.timedelta(minutes=1)
NOW = T0 + 30 * H


def store(run: EcmoRun, rows: list[tuple[dt.datetime, str, float, str]]) -> None:
    """Samples as they would lie in the database (written long before the evaluation)."""
    Sample.objects.bulk_create(
        Sample(run=run, observed_at=at, parameter=p, value=v, source=s, received_at=at)
        for at, p, v, s in rows
    )


def every_minute(
    start: dt.datetime, end: dt.datetime, **values: float
) -> list[tuple[dt.datetime, str, float, str]]:
    return [(t, p, v, "device") for t in minutes(start, end) for p, v in values.items()]


def air(run: EcmoRun, user: Any) -> None:
    store(run, [(NOW - 2 * MIN, "bubble_detected", 1.0, "device")])


def post_po2(run: EcmoRun, user: Any) -> None:
    gas = NOW - 20 * H  # a lab gas 20 h old still counts (24 h); FdO2 and sweep as of the gas
    store(
        run,
        [
            (gas, "post_oxygenator_po2_mmhg", 120.0, "lab"),
            (gas - 10 * MIN, "fdo2", 1.0, "check"),
            (gas - 10 * MIN, "sweep_gas_l_min", 3.0, "check"),
        ],
    )


def delta_p(run: EcmoRun, user: Any) -> None:
    fit(run, user, "oxygenator", T0)
    baseline = every_minute(
        T0, T0 + 7 * H, pre_oxygenator_pressure_mmhg=250, post_oxygenator_pressure_mmhg=234
    )
    rows = every_minute(
        NOW - 15 * MIN, NOW, pre_oxygenator_pressure_mmhg=260, post_oxygenator_pressure_mmhg=234
    )
    store(run, baseline + rows)  # ΔP 16 → 26 mmHg: +62 %, flow unknown (raw ΔP)


def pump(run: EcmoRun, user: Any) -> None:
    fit(run, user, "pump_head", T0)
    baseline = every_minute(T0, T0 + 7 * H, blood_flow_l_min=4.8, pump_speed_rpm=3400)
    store(run, baseline + every_minute(NOW - 15 * MIN, NOW, blood_flow_l_min=3.6, pump_speed_rpm=3400))


def access(run: EcmoRun, user: Any) -> None:
    store(run, every_minute(NOW - 15 * MIN, NOW, access_pressure_mmhg=-130))


def hemolysis(run: EcmoRun, user: Any) -> None:
    store(run, [(NOW - 28 * H, "plasma_free_hb_mg_dl", 60.0, "lab")])  # counts for 30 h


def recirculation(run: EcmoRun, user: Any) -> None:
    store(run, [(NOW - 10 * H, "recirculation_fraction", 0.4, "estimate")])  # V-V run; counts for 12 h


def anticoagulation(run: EcmoRun, user: Any) -> None:
    run_actions.set_target(
        actor=user, run=run, parameter="anti_xa_iu_ml", low=0.3, high=0.7, effective_from=T0
    )
    store(run, [(NOW - 25 * H, "anti_xa_iu_ml", 0.9, "lab")])  # counts for 26 h


def documentation(run: EcmoRun, user: Any) -> None:
    store(run, [(NOW - 80 * MIN, "blood_flow_l_min", 4.8, "check")])  # a check 80 min ago: overdue at 75


SCENARIOS: dict[str, tuple[Callable[[EcmoRun, Any], None], str]] = {
    "air.detected": (air, "critical"),
    "oxygenator.post_po2_low": (post_po2, "critical"),
    "oxygenator.delta_p_rise": (delta_p, "warning"),
    "pump.flow_per_rpm_fall": (pump, "warning"),
    "access.pressure_low": (access, "warning"),
    "hemolysis.pfhb_high": (hemolysis, "critical"),
    "recirculation.high": (recirculation, "warning"),
    "anticoagulation.out_of_range": (anticoagulation, "warning"),
    "documentation.check_overdue": (documentation, "warning"),
}


@pytest.mark.parametrize("rule_id", list(SCENARIOS))
def test_it_stores_the_transition_of_each_rule(rule_id: str, run: EcmoRun, perfusionist: Any) -> None:
    scenario, severity = SCENARIOS[rule_id]
    scenario(run, perfusionist)
    actions.evaluate_run(run, now=NOW)
    stored = AlertTransition.objects.get(run=run, rule_id=rule_id)
    assert (stored.at, stored.from_status, stored.to_status, stored.severity) == (NOW, "", "firing", severity)
    assert stored.message


def test_it_has_a_web_path_scenario_for_every_rule() -> None:
    assert set(SCENARIOS) == set(RULES)


def test_it_loads_what_the_rules_declare() -> None:
    config = SurveillanceConfig()
    assert lookback([config]) == max(rule.lookback(config) for rule in RULES.values()) + H
    assert lookback([config]) >= dt.timedelta(hours=30)  # the pfHb result's maximum age
    assert baseline_length([config]) == 6 * H
    longer = config_from_mapping({"oxygenator.delta_p_rise": {"baseline_hours": 12}})
    assert baseline_length([config, longer]) == 12 * H
