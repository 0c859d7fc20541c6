"""Alert pages and buttons: acknowledge, escalate, resolve; the run's and the program's alerts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ecmo_web import live
from ecmo_web.accounts.models import Program
from ecmo_web.forms import submit
from ecmo_web.permissions import can, restrict
from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance import actions, queries
from ecmo_web.surveillance.forms import (
    AcknowledgeForm,
    EscalateForm,
    ResolveForm,
)
from ecmo_web.surveillance.models import (
    Alert,
    AlertTransition,
)
from ecmo_web.surveillance.views.common import _run


def _alert(request: HttpRequest, alert_id: int, action: str) -> Alert:
    return get_checked(
        Alert.objects.select_related("run__program", "run__patient"), request.user, action, pk=alert_id
    )


def _back(request: HttpRequest, alert: Alert) -> HttpResponse:
    """Back to where the form was posted from: a page of this site only (never ``//host`` or ``/\\host``)."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(f"{reverse('run_detail', kwargs={'run_id': alert.run_id})}#alerts")


def _panel(request: HttpRequest, run: EcmoRun, errors: dict[int, str] | None = None) -> HttpResponse:
    return render(
        request,
        "surveillance/panel_alerts_body.html",
        {"run": run, "program": run.program, "errors": errors or {}, "now": timezone.now()},
    )


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert(request, alert_id, "alert.acknowledge")
    form = AcknowledgeForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            actions.acknowledge_alert(actor=request.user, alert=alert, comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            error = " ".join(m for ms in exc.message_dict.values() for m in ms)
    else:
        error = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items())
    if request.htmx:  # type: ignore[attr-defined]
        return _panel(request, alert.run, {alert.pk: error} if error else None)
    if error:
        messages.error(request, f"Not acknowledged: {error}")
    else:
        messages.success(request, f"Alert acknowledged: {alert.rule_title}.")
    return _back(request, alert)


@login_required
@require_POST
def alert_escalate(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert(request, alert_id, "alert.acknowledge")
    form = EscalateForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            actions.escalate_alert(
                actor_or_system=request.user,
                alert=alert,
                role=form.cleaned_data["role"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            error = " ".join(m for ms in exc.message_dict.values() for m in ms)
    else:
        error = "choose a role"
    if request.htmx:  # type: ignore[attr-defined]
        return _panel(request, alert.run, {alert.pk: error} if error else None)
    if error:
        messages.error(request, f"Not escalated: {error}")
    else:
        messages.success(request, "Alert escalated.")
    return _back(request, alert)


@login_required
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = _alert(request, alert_id, "alert.resolve")
    run = alert.run
    form = ResolveForm(request.POST or None, run=run)
    # A resolved alert's page says so and offers no form (issue 11 §8); a late POST changes nothing.
    if (
        alert.resolved_at is None
        and request.method == "POST"
        and submit(
            form,
            lambda d: actions.resolve_alert(
                actor=request.user, alert=alert, comment=d["comment"], component=d["component"]
            ),
        )
    ):
        messages.success(request, f"Alert resolved: {alert.rule_title}.")
        return redirect(f"{reverse('run_detail', kwargs={'run_id': run.pk})}#alerts")
    history = AlertTransition.objects.filter(alert=alert).order_by("at", "pk")
    return render(
        request,
        "surveillance/alert_resolve.html",
        {
            "program": run.program,
            "run": run,
            "alert": alert,
            "form": form,
            "history": history,
        },
        status=400 if form.errors else 200,
    )


@login_required
def run_alerts(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id, "run.view")
    alerts = list(
        Alert.objects.filter(run=run)
        .select_related("acknowledged_by", "resolved_by", "resolved_component")
        .prefetch_related(Prefetch("transitions", queryset=AlertTransition.objects.order_by("at", "pk")))
        .order_by("-opened_at")
    )
    transitions = list(
        AlertTransition.objects.filter(run=run, alert__isnull=True).order_by("-at", "-pk")[:200]
    )
    return render(
        request,
        "surveillance/run_alerts.html",
        {
            "program": run.program,
            "run": run,
            "alerts": queries.sort_alerts(alerts),
            "transitions": transitions,
            "can_resolve": can(request.user, "alert.resolve", run),
        },
    )


@login_required
@live.live_page(live.program_page("alerts"))
def program_alerts(request: HttpRequest, program_id: int) -> HttpResponse:
    program = get_checked(Program.objects.all(), request.user, "run.view", pk=program_id)
    runs = list(
        restrict(EcmoRun.objects.select_related("patient"), request.user, "run.view")
        .filter(program=program, ended_at__isnull=True)
        .order_by("patient__code")
    )
    by_run = queries.open_alerts(runs)
    rows = [{"run": r, "alerts": by_run.get(r.pk, [])} for r in runs]
    rows.sort(key=lambda row: (not row["alerts"], [queries._alert_order(a) for a in row["alerts"][:1]]))
    return render(
        request,
        "surveillance/program_alerts.html",
        {
            "program": program,
            "rows": rows,
            "now": timezone.now(),
            "can_ack": can(request.user, "alert.acknowledge", program),
        },
    )
