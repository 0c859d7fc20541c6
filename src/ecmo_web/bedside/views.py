"""Live fragments: the circuit now on the run page, and the open-alert count in every page's menu."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ecmo_web import live
from ecmo_web.bedside import circuit
from ecmo_web.permissions import can, programs_for
from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance.models import Alert, AlertStatus
from ecmo_web.surveillance.queries import open_alerts


def circuit_context(run: EcmoRun, user: Any) -> dict[str, Any]:
    """What the circuit-now panel shows: open alerts first, then the circuit and patient numbers."""
    now = timezone.now()
    prefs = run.program.unit_preferences
    numbers, patient = circuit.readings(run, now, prefs)
    alerts = open_alerts([run])[run.pk]
    return {
        "run": run,
        "program": run.program,
        "now": now,
        "numbers": numbers,
        "patient": patient,
        "open_alerts": alerts,
        "critical_ids": [a.pk for a in alerts if a.status == AlertStatus.FIRING and a.severity == "critical"],
        "live_seconds": live.refresh_seconds(),
        "can_ack": can(user, "alert.acknowledge", run),
    }


@login_required
def circuit_now(request: HttpRequest, run_id: int) -> HttpResponse:
    """The circuit-now fragment; polled by the run page. Unchanged → 304 after three queries."""
    run = get_checked(
        EcmoRun.objects.select_related("program", "patient"), request.user, "run.view", pk=run_id
    )
    etag = live.etag_for(request, f"circuit:{run.pk}", live.change_counter([run.program_id]))
    return live.conditional(
        etag,
        request,
        lambda: render(request, "bedside/_circuit_body.html", circuit_context(run, request.user)),
    )


def alert_counts(user: Any) -> dict[str, Any]:
    """Unresolved alerts in the user's programs by severity (firing) plus cleared-but-unresolved. One query."""
    rows = (
        Alert.objects.filter(run__program_id__in=programs_for(user, "run.view"), resolved_at__isnull=True)
        .values("status", "severity")
        .annotate(n=Count("pk"))
    )
    counts = {"critical": 0, "warning": 0, "info": 0, "cleared": 0}
    for row in rows:
        key = row["severity"] if row["status"] == AlertStatus.FIRING else "cleared"
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


@login_required
def alert_badge(request: HttpRequest) -> HttpResponse:
    """The menu's open-alert counts on every page, with the ids of firing critical alerts for the chime."""
    programs = programs_for(request.user, "run.view")
    etag = live.etag_for(request, "badge", live.change_counter(programs))

    def body() -> HttpResponse:
        critical = list(
            Alert.objects.filter(
                run__program_id__in=programs,
                resolved_at__isnull=True,
                status=AlertStatus.FIRING,
                severity="critical",
                acknowledged_at__isnull=True,
            ).values_list("pk", flat=True)
        )
        counts = alert_counts(request.user)
        return render(
            request,
            "bedside/_alert_badge.html",
            {
                "counts": counts,
                "total": sum(counts.values()),
                "critical_ids": critical,
                "program_id": programs[0] if len(programs) == 1 else None,
            },
        )

    return live.conditional(etag, request, body)
