"""The M&M case packet: the run's timeline around the event, trends as inline SVG charts, the discussion,
contributing factors and actions. One builder feeds the case page and the PDF (WeasyPrint renders the same
template, so what the committee reads is what the page shows).

The packet names the patient by the program's pseudonym code only (never an MRN or name): it is read at a
meeting and may be printed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from ecmo_core.surveillance.parameters import PARAMETERS
from ecmo_web.decisions.models import Decision, DecisionParticipant
from ecmo_web.quality.models import AdverseEvent, MmCase
from ecmo_web.quality.svg import line_chart_svg
from ecmo_web.runs.models import Component, ConfigurationEntry
from ecmo_web.surveillance.models import LAB, Alert, CircuitCheck, Sample
from ecmo_web.timezones import to_local

BEFORE = dt.timedelta(hours=24)
AFTER = dt.timedelta(hours=12)
# Hourly checks are many: the timeline lists those close to the event (the trends show the rest).
CHECKS_BEFORE = dt.timedelta(hours=6)
CHECKS_AFTER = dt.timedelta(hours=3)
MAX_CHARTS = 4
MAX_POINTS = 300

# Which trends to draw first, by complication category (any with data in the window, at most MAX_CHARTS).
CHART_PRIORITY: dict[str, tuple[str, ...]] = {
    "mechanical": (
        "membrane_delta_p_mmhg",
        "blood_flow_l_min",
        "pump_speed_rpm",
        "post_oxygenator_po2_mmhg",
        "plasma_free_hb_mg_dl",
        "access_pressure_mmhg",
    ),
    "hemorrhagic": (
        "anti_xa_iu_ml",
        "aptt_s",
        "hemoglobin_g_dl",
        "platelets_10e3_ul",
        "plasma_free_hb_mg_dl",
    ),
    "neurologic": (
        "mean_arterial_pressure_mmhg",
        "arterial_pco2_mmhg",
        "cerebral_nirs_left_pct",
        "anti_xa_iu_ml",
    ),
    "limb": ("limb_nirs_pct", "blood_flow_l_min", "mean_arterial_pressure_mmhg", "lactate_mmol_l"),
}
DEFAULT_CHARTS = (
    "blood_flow_l_min",
    "membrane_delta_p_mmhg",
    "anti_xa_iu_ml",
    "lactate_mmol_l",
    "mean_arterial_pressure_mmhg",
    "pump_speed_rpm",
)


@dataclass
class Entry:
    at: dt.datetime
    kind: str  # configuration, decision, alert, check, component, lab, event
    text: str
    detail: str = ""
    local: dt.datetime | None = None


@dataclass
class Packet:
    case: MmCase
    event: AdverseEvent | None
    window_start: dt.datetime
    window_end: dt.datetime
    entries: list[Entry] = field(default_factory=list)
    charts: list[SafeString] = field(default_factory=list)


def _name(user: Any) -> str:
    if user is None:
        return "someone"
    return str(user.get_full_name() or user.get_username())


def _role(role: str) -> str:
    return role.replace("_", " ")


def _check_text(check: CircuitCheck) -> str:
    parts = []
    for attr, label, unit in (
        ("blood_flow_l_min", "flow", "L/min"),
        ("pump_speed_rpm", "speed", "rpm"),
        ("sweep_gas_l_min", "sweep", "L/min"),
        ("pre_oxygenator_pressure_mmhg", "pre-oxy", "mmHg"),
        ("post_oxygenator_pressure_mmhg", "post-oxy", "mmHg"),
    ):
        value = getattr(check, attr)
        if value is not None:
            parts.append(f"{label} {value:g} {unit}")
    if check.air_in_circuit:
        parts.append("AIR IN CIRCUIT")
    return ", ".join(parts)


def _series(points: list[tuple[dt.datetime, float]]) -> list[tuple[dt.datetime, float]]:
    """At most MAX_POINTS points: bucket means when there are more (a chart, not a table of numbers)."""
    if len(points) <= MAX_POINTS:
        return points
    size = -(-len(points) // MAX_POINTS)
    out = []
    for i in range(0, len(points), size):
        chunk = points[i : i + size]
        out.append((chunk[len(chunk) // 2][0], sum(v for _, v in chunk) / len(chunk)))
    return out


def build_packet(case: MmCase, *, now: dt.datetime) -> Packet:
    run = case.run
    program = run.program
    event = case.event
    anchor = event.onset_at if event is not None else (run.ended_at or now)
    start = max(run.started_at, anchor - BEFORE)
    end = max(anchor, min(anchor + AFTER, now))
    packet = Packet(case=case, event=event, window_start=start, window_end=end)
    entries = packet.entries

    for c in ConfigurationEntry.objects.filter(run=run):
        entries.append(
            Entry(c.started_at, "configuration", f"Configuration {c.get_mode_display()}", c.reason)
        )
    for comp in Component.objects.filter(circuit__run=run):
        entries.append(
            Entry(
                comp.installed_at,
                "component",
                f"{comp.get_kind_display()} installed: {comp.maker} {comp.model}",
                f"lot {comp.lot or '—'}",
            )
        )
        if comp.removed_at is not None:
            entries.append(
                Entry(comp.removed_at, "component", f"{comp.get_kind_display()} removed", comp.reason_removed)
            )
    decisions = list(
        Decision.objects.filter(run=run, made_at__gte=start, made_at__lte=end).select_related(
            "decided_by", "recommended_by"
        )
    )
    participants: dict[int, list[str]] = {}
    for p in DecisionParticipant.objects.filter(decision__in=decisions).select_related("user"):
        participants.setdefault(p.decision_id, []).append(f"{_name(p.user)} ({_role(p.role)})")
    for d in decisions:
        who = ", ".join(participants.get(d.pk, [])) or "no participants recorded"
        decided = (
            f"decided by {_name(d.decided_by)} ({_role(d.decided_by_role)})"
            if d.decided_by_id
            else "not yet decided"
        )
        entries.append(
            Entry(
                d.made_at,
                "decision",
                f"Decision — {d.get_kind_display()}: {d.title}",
                f"Participants: {who}; {decided}",
            )
        )
    for a in Alert.objects.filter(run=run, opened_at__gte=start, opened_at__lte=end).select_related(
        "acknowledged_by"
    ):
        if a.acknowledged_at is not None:
            ack = (
                f"acknowledged by {_name(a.acknowledged_by)} at {to_local(a.acknowledged_at, program):%H:%M}"
            )
            if a.acknowledged_comment:
                ack += f": “{a.acknowledged_comment}”"
        else:
            ack = "not acknowledged"
        entries.append(
            Entry(a.opened_at, "alert", f"Alert ({a.get_severity_display().lower()}): {a.message}", ack)
        )
    for check in CircuitCheck.objects.filter(
        run=run,
        is_current=True,
        observed_at__gte=max(start, anchor - CHECKS_BEFORE),
        observed_at__lte=min(end, anchor + CHECKS_AFTER),
    ).select_related("recorded_by"):
        entries.append(
            Entry(
                check.observed_at, "check", f"Circuit check by {_name(check.recorded_by)}", _check_text(check)
            )
        )
    for s in Sample.objects.filter(run=run, source=LAB, observed_at__gte=start, observed_at__lte=end):
        spec = PARAMETERS.get(s.parameter)
        label = spec.description if spec else s.parameter
        unit = spec.unit if spec else ""
        entries.append(Entry(s.observed_at, "lab", f"Lab: {label} {s.value:g} {unit}".rstrip()))
    for e in AdverseEvent.objects.filter(run=run):
        entries.append(
            Entry(
                e.onset_at,
                "event",
                f"Adverse event: {e.code_label} ({e.get_severity_display().split(':')[0].lower()})",
                e.action_taken,
            )
        )
    entries.sort(key=lambda e: (e.at, e.kind))
    for entry in entries:
        entry.local = to_local(entry.at, program)

    # Trends around the event: the category's parameters first, then the defaults.
    wanted = list(CHART_PRIORITY.get(event.category, ()) if event is not None else ())
    wanted += [p for p in DEFAULT_CHARTS if p not in wanted]
    samples: dict[str, list[tuple[dt.datetime, float]]] = {}
    for parameter, at, value in (
        Sample.objects.filter(run=run, parameter__in=wanted, observed_at__gte=start, observed_at__lte=end)
        .order_by("observed_at")
        .values_list("parameter", "observed_at", "value")
    ):
        samples.setdefault(parameter, []).append((at, value))
    hours = max(1, int((end - start).total_seconds() // 3600))
    step = max(1, hours // 6)
    ticks = []
    t = start
    while t <= end:
        ticks.append((t, f"{to_local(t, program):%d %b %H:%M}"))
        t += dt.timedelta(hours=step)
    for parameter in wanted:
        if len(packet.charts) >= MAX_CHARTS:
            break
        points = samples.get(parameter, [])
        if not points:
            continue
        spec = PARAMETERS.get(parameter)
        title = f"{spec.description} ({spec.unit})" if spec else parameter
        packet.charts.append(
            mark_safe(  # noqa: S308 - built by line_chart_svg, which escapes every text it writes
                line_chart_svg(
                    _series(points),
                    start=start,
                    end=end,
                    title=title[:1].upper() + title[1:],
                    marker_at=event.onset_at if event is not None else None,
                    marker_label="event onset",
                    tick_labels=ticks,
                )
            )
        )
    return packet


def packet_context(case: MmCase, *, now: dt.datetime) -> dict[str, Any]:
    packet = build_packet(case, now=now)
    return {
        "packet": packet,
        "case": case,
        "run": case.run,
        "program": case.run.program,
        "factors": list(case.factors.all()),
        "actions": list(case.actions.select_related("owner", "closed_by")),
        "contributions": list(case.contributions.select_related("author")),
        "generated_at": now,
        "checks_before_h": int(CHECKS_BEFORE.total_seconds() // 3600),
        "checks_after_h": int(CHECKS_AFTER.total_seconds() // 3600),
    }


def render_packet_html(case: MmCase, *, now: dt.datetime) -> str:
    return render_to_string("quality/packet.html", packet_context(case, now=now))


def render_packet_pdf(case: MmCase, user: Any, *, now: dt.datetime) -> bytes:
    from weasyprint import HTML  # imported here: loading Pango costs a moment that other pages need not pay

    # WeasyPrint reports each layout step at INFO; a server log needs none of it.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    html = render_packet_html(case, now=now)
    return bytes(HTML(string=html).write_pdf())
