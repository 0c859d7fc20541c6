"""Read-only questions other apps ask about a run's circuit (rounds, decisions, the run page, the API).

Stable names (other apps depend on them): ``latest_values``, ``series``, ``perfusion_summary``, ``open_alerts``.
Every function runs a fixed number of queries whatever the length of the run: latest values and ranges are
aggregated in SQL, long series are averaged into time buckets in SQL, and rule results come from the stored
rule state rather than from re-evaluating telemetry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Avg, Count, F, FloatField, Func, IntegerField, Max, Min, Q, Sum
from django.db.models.functions import Cast, Floor

from ecmo_core.surveillance import ANTICOAGULATION_TESTS, PARAMETERS, project_delta_p_crossing
from ecmo_core.surveillance import Sample as CoreSample
from ecmo_core.surveillance.trend import delta_p_points
from ecmo_web.runs.models import Component, ComponentKind, EcmoRun, RunTarget
from ecmo_web.surveillance.evaluation import config_of, setting_at
from ecmo_web.surveillance.models import (
    SEVERITY_RANK,
    Alert,
    AlertStatus,
    RuleState,
    Sample,
    core_source,
    is_device_source,
)
from ecmo_web.surveillance.present import alert_dict

Latest = tuple[float, dt.datetime, str]

CIRCUIT = (
    "blood_flow_l_min",
    "pump_speed_rpm",
    "access_pressure_mmhg",
    "pre_oxygenator_pressure_mmhg",
    "post_oxygenator_pressure_mmhg",
    "membrane_delta_p_mmhg",
    "sweep_gas_l_min",
    "fdo2",
    "blood_temperature_c",
)
POST_OXYGENATOR = (
    "post_oxygenator_po2_mmhg",
    "post_oxygenator_pco2_mmhg",
    "post_oxygenator_so2",
    "pre_oxygenator_so2",
)
LABS = (
    "plasma_free_hb_mg_dl",
    "ldh_u_l",
    "fibrinogen_mg_dl",
    "platelets_10e3_ul",
    "hemoglobin_g_dl",
    "d_dimer_mg_l",
    *ANTICOAGULATION_TESTS,
)
# How long a lab result is worth reporting in a summary (a daily lab plus a late draw).
LAB_MAX_AGE = dt.timedelta(hours=30)


def _run_id(run: EcmoRun | int) -> int:
    return run if isinstance(run, int) else int(run.pk)


def latest_values(
    run: EcmoRun | int,
    parameters: Iterable[str],
    *,
    now: dt.datetime,
    max_age: dt.timedelta | None = None,
) -> dict[str, Latest]:
    """The newest value of each parameter at or before ``now``: ``{code: (value, observed_at, source)}``.

    Parameters without a value (or none younger than ``max_age``) are absent. When a console value and a hand-entered
    one share the newest time, the console value is given. Two queries.
    """
    codes = list(dict.fromkeys(parameters))
    if not codes:
        return {}
    qs = Sample.objects.filter(run_id=_run_id(run), parameter__in=codes, observed_at__lte=now)
    if max_age is not None:
        qs = qs.filter(observed_at__gte=now - max_age)
    newest = list(qs.values("parameter").annotate(last=Max("observed_at")).values_list("parameter", "last"))
    if not newest:
        return {}
    cond = Q()
    for parameter, last in newest:
        cond |= Q(parameter=parameter, observed_at=last)
    result: dict[str, Latest] = {}
    rows = (
        Sample.objects.filter(run_id=_run_id(run))
        .filter(cond)
        .values_list("parameter", "value", "observed_at", "source")
    )
    for parameter, value, at, source in sorted(rows, key=lambda r: (r[0], not is_device_source(r[3]), r[3])):
        result.setdefault(parameter, (value, at, source))
    return result


def series(
    run: EcmoRun | int,
    parameter: str,
    *,
    since: dt.datetime,
    until: dt.datetime,
    source: str | None = None,
) -> list[tuple[dt.datetime, float]]:
    """Every value of one parameter in [since, until], oldest first (all sources unless ``source`` is given)."""
    qs = Sample.objects.filter(
        run_id=_run_id(run), parameter=parameter, observed_at__gte=since, observed_at__lte=until
    )
    if source is not None:
        qs = qs.filter(source=source)
    return list(qs.order_by("observed_at", "source").values_list("observed_at", "value"))


class _Epoch(Func):
    """Seconds since the epoch of a datetime column, on SQLite and PostgreSQL."""

    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # julianday() rather than strftime('%s'): a literal % would clash with the driver's parameter style;
        # rounded to the millisecond because a day fraction is not exact (10:00 would read 09:59:59.99998).
        return self.as_sql(
            compiler,
            connection,
            template="ROUND((julianday(%(expressions)s) - 2440587.5) * 86400.0, 3)",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)", **extra)


def bucketed(
    run: EcmoRun | int,
    parameters: Sequence[str],
    *,
    since: dt.datetime,
    until: dt.datetime,
    bucket_s: int,
) -> dict[str, list[tuple[float, float]]]:
    """Mean of each parameter per time bucket of ``bucket_s`` seconds, aggregated in SQL (charts of long spans).

    Returns ``{code: [(bucket start, epoch seconds), mean), ...]}`` oldest first. Probe dropouts (blood flow
    below 0.1 L/min) are left out so they do not drag a mean down. One query.
    """
    bucket_s = max(1, int(bucket_s))
    # FLOOR before the cast: PostgreSQL rounds when casting to integer, SQLite truncates.
    bucket = Cast(Floor(_Epoch(F("observed_at")) / bucket_s), IntegerField())
    qs = (
        Sample.objects.filter(
            run_id=_run_id(run),
            parameter__in=list(parameters),
            observed_at__gte=since,
            observed_at__lte=until,
        )
        .exclude(parameter="blood_flow_l_min", value__lt=0.1)
        .annotate(bucket=bucket)
        .values("parameter", "bucket")
        .annotate(mean=Avg("value"))
        .order_by("parameter", "bucket")
        .values_list("parameter", "bucket", "mean")
    )
    result: dict[str, list[tuple[float, float]]] = {p: [] for p in parameters}
    for parameter, number, mean in qs:
        result[parameter].append((float(number) * bucket_s, float(mean)))
    return result


ROLLUP_FREE = frozenset({"blood_flow_l_min"})
"""Parameters whose chart mean leaves samples out (probe dropouts): always averaged from the samples."""


def bucketed_from_rollups(
    run: EcmoRun | int,
    parameters: Sequence[str],
    *,
    since: dt.datetime,
    until: dt.datetime,
    bucket_s: int,
) -> dict[str, list[tuple[float, float]]]:
    """As :func:`bucketed` for ``bucket_s`` a whole number of minutes, read from the per-minute rollups
    (``surveillance.rollup``): the whole minutes inside [since, until] from the rollups, the part-minutes at
    either end and :data:`ROLLUP_FREE` parameters from the samples. The same buckets and means (up to the order
    of a floating-point sum); three or four queries."""
    from ecmo_web.surveillance import rollup
    from ecmo_web.surveillance.models import SampleRollup

    run_id = _run_id(run)
    bucket_s = max(60, int(bucket_s) // 60 * 60)
    codes = [p for p in parameters if p not in ROLLUP_FREE]
    result = bucketed(
        run_id, [p for p in parameters if p in ROLLUP_FREE], since=since, until=until, bucket_s=bucket_s
    )
    sums: dict[tuple[str, int], list[float]] = {}

    def add(rows: Any) -> None:
        for parameter, number, n, total in rows:
            entry = sums.setdefault((parameter, int(number)), [0.0, 0.0])
            entry[0] += float(n)
            entry[1] += float(total)

    def key(column: str) -> Any:
        return Cast(Floor(_Epoch(F(column)) / bucket_s), IntegerField())

    first, end = rollup.covered(since, until, rollup.MINUTE)
    if first < end and codes:
        add(
            SampleRollup.objects.filter(
                run_id=run_id, parameter__in=codes, width_s=rollup.MINUTE, bucket__gte=first, bucket__lt=end
            )
            .annotate(number=key("bucket"))
            .values("parameter", "number")
            .annotate(count=Sum("n"), total_sum=Sum("total"))
            .values_list("parameter", "number", "count", "total_sum")
        )
        spans = [(since, first, False), (end, until, True)]
    else:
        spans = [(since, until, True)]
    for low, high, inclusive in spans if codes else ():
        upper = {"observed_at__lte": high} if inclusive else {"observed_at__lt": high}
        add(
            Sample.objects.filter(run_id=run_id, parameter__in=codes, observed_at__gte=low, **upper)
            .annotate(number=key("observed_at"))
            .values("parameter", "number")
            .annotate(count=Count("id"), total_sum=Sum("value"))
            .values_list("parameter", "number", "count", "total_sum")
        )
    for code in codes:
        result[code] = [
            (float(number) * bucket_s, total / n)
            for (parameter, number), (n, total) in sorted(sums.items())
            if parameter == code
        ]
    return result


def _stats(
    run_id: int, parameters: Sequence[str], since: dt.datetime, until: dt.datetime
) -> dict[str, dict[str, Any]]:
    rows = (
        Sample.objects.filter(
            run_id=run_id, parameter__in=list(parameters), observed_at__gte=since, observed_at__lte=until
        )
        .exclude(parameter="blood_flow_l_min", value__lt=0.1)
        .values("parameter")
        .annotate(low=Min("value"), high=Max("value"), mean=Avg("value"), n=Count("id"))
        .values_list("parameter", "low", "high", "mean", "n")
    )
    return {p: {"min": low, "max": high, "mean": mean, "count": n} for p, low, high, mean, n in rows}


def _current_components(run_id: int, now: dt.datetime) -> list[Component]:
    return list(
        Component.objects.filter(circuit__run_id=run_id, installed_at__lte=now)
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=now))
        .order_by("kind", "installed_at")
    )


def _component_dict(component: Component, now: dt.datetime) -> dict[str, Any]:
    age = component.age(now)
    return {
        "id": component.pk,
        "kind": component.kind,
        "label": component.get_kind_display(),
        "maker": component.maker,
        "model": component.model,
        "lot": component.lot,
        "serial": component.serial,
        "installed_at": component.installed_at,
        "age_hours": round(age.total_seconds() / 3600, 1),
        "days_in_service": round(age.total_seconds() / 86400, 1),
    }


def component_life(
    run: EcmoRun | int,
    *,
    now: dt.datetime,
    states: dict[str, RuleState] | None = None,
    components: list[Component] | None = None,
) -> list[dict[str, Any]]:
    """Each component in use: days in service, and for the oxygenator the ΔP baseline, the alert threshold and the
    projected time the ΔP trend of the last 24 h reaches it (``ecmo_core.project_delta_p_crossing``)."""
    run_id = _run_id(run)
    current = _current_components(run_id, now) if components is None else components
    if states is None:
        states = {s.rule_id: s for s in RuleState.objects.filter(run_id=run_id)}
    result = [_component_dict(c, now) for c in current]
    oxygenators = [c for c in current if c.kind == ComponentKind.OXYGENATOR]
    for entry in result:
        entry.update(baseline_mmhg=None, threshold_mmhg=None, projected_crossing_at=None, projection_note="")
    if not oxygenators:
        return result
    oxygenator = oxygenators[-1]
    entry = next(e for e in result if e["id"] == oxygenator.pk)
    state = states.get("oxygenator.delta_p_rise")
    evidence = state.evidence if state is not None else {}
    baseline = evidence.get("baseline_delta_p_mmhg")
    installed = evidence.get("oxygenator_installed_at")
    if baseline is None or installed is None or not _same_time(installed, oxygenator.installed_at):
        entry["projection_note"] = (
            "no ΔP baseline yet for this oxygenator (the first 6 h of data after it was fitted)"
        )
        return result
    if isinstance(run, int):
        program_id = EcmoRun.objects.filter(pk=run_id).values_list("program_id", flat=True).first() or 0
    else:
        program_id = run.program_id
    config = config_of(setting_at(int(program_id), now))
    rise = config.delta_p_rise.rise_fraction
    since = max(oxygenator.installed_at, now - dt.timedelta(hours=24))
    rows = Sample.objects.filter(
        run_id=run_id,
        observed_at__gte=since,
        observed_at__lte=now,
        parameter__in=[
            "pre_oxygenator_pressure_mmhg",
            "post_oxygenator_pressure_mmhg",
            "membrane_delta_p_mmhg",
        ],
    ).values_list("observed_at", "parameter", "value", "source")
    points = delta_p_points(
        [CoreSample(at, p, v, core_source(s)) for at, p, v, s in rows],
        since=since,
        until=now,
        pairing_tolerance_s=config.engine.pairing_tolerance_s,
    )
    entry["baseline_mmhg"] = float(baseline)
    entry["threshold_mmhg"] = float(baseline) * (1 + rise)
    entry["rise_fraction"] = rise
    crossing = None
    if float(baseline) > 0:
        crossing = project_delta_p_crossing(
            points, now=now, baseline_mmhg=float(baseline), rise_fraction=rise
        )
    entry["projected_crossing_at"] = crossing
    if crossing is None:
        entry["projection_note"] = (
            "ΔP is not rising over the last 24 h (or too few readings): no crossing projected"
        )
    elif crossing <= now:
        entry["projection_note"] = "the ΔP trend is already at or above the threshold"
    else:
        entry["projection_note"] = "straight-line trend of the last 24 h; a planning aid, not an alert"
    return result


def _same_time(iso: Any, value: dt.datetime) -> bool:
    try:
        parsed = dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return False
    return abs((parsed - value).total_seconds()) < 1


def _rule_dict(state: RuleState | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {
        "status": state.status,
        "severity": state.severity,
        "since": state.since,
        "message": state.message,
        "evidence": state.evidence,
        "evaluated_at": state.evaluated_at,
    }


def perfusion_summary(run: EcmoRun, *, now: dt.datetime, hours: int = 24) -> dict[str, Any]:
    """What a perfusionist reports at rounds for the last ``hours``: circuit values now and their range, membrane ΔP
    against its baseline, post-oxygenator gases, component ages and life projection, alerts in the window with their
    acknowledgement and resolution, and anticoagulation against its target. About ten queries."""
    since = now - dt.timedelta(hours=hours)
    codes = [*CIRCUIT, *POST_OXYGENATOR]
    latest = latest_values(run, codes, now=now, max_age=dt.timedelta(hours=hours))
    labs = latest_values(run, LABS, now=now, max_age=LAB_MAX_AGE)
    stats = _stats(run.pk, codes, since, now)
    states = {s.rule_id: s for s in RuleState.objects.filter(run=run)}

    def value(code: str) -> dict[str, Any] | None:
        if code not in latest:
            return None
        v, at, source = latest[code]
        return {"value": v, "at": at, "source": source, "unit": PARAMETERS[code].unit, **stats.get(code, {})}

    delta_state = states.get("oxygenator.delta_p_rise")
    ev = delta_state.evidence if delta_state is not None else {}
    pump_state = states.get("pump.flow_per_rpm_fall")
    pev = pump_state.evidence if pump_state is not None else {}
    pre, post = latest.get("pre_oxygenator_pressure_mmhg"), latest.get("post_oxygenator_pressure_mmhg")
    components = _current_components(run.pk, now)
    alerts = list(
        Alert.objects.filter(run=run)
        .filter(Q(resolved_at__isnull=True) | Q(opened_at__gte=since) | Q(resolved_at__gte=since))
        .select_related("acknowledged_by", "resolved_by")
        .order_by("-opened_at")
    )
    targets: dict[str, RunTarget] = {}
    for set_target in RunTarget.objects.filter(
        run=run, parameter__in=ANTICOAGULATION_TESTS, effective_from__lte=now
    ).order_by("effective_from", "pk"):
        targets[set_target.parameter] = set_target
    anticoagulation = []
    for test in ANTICOAGULATION_TESTS:
        target = targets.get(test)
        result = labs.get(test)
        if target is None and result is None:
            continue
        in_range = None
        if target is not None and result is not None:
            in_range = (target.low is None or result[0] >= target.low) and (
                target.high is None or result[0] <= target.high
            )
        anticoagulation.append(
            {
                "test": test,
                "unit": PARAMETERS[test].unit,
                "value": None if result is None else result[0],
                "at": None if result is None else result[1],
                "low": None if target is None else target.low,
                "high": None if target is None else target.high,
                "in_range": in_range,
            }
        )
    return {
        "run_id": run.pk,
        "now": now,
        "hours": hours,
        "blood_flow_l_min": value("blood_flow_l_min"),
        "pump_speed_rpm": value("pump_speed_rpm"),
        "access_pressure_mmhg": value("access_pressure_mmhg"),
        "sweep_gas_l_min": value("sweep_gas_l_min"),
        "fdo2": value("fdo2"),
        "blood_temperature_c": value("blood_temperature_c"),
        "delta_p": {
            "now_mmhg": ev.get("delta_p_mmhg", None if pre is None or post is None else pre[0] - post[0]),
            "baseline_mmhg": ev.get("baseline_delta_p_mmhg"),
            "mode": ev.get("mode"),
            "value": ev.get("value"),
            "baseline_value": ev.get("baseline_value"),
            "rise_fraction": ev.get("rise_fraction"),
            "threshold_fraction": ev.get("threshold_fraction"),
            "flow_l_min": ev.get("flow_l_min"),
            "baseline_flow_l_min": ev.get("baseline_flow_l_min"),
            "rule": _rule_dict(delta_state),
        },
        "flow_per_rpm": {
            "rule": _rule_dict(pump_state),
            **{k: v for k, v in pev.items() if not k.endswith("_at")},
        },
        "post_oxygenator": {code: value(code) for code in POST_OXYGENATOR},
        "labs": {
            code: {"value": v, "at": at, "source": s, "unit": PARAMETERS[code].unit}
            for code, (v, at, s) in labs.items()
        },
        "components": [_component_dict(c, now) for c in components],
        "component_life": component_life(run, now=now, states=states, components=components),
        "alerts": [alert_dict(a) for a in alerts],
        "anticoagulation": anticoagulation,
        "rules": {rule_id: _rule_dict(state) for rule_id, state in states.items()},
    }


def _alert_order(alert: Alert) -> tuple[int, int, float]:
    firing = alert.status == AlertStatus.FIRING
    return (0 if firing else 1, -SEVERITY_RANK.get(alert.severity, 0), -alert.opened_at.timestamp())


def open_alerts(runs: Iterable[EcmoRun | int]) -> dict[int, list[Alert]]:
    """Unresolved alerts of each run, firing first, critical before warning, newest first. One query."""
    ids = [_run_id(r) for r in runs]
    result: dict[int, list[Alert]] = {run_id: [] for run_id in ids}
    if not ids:
        return result
    for alert in Alert.objects.filter(run_id__in=ids, resolved_at__isnull=True).select_related(
        "acknowledged_by"
    ):
        result[alert.run_id].append(alert)
    for alerts in result.values():
        alerts.sort(key=_alert_order)
    return result


def sort_alerts(alerts: list[Alert]) -> list[Alert]:
    return sorted(alerts, key=_alert_order)
