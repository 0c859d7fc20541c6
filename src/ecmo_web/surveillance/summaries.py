"""What surveillance shows on pages owned by other apps: alert and check lanes on the run timeline, and the
"Open alerts" column on the program's run list (declared in ``SurveillanceConfig.contributions``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Q

from ecmo_web import timeline
from ecmo_web.runs import summary
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.models import Alert, AlertStatus, CircuitCheck


def alert_lanes(run: EcmoRun, now: dt.datetime) -> list[timeline.Lane]:
    """Alert episodes as bars (firing to resolution) and circuit checks as points on the run timeline."""
    alerts = timeline.Lane("Alerts", order=35)
    for alert in Alert.objects.filter(run=run).order_by("opened_at"):
        tone = alert.peak_severity if alert.peak_severity in ("warning", "critical") else "neutral"
        detail = alert.acknowledged_comment or alert.message
        alerts.bars.append(
            timeline.Bar(alert.rule_title, alert.opened_at, alert.resolved_at, tone=tone, detail=detail[:200])
        )
    # Hourly checks would be a solid row of dots: the timeline shows the notable ones (amended, air, a finding to
    # escalate or act on, safety equipment missing); the trends page and the check history show them all.
    checks = timeline.Lane("Notable checks", order=36)
    notable = (
        CircuitCheck.objects.filter(run=run, is_current=True)
        .filter(
            Q(version__gt=1)
            | Q(air_in_circuit=True)
            | Q(clots__action__in=["escalate", "change"])
            | Q(hand_crank_present=False)
            | Q(clamps_present=False)
            | Q(backup_console_ready=False)
            | Q(battery_charged=False)
            | Q(gas_supply_connected=False)
        )
        .distinct()
        .order_by("observed_at")
        .prefetch_related("clots")
    )
    for check in notable:
        reasons = []
        if check.version > 1:
            reasons.append(f"amended: {check.amendment_reason}")
        if check.air_in_circuit:
            reasons.append("air seen")
        reasons += [
            f"{c.location}: {c.appearance} ({c.get_action_display().lower()})"
            for c in check.clots.all()
            if c.action in ("escalate", "change")
        ]
        missing = check.safety_missing()
        if missing:
            reasons.append(f"missing: {', '.join(missing)}")
        tone = "critical" if check.air_in_circuit else "warning"
        checks.points.append(timeline.Point("check", check.observed_at, tone=tone, detail="; ".join(reasons)))
    return [alerts, checks]


def open_alerts_column(runs: Sequence[EcmoRun], now: dt.datetime) -> tuple[str, dict[int, summary.Cell]]:
    """ "Open alerts" on the program's run list: firing alerts by severity, then unacknowledged ones."""
    from ecmo_web.surveillance.queries import open_alerts

    cells: dict[int, summary.Cell] = {}
    for run_id, alerts in open_alerts(runs).items():
        firing = [a for a in alerts if a.status == AlertStatus.FIRING]
        critical = [a for a in firing if a.severity == "critical"]
        warning = [a for a in firing if a.severity == "warning"]
        parts = []
        if critical:
            parts.append(f"{len(critical)} critical")
        if warning:
            parts.append(f"{len(warning)} warning")
        unacked = [a for a in alerts if a.acknowledged_at is None]
        title = "; ".join(
            f"{a.rule_title} ({a.status}{', acknowledged' if a.acknowledged_at else ''})" for a in alerts
        )
        if parts:
            text = " · ".join(parts)
            if unacked:
                text += f" · {len(unacked)} unacknowledged"
            cells[run_id] = summary.Cell(text, "critical" if critical else "warning", title)
        elif alerts:
            cells[run_id] = summary.Cell(f"{len(alerts)} cleared, to resolve", "muted", title)
        else:
            cells[run_id] = summary.Cell("none", "ok", "no open alert")
    return "Open alerts", cells
