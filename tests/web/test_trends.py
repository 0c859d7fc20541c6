"""The trends page (/runs/{id}/trends/) and its data (/runs/{id}/trends/data.json?range=…).

- the page loads uPlot and shows the component life panel (days in service, ΔP threshold projection)
- the data has one group per parameter family on one time axis, bucketed for the range (1 h … whole run)
- ΔP and ΔP/Q (each on its own chart) carry the baseline of each oxygenator, which restarts after an oxygenator
  change
- alerts (firing transitions), component changes and checks come as markers
- a bad range is a 400; another program's run is a 404; the data of a long run costs a fixed number of queries
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine

from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions
from tests.web.conftest import T0
from tests.web.surveil_support import circuit_samples, fit

H = dt.timedelta(hours=1)


def _run_with_change(run: EcmoRun, user: Any) -> None:
    fit(run, user, "oxygenator", T0)
    fit(run, user, "pump_head", T0)
    samples = circuit_samples(T0, T0 + 8 * H, every=dt.timedelta(minutes=2))
    samples += circuit_samples(
        T0 + 8 * H + dt.timedelta(minutes=2), T0 + 10 * H, pre=260, post=234, every=dt.timedelta(minutes=2)
    )
    actions.ingest_samples(actor_or_system=actions.DEMO, run=run, samples=samples, now=T0 + 10 * H)
    fit(run, user, "oxygenator", T0 + 10 * H + dt.timedelta(minutes=5), lot="LOT-2", reason="ΔP rise")
    actions.ingest_samples(
        actor_or_system=actions.DEMO,
        run=run,
        now=T0 + 17 * H,
        samples=circuit_samples(
            T0 + 10 * H + dt.timedelta(minutes=6),
            T0 + 17 * H,
            pre=244,
            post=234,
            every=dt.timedelta(minutes=2),
        ),
    )


def test_the_page_loads_the_charts_and_the_component_life(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    _run_with_change(run, perfusionist)
    with time_machine.travel(T0 + 17 * H, tick=False):
        body = client_for(perfusionist).get(f"/runs/{run.pk}/trends/").content.decode()
    assert "uPlot.iife.min.js" in body and "trends.js" in body and 'data-range="24h"' in body
    assert "Component life" in body and "LOT-2" in body and "baseline ΔP 10 mmHg" in body


def test_the_data_has_groups_baselines_and_markers(
    run: EcmoRun, perfusionist: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    _run_with_change(run, perfusionist)
    client = client_for(perfusionist)
    with time_machine.travel(T0 + 17 * H, tick=False), django_assert_max_num_queries(12):
        data = client.get(f"/runs/{run.pk}/trends/data.json", {"range": "run"}).json()
    groups = {g["id"]: g for g in data["groups"]}
    assert {"flow", "pressures", "delta_p", "resistance", "flow_per_rpm"} <= set(groups)
    assert data["bucket_s"] >= 60 and data["tz"] == "Europe/London"
    delta = groups["delta_p"]
    # ΔP/Q has its own chart: it is not drawn across the ΔP axis.
    assert [s["code"] for s in delta["series"]] == ["delta_p", "delta_p_baseline"]
    assert [s["code"] for s in groups["resistance"]["series"]] == ["resistance", "resistance_baseline"]
    assert [b["value"] for b in delta["baselines"]["delta_p"]] == [16, 10]  # one baseline per oxygenator
    xs, dp = delta["data"][0], delta["data"][1]
    assert len(xs) == len(dp) and max(v for v in dp if v is not None) == 26
    kinds = {m["kind"] for m in data["markers"]}
    assert kinds == {"alert", "component"}
    assert any("Membrane" in m["label"] for m in data["markers"] if m["kind"] == "alert")


def test_the_data_refuses_an_unknown_range_and_other_programs(
    run: EcmoRun, personas: dict[str, Any], client_for: Any
) -> None:
    url = f"/runs/{run.pk}/trends/data.json"
    assert client_for(personas["perfusionist"]).get(url, {"range": "7d"}).status_code == 400
    assert client_for(personas["outsider"]).get(url).status_code == 404
    assert client_for(personas["auditor"]).get(url, {"range": "1h"}).status_code == 200
