"""The perfusion section of a rounds entry, generated from the run's last 24 h.

Circuit data (flows, ΔP against its baseline, post-oxygenator gases, alerts and what was done, anticoagulation in or
out of range) come from the surveillance app's ``queries.perfusion_summary``. Without that app, or without any
samples, the section says "no circuit data yet" — nothing is invented. Component ages, MCS settings and planned
circuit work come from this project's own records. The result is plain JSON, kept on the entry as it was when
generated, with a draft of the narrative that the perfusionist edits.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from ecmo_core import units
from ecmo_core.surveillance.parameters import PARAMETERS
from ecmo_web.decisions.models import Decision, Kind, Status
from ecmo_web.runs.models import EcmoRun

HOURS = 24

METRICS: tuple[tuple[str, str, int], ...] = (
    ("blood_flow_l_min", "Flow", 2),
    ("pump_speed_rpm", "Pump speed", 0),
    ("access_pressure_mmhg", "Access pressure", 0),
    ("sweep_gas_l_min", "Sweep", 1),
    ("fdo2", "FdO2", 2),
    ("blood_temperature_c", "Blood temperature", 1),
)
POST_OXYGENATOR: tuple[tuple[str, str, int], ...] = (
    ("post_oxygenator_po2_mmhg", "Post-oxygenator PO2", 0),
    ("post_oxygenator_pco2_mmhg", "Post-oxygenator PCO2", 0),
    ("pre_oxygenator_so2", "Pre-oxygenator SO2", 2),
    ("post_oxygenator_so2", "Post-oxygenator SO2", 2),
)
LABS: tuple[tuple[str, str, int], ...] = (
    ("plasma_free_hb_mg_dl", "pfHb", 0),
    ("ldh_u_l", "LDH", 0),
    ("fibrinogen_mg_dl", "Fibrinogen", 0),
    ("platelets_10e3_ul", "Platelets", 0),
    ("hemoglobin_g_dl", "Hb", 1),
    ("d_dimer_mg_l", "D-dimer", 1),
)


def _summary(run: EcmoRun, now: dt.datetime) -> dict[str, Any] | None:
    try:
        from ecmo_web.surveillance.queries import perfusion_summary
    except ImportError:  # pragma: no cover - the surveillance app is optional
        return None
    return perfusion_summary(run, now=now, hours=HOURS)


# How the ΔP rule judged (its evidence's "mode") in words: raw ΔP, or resistance ΔP/flow when flow changed.
_MODE_WORDS = {
    "delta_p": "ΔP",
    "delta_p (flow unknown)": "ΔP, flow unknown",
    "resistance": "ΔP/flow",
}


def _local(key: str, value: Any, prefs: units.UnitPreferences) -> str:
    """A canonical value as shown in the program's units, without the unit ("10.0" kPa, "60" %)."""
    if value is None:
        return "—"
    return units.format_local(key, float(value), prefs, with_unit=False)


def _metric(
    key: str, label: str, item: dict[str, Any] | None, prefs: units.UnitPreferences
) -> dict[str, Any] | None:
    """One figure of the section in the program's units (``ecmo_core.units``): value, 24 h range, unit."""
    if not item:
        return None
    low, high = item.get("min"), item.get("max")
    spread = (
        f"{_local(key, low, prefs)} to {_local(key, high, prefs)}"
        if low is not None and high is not None and low != high
        else ""
    )
    unit = units.unit_of(key, prefs)
    return {
        "key": key,
        "label": label,
        "value": _local(key, item["value"], prefs),
        "unit": "" if unit in ("pH", "0/1") else unit,
        "range": spread,
        "at": item.get("at"),
    }


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _own_records(run: EcmoRun, now: dt.datetime) -> dict[str, Any]:
    components = []
    for circuit in run.circuits.all():
        for c in circuit.components.all():
            if c.installed_at <= now and (c.removed_at is None or c.removed_at > now):
                components.append(
                    {
                        "kind": c.kind,
                        "label": c.get_kind_display(),
                        "model": c.model,
                        "lot": c.lot,
                        "days": round(c.age(now).total_seconds() / 86400, 1),
                    }
                )
    planned = [
        {
            "id": d.pk,
            "title": d.title,
            "status": d.status,
            "planned_for": d.content.get("planned_for"),
            "urgency": d.content.get("urgency", ""),
        }
        for d in Decision.objects.filter(run=run, kind=Kind.CIRCUIT_CHANGE, component__isnull=True)
        .exclude(status=Status.SUPERSEDED)
        .order_by("made_at")
    ]
    mcs = []
    for device in run.mcs_devices.all():
        if device.removed_at is not None and device.removed_at <= now:
            continue
        settings = [s for s in device.settings.all() if s.at <= now]
        last = settings[-1] if settings else None
        text = ""
        if last is not None:
            parts = [
                f"P{last.impella_p_level}" if last.impella_p_level is not None else "",
                f"{last.flow_l_min} L/min" if last.flow_l_min is not None else "",
                last.iabp_ratio,
                f"{last.vad_speed_rpm} rpm" if last.vad_speed_rpm else "",
            ]
            text = " ".join(p for p in parts if p)
        mcs.append({"id": device.pk, "device": str(device), "setting": text, "at": last.at if last else None})
    return {"components": sorted(components, key=lambda c: c["kind"]), "planned": planned, "mcs": mcs}


def generate(run: EcmoRun, now: dt.datetime) -> dict[str, Any]:
    """The perfusion section's data and a draft narrative, as JSON."""
    summary = _summary(run, now)
    out: dict[str, Any] = {"generated_at": now, "hours": HOURS, **_own_records(run, now)}
    has_data = summary is not None and any(summary.get(k) for k, _, _ in METRICS)
    out["available"] = bool(has_data)
    if summary is None or not has_data:
        out["note"] = "no circuit data yet"
        out["draft"] = _draft(out, None)
        stored: dict[str, Any] = _jsonable(out)
        return stored
    prefs = run.program.unit_preferences
    out["metrics"] = [m for m in (_metric(k, label, summary.get(k), prefs) for k, label, _ in METRICS) if m]
    out["post_oxygenator"] = [
        m
        for m in (
            _metric(k, label, summary["post_oxygenator"].get(k), prefs) for k, label, _ in POST_OXYGENATOR
        )
        if m
    ]
    out["labs"] = [m for m in (_metric(k, label, summary["labs"].get(k), prefs) for k, label, _ in LABS) if m]
    dp = summary.get("delta_p") or {}
    rule = dp.get("rule") or {}
    as_of = None
    if rule.get("evaluated_at") is not None and rule["evaluated_at"] > now:
        # The stored rule state is later than ``now`` (a session generated for an earlier time): use the rule's
        # last stored transition at or before ``now`` instead, never a state from the future.
        dp, rule, as_of = _delta_p_as_of(run, now)
    out["delta_p"] = {
        "now_mmhg": dp.get("now_mmhg", dp.get("delta_p_mmhg")),
        "baseline_mmhg": dp.get("baseline_mmhg", dp.get("baseline_delta_p_mmhg")),
        "mode": _MODE_WORDS.get(str(dp.get("mode") or ""), dp.get("mode")),
        "rise_pct": None if dp.get("rise_fraction") is None else round(float(dp["rise_fraction"]) * 100),
        "flow_l_min": dp.get("flow_l_min"),
        "baseline_flow_l_min": dp.get("baseline_flow_l_min"),
        "status": rule.get("status"),
        "message": rule.get("message", ""),
        "as_of": as_of,
    }
    # ΔP as shown in the program's circuit-pressure unit (stored canonical above for the rule's evidence)
    dp_code = "membrane_delta_p_mmhg"
    out["delta_p"]["unit"] = units.unit_of(dp_code, prefs)
    out["delta_p"]["now"] = _local(dp_code, out["delta_p"]["now_mmhg"], prefs)
    out["delta_p"]["baseline"] = _local(dp_code, out["delta_p"]["baseline_mmhg"], prefs)
    out["alerts"] = []
    for a in summary.get("alerts", []):
        if a["opened_at"] > now:
            continue
        # As it stood at ``now``: an acknowledgement or resolution made later is not shown (a past session keeps
        # what the team knew then).
        acked = a.get("acknowledged_at") is not None and a["acknowledged_at"] <= now
        resolved = a.get("resolved_at") is not None and a["resolved_at"] <= now
        out["alerts"].append(
            {
                "title": a.get("title") or a["rule_id"],
                "severity": a["severity"],
                "status": a["status"] if resolved or a.get("resolved_at") is None else "open",
                "opened_at": a["opened_at"],
                "message": a.get("message", ""),
                "acknowledged_by": a.get("acknowledged_by") if acked else None,
                "acknowledged_at": a.get("acknowledged_at") if acked else None,
                "acknowledged_comment": a.get("acknowledged_comment", "") if acked else "",
                "resolved_at": a.get("resolved_at") if resolved else None,
                "resolved_comment": a.get("resolved_comment", "") if resolved else "",
            }
        )
    out["anticoagulation"] = summary.get("anticoagulation", [])
    life = [c for c in summary.get("component_life", []) if c.get("kind") == "oxygenator"]
    # The projection reads the current rule state: only meaningful for a summary of the present.
    out["oxygenator_projection"] = life[0].get("projection_note", "") if life and as_of is None else ""
    out["draft"] = _draft(out, summary)
    result: dict[str, Any] = _jsonable(out)
    return result


def _delta_p_as_of(run: EcmoRun, now: dt.datetime) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """The ΔP rule's evidence from its last stored transition at or before ``now`` (empty when none)."""
    from ecmo_web.surveillance.models import AlertTransition

    last = (
        AlertTransition.objects.filter(run=run, rule_id="oxygenator.delta_p_rise", at__lte=now)
        .order_by("-at", "-pk")
        .first()
    )
    if last is None:
        return {}, {}, None
    return dict(last.evidence), {"status": last.to_status, "message": last.message}, last.at


def _draft(out: dict[str, Any], summary: dict[str, Any] | None) -> str:
    """A first draft in the perfusionist's words; they edit it before rounds."""
    lines = []
    comps = {c["kind"]: c for c in out["components"]}
    if "oxygenator" in comps:
        oxy = comps["oxygenator"]
        lines.append(f"Oxygenator day {int(oxy['days'])} (lot {oxy['lot'] or '—'}).")
    if summary is None or not out.get("available"):
        lines.append("No circuit data yet.")
    else:
        metrics = {m["key"]: m for m in out["metrics"]}
        if "blood_flow_l_min" in metrics:
            flow = metrics["blood_flow_l_min"]
            rpm = metrics.get("pump_speed_rpm")
            acc = metrics.get("access_pressure_mmhg")
            lines.append(
                f"{flow['value']} L/min"
                + (f" at {rpm['value']} rpm" if rpm else "")
                + (f", access {acc['value']} {acc['unit']}" if acc else "")
                + "."
            )
        dp = out["delta_p"]
        if dp.get("now_mmhg") is not None and dp.get("baseline_mmhg") is not None:
            rise = (
                f", {'+' if (dp['rise_pct'] or 0) >= 0 else ''}{dp['rise_pct']} %"
                if dp["rise_pct"] is not None
                else ""
            )
            lines.append(f"ΔP {dp['now']} vs baseline {dp['baseline']} {dp['unit']} ({dp['mode']}{rise}).")
        post = {m["key"]: m for m in out["post_oxygenator"]}
        if "post_oxygenator_po2_mmhg" in post:
            po2 = post["post_oxygenator_po2_mmhg"]
            gas = f"Post-oxygenator PO2 {po2['value']} {po2['unit']}"
            if "post_oxygenator_pco2_mmhg" in post:
                pco2 = post["post_oxygenator_pco2_mmhg"]
                gas += f", PCO2 {pco2['value']} {pco2['unit']}"
            if "fdo2" in metrics:
                gas += f" on FdO2 {metrics['fdo2']['value']} %"
            if "sweep_gas_l_min" in metrics:
                gas += f", sweep {metrics['sweep_gas_l_min']['value']} L/min"
            lines.append(gas + ".")
        for alert in out["alerts"]:
            ack = (
                f", acknowledged by {alert['acknowledged_by']}"
                if alert.get("acknowledged_by")
                else ", not acknowledged"
            )
            lines.append(
                f"Alert {alert['title']} ({alert['severity']}, {alert['status']}){ack}"
                + (f": {alert['acknowledged_comment']}" if alert.get("acknowledged_comment") else "")
                + "."
            )
        for ac in out["anticoagulation"]:
            if ac.get("value") is not None:
                state = {True: "in range", False: "OUT of range", None: "no target"}[ac.get("in_range")]
                test = units.label(ac["test"]) if ac["test"] in PARAMETERS else ac["test"]
                lines.append(f"{test} {ac['value']} ({state}).")
    for p in out["planned"]:
        lines.append(f"Planned: {p['title']}.")
    for m in out["mcs"]:
        lines.append(f"{m['device']}: {m['setting'] or 'no setting recorded'}.")
    return " ".join(lines)
