"""Demo step: telemetry, hourly checks and labs for the five demo runs (shared/clinical/demo-scenarios.md), then
the rules evaluated along each run, and the alerts acknowledged, escalated and resolved as the scenarios tell.

Telemetry: each table row's values are held until the next row, every 3 minutes from the start of the run to its
end (or now), with fixed-seed noise (flow ±0.05 L/min, access ±3 mmHg, rpm ±20, one shared ±3 mmHg on pre and
post so that ΔP moves only where a row moves it); the §9 artefacts are reproduced (disconnected probe, clock jump,
duplicate HL7 message, noisy chatter). Checks are hourly (source "check"), labs as listed (source "lab"); the
post-oxygenator PO2/PCO2 are blood gases (lab) at each row and every morning at 06:00.

Everything is written in bulk (one ingest batch and one audit event per run for the telemetry, one for the checks)
so that ``make demo`` stays fast; the alerts come from the same ``evaluate_run`` as live data.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ecmo_core.surveillance import Sample
from ecmo_web.audit.chain import append
from ecmo_web.demo import story
from ecmo_web.demo.seed import DemoContext
from ecmo_web.runs.models import Component, EcmoRun
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.models import (
    CHECK_PARAMETERS,
    Alert,
    CircuitCheck,
    ClotFinding,
    IngestBatch,
)

# Three samples must fall in every 10-min median window (engine.min_window_samples) whenever the rules are
# evaluated, also between samples (a check, a lab, an acknowledgement): 3 min is the sparsest grid that ensures it.
GRID = dt.timedelta(minutes=3)
COLUMNS = (
    "blood_flow_l_min",
    "pump_speed_rpm",
    "access_pressure_mmhg",
    "pre_oxygenator_pressure_mmhg",
    "post_oxygenator_pressure_mmhg",
    "sweep_gas_l_min",
    "fdo2",
    "pre_oxygenator_so2",
    "post_oxygenator_so2",
    "post_oxygenator_po2_mmhg",
    "post_oxygenator_pco2_mmhg",
)
GASES = ("post_oxygenator_po2_mmhg", "post_oxygenator_pco2_mmhg")  # blood gases: lab samples, not telemetry
LAB_KEYS = {
    "pfhb": "plasma_free_hb_mg_dl",
    "ldh": "ldh_u_l",
    "axa": "anti_xa_iu_ml",
    "aptt": "aptt_s",
    "act": "act_s",
    "fib": "fibrinogen_mg_dl",
    "plt": "platelets_10e3_ul",
    "hb": "hemoglobin_g_dl",
    "ddimer": "d_dimer_mg_l",
}


@dataclass
class Ack:
    """What happened to an alert in the story: who acknowledged (and when, with what comment), escalation,
    resolution (linked component: the kind fitted at that time)."""

    rule_id: str
    opened: str  # scenario time the alert is expected to open (the nearest alert within 3 h is taken)
    ack_by: str = ""
    ack_at: str = ""
    comment: str = ""
    resolve_by: str = ""
    resolve_at: str = ""
    resolution: str = ""
    component: str = ""  # kind of the component fitted at resolve_at
    escalate_at: str = ""
    escalate_to: str = "intensivist"


@dataclass
class Scenario:
    code: str
    rows: list[tuple[str, dict[str, float]]]
    labs: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    extra: list[tuple[str, str, float, str]] = field(default_factory=list)  # (stamp, code, value, source)
    first_checks: list[str] = field(default_factory=list)  # checks before the hourly rhythm starts
    skip_checks: tuple[str, str] | None = None  # no check in this span (transport)
    temperature: float = 36.8
    acks: list[Ack] = field(default_factory=list)
    story: dict[str, Any] = field(
        default_factory=dict
    )  # artefacts and one-off events (``[story]`` in the file)


# --- the five runs (demo-scenarios §1–5), read from demo/story/DEMO-000N.toml ---------------------------------


def _scenario(data: dict[str, Any]) -> Scenario:
    telemetry, checks = data["telemetry"], data.get("checks", {})
    rows = []
    for stamp, *values in telemetry["rows"]:
        extra = values.pop() if values and isinstance(values[-1], dict) else {}
        rows.append((stamp, dict(zip(COLUMNS, values, strict=True)) | extra))
    return Scenario(
        data["patient"]["code"],
        rows=rows,
        labs=[
            (lab["at"], {LAB_KEYS.get(k, k): v for k, v in lab.items() if k != "at"})
            for lab in telemetry.get("labs", [])
        ],
        extra=[(o["at"], o["parameter"], o["value"], o["source"]) for o in telemetry.get("other", [])],
        first_checks=list(checks.get("first", [])),
        skip_checks=tuple(checks["none_between"]) if "none_between" in checks else None,
        temperature=checks.get("temperature_c", 36.8),
        acks=[
            Ack(
                a["rule"],
                a["opened"],
                ack_by=a.get("acknowledged_by", ""),
                ack_at=a.get("acknowledged_at", ""),
                comment=a.get("comment", ""),
                resolve_by=a.get("resolved_by", ""),
                resolve_at=a.get("resolved_at", ""),
                resolution=a.get("resolution", ""),
                component=a.get("component", ""),
                escalate_at=a.get("escalated_at", ""),
                escalate_to=a.get("escalated_to", "intensivist"),
            )
            for a in data.get("alerts", [])
        ],
        story=data.get("story", {}),
    )


SCENARIOS = tuple(_scenario(data) for data in story.runs())

# Visual findings at the checks (demo-scenarios §6), by run: (from, until, finding) with the size at that time.
Finding = tuple[str, str, dict[str, Any]]
FINDINGS: dict[str, list[Finding]] = {
    data["patient"]["code"]: [
        (f["from"], f["until"], {k: v for k, v in f.items() if k not in ("from", "until")})
        for f in data["checks"]["findings"]
    ]
    for data in story.runs()
    if data.get("checks", {}).get("findings")
}
NOTES = {
    (data["patient"]["code"], note["at"]): note["text"]
    for data in story.runs()
    for note in data.get("checks", {}).get("notes", [])
}


# --- generation -------------------------------------------------------------------------------------------------


def _grid(start: dt.datetime, end: dt.datetime, step: dt.timedelta = GRID) -> list[dt.datetime]:
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    first = start + (-(start - epoch)) % step  # the first grid point at or after start
    times = []
    t = first
    while t <= end:
        times.append(t)
        t += step
    return times


def _row_at(rows: list[tuple[dt.datetime, dict[str, float]]], t: dt.datetime) -> dict[str, float]:
    current = rows[0][1]
    for at, values in rows:
        if at <= t:
            current = values
        else:
            break
    return current


def _noise(rng: random.Random, spread: float) -> float:
    return rng.triangular(-spread, spread, 0.0)


@dataclass
class Built:
    device: list[Sample]
    lab: list[Sample]
    checks: list[tuple[dt.datetime, dict[str, Any]]]


def build(ctx: DemoContext, sc: Scenario, run: EcmoRun) -> Built:
    code = sc.code
    at: Callable[[str], dt.datetime] = lambda stamp: ctx.at(code, stamp)  # noqa: E731
    end = run.ended_at or ctx.now
    rows = sorted(((at(s), v) for s, v in sc.rows), key=lambda r: r[0])
    rng = random.Random(f"ecmo-steward-demo-{code}")
    device: list[Sample] = []
    span: Callable[[str], tuple[dt.datetime, dt.datetime] | None] = lambda key: (  # noqa: E731
        (at(sc.story[key][0]), at(sc.story[key][1])) if key in sc.story else None
    )
    jump, chatter, dropout = span("console_clock_fast"), span("chatter"), span("flow_probe_disconnected")
    for t in _grid(run.started_at, end):
        values = _row_at(rows, t)
        shared = _noise(rng, 3)
        noisy = {
            "blood_flow_l_min": values["blood_flow_l_min"] + _noise(rng, 0.05),
            "pump_speed_rpm": values["pump_speed_rpm"] + _noise(rng, 20),
            "access_pressure_mmhg": values["access_pressure_mmhg"] + _noise(rng, 3),
            "pre_oxygenator_pressure_mmhg": values["pre_oxygenator_pressure_mmhg"] + shared,
            "post_oxygenator_pressure_mmhg": values["post_oxygenator_pressure_mmhg"] + shared,
        }
        observed = t
        if jump and jump[0] <= t < jump[1]:
            observed = t + dt.timedelta(minutes=59, seconds=30)  # console clock 59 min fast (§9)
        if chatter and chatter[0] <= t < chatter[1]:
            continue  # the chatter window has its own 30-s samples below
        if dropout and dropout[0] <= t < dropout[1]:
            noisy["blood_flow_l_min"] = 0.0  # disconnected probe reads 0.0 (§9)
        for key, value in values.items():
            if key in GASES or key in LAB_KEYS.values():
                continue
            v = noisy.get(key, value)
            if key in ("blood_flow_l_min",):
                v = max(0.0, round(v, 2))
            elif key in ("pump_speed_rpm",):
                v = round(v / 10) * 10
            elif key.endswith("_mmhg"):
                v = round(v)
            device.append(Sample(observed, key, v, "device"))
        if "blood_temperature_c" not in values and t.minute == 0 and t.hour % 2 == 0:
            pass  # blood temperature comes from the hourly check on runs without a heater feed
    if chatter:
        t = chatter[0]
        values = _row_at(rows, t)
        while t < chatter[1]:
            device += [
                Sample(t, "blood_flow_l_min", round(rng.uniform(3.1, 4.3), 2), "device"),
                Sample(t, "access_pressure_mmhg", round(rng.uniform(-135, -95)), "device"),
                Sample(t, "pump_speed_rpm", values["pump_speed_rpm"], "device"),
            ]
            t += dt.timedelta(seconds=30)
    lab: list[Sample] = []
    for stamp, values in sc.labs:
        lab += [Sample(at(stamp), k, v, "lab") for k, v in values.items()]
    # Post-oxygenator blood gases at each table row and every morning at 06:00 (values of the row in effect).
    gas_times = {r[0] for r in rows} | {
        t for t in _grid(run.started_at, end, dt.timedelta(hours=1)) if t.astimezone(ctx.clock.tz).hour == 6
    }
    for t in sorted(gas_times):
        if not run.started_at <= t <= end:
            continue
        values = _row_at(rows, t)
        lab += [Sample(t, k, values[k], "lab") for k in GASES]
    for stamp, key, value, source in sc.extra:
        (device if source == "device" else lab).append(Sample(at(stamp), key, value, source))
    return Built(device, lab, _checks(ctx, sc, run, rows, end))


def _checks(
    ctx: DemoContext,
    sc: Scenario,
    run: EcmoRun,
    rows: list[tuple[dt.datetime, dict[str, float]]],
    end: dt.datetime,
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    code = sc.code
    times = {ctx.at(code, s) for s in sc.first_checks}
    skip = (ctx.at(code, sc.skip_checks[0]), ctx.at(code, sc.skip_checks[1])) if sc.skip_checks else None
    first_hourly = max(times) if times else run.started_at
    # Run 2's latest check has not been recorded: its documentation.check_overdue alert is open (unacknowledged)
    # when the demo starts, so the run page, the run list and the alerts page show a live alert.
    gap = sc.story.get("checks_stop_before_now_min")
    last_due = end - dt.timedelta(minutes=gap) if gap and run.ended_at is None else end
    for t in _grid(first_hourly + dt.timedelta(minutes=1), last_due, dt.timedelta(hours=1)):
        if skip and skip[0] <= t <= skip[1]:
            continue
        times.add(t)
    findings = [(ctx.at(code, a), ctx.at(code, b), f) for a, b, f in FINDINGS.get(code, [])]
    heater_set_c, heater_before = sc.story.get("heater_set_c", 37.0), sc.story.get("heater_set_c_before")
    seen: set[str] = set()
    checks = []
    for t in sorted(times):
        if not run.started_at <= t <= end:
            continue
        values = _row_at(rows, t)
        local = t.astimezone(ctx.clock.tz)
        data: dict[str, Any] = {k: values[k] for k in CHECK_PARAMETERS if k in values}
        data["blood_temperature_c"] = values.get(
            "blood_temperature_c", sc.temperature + (local.hour % 3 - 1) / 10
        )
        data["heater_set_temperature_c"] = heater_set_c
        if heater_before and t <= ctx.at(code, heater_before[0]):
            data["heater_set_temperature_c"] = heater_before[1]
        sweep_off = values.get("sweep_gas_l_min", 1) == 0
        data["colour_difference"] = "not_applicable" if sweep_off else "present"
        clots = []
        for start, stop, finding in findings:
            if start <= t <= stop:
                key = f"{finding['location']}|{finding['size_mm']}"
                change = finding.get("first_change", "new") if key not in seen else "unchanged"
                seen.add(key)
                clots.append({k: v for k, v in finding.items() if k != "first_change"} | {"change": change})
        notes = NOTES.get((code, _stamp(ctx, code, t)), "")
        checks.append((t, {"data": data, "clots": clots, "notes": notes}))
    return checks


def _stamp(ctx: DemoContext, code: str, t: dt.datetime) -> str:
    day0 = ctx.clock.day_n - dt.timedelta(days=ctx.n_day[code])
    local = t.astimezone(ctx.clock.tz)
    return f"D{(local.date() - day0).days} {local:%H:%M}"


def _recorder(ctx: DemoContext, t: dt.datetime) -> Any:
    """Who did the hourly check: the second perfusionist by day, the ECMO specialist by night (the demo's first
    perfusionist — the account a newcomer signs in with — acknowledges and resolves in the stories instead)."""
    hour = t.astimezone(ctx.clock.tz).hour
    return ctx.users["perfusionist2"] if 8 <= hour < 20 else ctx.users["ecmo_specialist"]


def _store_checks(
    ctx: DemoContext,
    run: EcmoRun,
    checks: list[tuple[dt.datetime, dict[str, Any]]],
    device_times: list[dt.datetime],
) -> int:
    """Bulk-create the hourly checks with their clot findings and their samples (source "check")."""
    rows = []
    for t, spec in checks:
        data = spec["data"]
        prefilled = [k for k in CHECK_PARAMETERS if k in data and k != "blood_temperature_c"]
        i = bisect_right(device_times, t)
        console_at = (
            device_times[i - 1] if i and device_times[i - 1] >= t - dt.timedelta(minutes=10) else None
        )
        detail = (
            {}
            if console_at is None
            else {k: {"value": data[k], "at": console_at.isoformat(), "source": "device"} for k in prefilled}
        )
        rows.append(
            CircuitCheck(
                run=run,
                observed_at=t,
                recorded_by=_recorder(ctx, t),
                recorded_at=t + dt.timedelta(minutes=3),
                notes=spec["notes"],
                prefilled_fields=prefilled if console_at else [],
                prefill_detail=detail,
                **data,
            )
        )
    created = CircuitCheck.objects.bulk_create(rows)
    ClotFinding.objects.bulk_create(
        [
            ClotFinding(check_record=c, **clot)
            for c, (_, spec) in zip(created, checks, strict=True)
            for clot in spec["clots"]
        ]
    )
    batch = IngestBatch.objects.create(
        run=run,
        kind=IngestBatch.Kind.CHECK,
        ref="demo-checks",
        actor_name="system:demo",
        received_at=ctx.now,
        created_count=0,
    )
    samples = []
    for check in created:
        for key in (*CHECK_PARAMETERS, "bubble_detected"):
            value = (
                (1.0 if check.air_in_circuit else 0.0) if key == "bubble_detected" else getattr(check, key)
            )
            if value is not None:
                samples.append(
                    (run.pk, key, check.observed_at, value, "check", check.recorded_at, batch.pk, check.pk)
                )
    actions.insert_sample_rows(samples)
    batch.created_count = len(samples)
    batch.save(update_fields=["created_count"])
    append(
        actor=ctx.users["perfusionist"],
        action="check.recorded",
        obj=run,
        after={
            "demo_bulk": True,
            "checks": len(created),
            "samples": len(samples),
            "from": created[0].observed_at if created else None,
            "to": created[-1].observed_at if created else None,
        },
        reason="demo seed: hourly checks of demo-scenarios §6",
    )
    return len(created)


def _find_alert(ctx: DemoContext, run: EcmoRun, ack: Ack) -> Alert | None:
    expected = ctx.at(run.patient.code, ack.opened)
    candidates = [
        a
        for a in Alert.objects.filter(run=run, rule_id=ack.rule_id)
        if abs((a.opened_at - expected).total_seconds()) <= 3 * 3600
    ]
    return min(candidates, key=lambda a: abs((a.opened_at - expected).total_seconds()), default=None)


def _play_story(ctx: DemoContext, sc: Scenario, run: EcmoRun) -> None:
    """Evaluate the run up to each resolution of the story, then play what people did with that alert
    (escalation, acknowledgement, resolution), so that a resolution ends its episode before the rule fires again —
    as it happened on the ward."""
    code = sc.code
    for ack in sorted(sc.acks, key=lambda a: ctx.at(code, a.resolve_at or a.ack_at)):
        until = ctx.at(code, ack.resolve_at or ack.ack_at)
        actions.evaluate_run(run, now=until, replay_from=run.started_at)
        alert = _find_alert(ctx, run, ack)
        if alert is None:
            ctx.say(f"  (demo) {code}: no {ack.rule_id} alert near {ack.opened}")
            continue
        if ack.escalate_at:
            actions.escalate_alert(
                actor_or_system=actions.WORKER,
                alert=alert,
                role=ack.escalate_to,
                at=max(ctx.at(code, ack.escalate_at), alert.opened_at),
                now=ctx.now,
                reason="unacknowledged warning for 30 min",
            )
        if ack.ack_by:
            actions.acknowledge_alert(
                actor=ctx.users[ack.ack_by],
                alert=alert,
                comment=ack.comment,
                at=max(ctx.at(code, ack.ack_at), alert.opened_at),
                now=ctx.now,
            )
        if ack.resolve_by:
            component = None
            if ack.component:
                component = (
                    Component.objects.filter(
                        circuit__run=run,
                        kind=ack.component,
                        installed_at__lte=until + dt.timedelta(minutes=1),
                    )
                    .order_by("-installed_at")
                    .first()
                )
            actions.resolve_alert(
                actor=ctx.users[ack.resolve_by],
                alert=alert,
                comment=ack.resolution,
                component=component,
                at=max(until, alert.opened_at),
                now=ctx.now,
            )
    actions.evaluate_run(run, now=ctx.now, replay_from=run.started_at)


def seed(ctx: DemoContext) -> None:
    director = ctx.users["director"]
    assert ctx.program is not None
    earliest = min(r.started_at for r in ctx.runs.values())
    actions.save_settings(
        actor=director,
        program=ctx.program,
        rules={},
        escalate_warning_after_min=30,
        escalate_critical_after_min=10,
        escalate_to_role="intensivist",
        effective_from=earliest - dt.timedelta(days=1),
        now=ctx.now,
        reason="Program defaults adopted: every threshold as in docs/rules (local protocol)",
    )
    for sc in SCENARIOS:
        run = ctx.runs[sc.code]
        built = build(ctx, sc, run)
        _store_checks(
            ctx,
            run,
            built.checks,
            sorted(s.observed_at for s in built.device if s.parameter == "blood_flow_l_min"),
        )
        actions.ingest_samples(
            actor_or_system=actions.DEMO,
            run=run,
            samples=[*built.device, *built.lab],
            kind=IngestBatch.Kind.DEMO,
            batch_ref="demo-telemetry",
            now=ctx.now,
            evaluate=False,
        )
        if "duplicate_hl7" in sc.story:
            _duplicate_hl7(ctx, run, sc.story["duplicate_hl7"])
        _play_story(ctx, sc, run)
        if "amended_check" in sc.story:
            _amend_one_check(ctx, run, sc.story["amended_check"])


def _duplicate_hl7(ctx: DemoContext, run: EcmoRun, spec: dict[str, Any]) -> None:
    """§9: the same HL7 ORU arrives twice; the second adds nothing."""
    at = ctx.at(run.patient.code, spec["at"])
    message = [
        {"observed_at": at, "parameter": key, "value": spec[key]}
        for key in ("blood_flow_l_min", "pump_speed_rpm", "access_pressure_mmhg")
    ]
    for _ in range(2):
        actions.ingest_samples(
            actor_or_system=actions.MLLP,
            run=run,
            samples=message,
            source=f"hl7:{spec['console']}",
            batch_ref=spec["control_id"],
            kind=IngestBatch.Kind.HL7,
            now=ctx.now,
            evaluate=False,
        )


def _amend_one_check(ctx: DemoContext, run: EcmoRun, spec: dict[str, Any]) -> None:
    """An amendment with its reason; the original stays readable (check history)."""
    check = CircuitCheck.objects.filter(run=run, observed_at=ctx.at(run.patient.code, spec["at"])).first()
    if check is None:
        return
    data = {f: getattr(check, f) for f in actions.CHECK_FIELDS}
    original_access = check.access_pressure_mmhg
    check.access_pressure_mmhg = spec["access_pressure_mmhg_typed"]  # the value first typed in, for the story
    check.save(update_fields=["access_pressure_mmhg"])
    data["access_pressure_mmhg"] = original_access
    actions.amend_check(
        actor=ctx.users[spec["by"]],
        check=check,
        data=data,
        now=ctx.now,
        reason=spec["reason"],
    )
