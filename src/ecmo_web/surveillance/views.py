"""Pages of circuit surveillance: the hourly check, check history with amendments, lab entry, CSV import with a
preview, alert actions, the trends page with its data, the program's open alerts and the settings page.

Views stay thin: they load through ``get_checked``, call an action and render.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from ecmo_core.surveillance import PARAMETERS, SECTIONS, SurveillanceConfig
from ecmo_web import live
from ecmo_web.accounts.models import Program, Role
from ecmo_web.forms import submit
from ecmo_web.permissions import can, restrict
from ecmo_web.runs.models import Component, EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance import actions, charts, queries, uploads
from ecmo_web.surveillance.evaluation import setting_at
from ecmo_web.surveillance.forms import (
    AcknowledgeForm,
    CheckForm,
    CsvUploadForm,
    EscalateForm,
    LabForm,
    ResolveForm,
    clot_rows,
)
from ecmo_web.surveillance.models import (
    CHECK_PARAMETERS,
    Alert,
    AlertTransition,
    CircuitCheck,
    ClotFinding,
    IngestBatch,
    SurveillanceSetting,
    is_device_source,
)
from ecmo_web.timezones import to_local

PREFILL_MAX_AGE = dt.timedelta(minutes=15)


def _run(request: HttpRequest, run_id: int, action: str) -> EcmoRun:
    return get_checked(EcmoRun.objects.select_related("program", "patient"), request.user, action, pk=run_id)


def _source_label(source: str) -> str:
    return "console" if is_device_source(source) else source


# --- hourly check ---------------------------------------------------------------------------------------------


def _plain(value: float | None) -> str:
    """A number as typed at the bedside: 3250, 4.39, -53 (not 3250.0)."""
    if value is None:
        return ""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _prefill(run: EcmoRun, now: dt.datetime) -> dict[str, dict[str, Any]]:
    """Values offered from fresh console telemetry, each with its time and source."""
    latest = queries.latest_values(run, CHECK_PARAMETERS, now=now, max_age=PREFILL_MAX_AGE)
    return {
        code: {
            "value": value,
            "at": at.isoformat(),
            "source": source,
            "label": f"from {_source_label(source)} {to_local(at, run.program):%H:%M}",
        }
        for code, (value, at, source) in latest.items()
        if is_device_source(source)
    }


def _posted_prefill(request: HttpRequest) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(request.POST.get("prefill") or "{}")
    except json.JSONDecodeError:
        return {}
    return (
        {k: v for k, v in data.items() if k in CHECK_PARAMETERS and isinstance(v, dict)}
        if isinstance(data, dict)
        else {}
    )


def _check_page(
    request: HttpRequest,
    run: EcmoRun,
    form: CheckForm,
    clots: list[dict[str, Any]],
    prefill: dict[str, dict[str, Any]],
    *,
    check: CircuitCheck | None = None,
) -> HttpResponse:
    return render(
        request,
        "surveillance/check_form.html",
        {
            "program": run.program,
            "run": run,
            "form": form,
            "clots": clots,
            "prefill": prefill,
            "prefill_json": json.dumps(
                {k: {kk: vv for kk, vv in v.items() if kk != "label"} for k, v in prefill.items()}
            ),
            "check": check,
            "change_choices": ClotFinding.Change.choices,
            "action_choices": ClotFinding.Action.choices,
        },
        status=400 if form.errors else 200,
    )


@login_required
def check_new(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id, "check.record")
    now = timezone.now()
    if request.method == "POST":
        form = CheckForm(request.POST, program=run.program, now=now)
        prefill = _posted_prefill(request)
        clots = clot_rows(request.POST)
        if form.is_valid():
            try:
                actions.record_check(
                    actor=request.user,
                    run=run,
                    observed_at=form.cleaned_data["observed_at"],
                    data=form.check_data(),
                    clots=clots,
                    prefill=prefill,
                    now=now,
                )
            except ValidationError as exc:
                _clot_errors(form, exc)
                form.add_action_errors(exc)
            else:
                messages.success(request, "Circuit check recorded.")
                return redirect("run_detail", run_id=run.pk)
        for info in prefill.values():
            info.setdefault("label", f"from {_source_label(str(info.get('source', '')))}")
        return _check_page(request, run, form, clots, prefill)
    prefill = _prefill(run, now)
    previous = (
        CircuitCheck.objects.filter(run=run, is_current=True)
        .order_by("-observed_at")
        .prefetch_related("clots")
        .first()
    )
    initial: dict[str, Any] = {code: _plain(info["value"]) for code, info in prefill.items()}
    if previous is not None:
        initial.update({f: getattr(previous, f) for f in CheckForm.SAFETY})
        initial["heater_set_temperature_c"] = _plain(previous.heater_set_temperature_c)
        initial["colour_difference"] = previous.colour_difference
    form = CheckForm(initial=initial, program=run.program, now=now)
    carried = [c.as_dict() for c in previous.clots.all()] if previous is not None else []
    return _check_page(request, run, form, clot_rows(None, carried), prefill)


def _clot_errors(form: CheckForm, exc: ValidationError) -> None:
    """Clot-row errors ("clots[1].size_mm") shown at the top of the form, naming the row."""
    if not hasattr(exc, "error_dict"):
        return
    for key in [k for k in exc.error_dict if k.startswith("clots[")]:
        for error in exc.error_dict.pop(key):
            row = int(key[6:].split("]", 1)[0]) + 1
            form.add_error(None, f"Finding {row}, {key.split('.', 1)[1].replace('_', ' ')}: {error.message}")


@login_required
def check_amend(request: HttpRequest, check_id: int) -> HttpResponse:
    check = get_checked(
        CircuitCheck.objects.select_related("run__program", "run__patient"),
        request.user,
        "check.amend",
        pk=check_id,
    )
    run = check.run
    now = timezone.now()
    if not check.is_current:
        current = CircuitCheck.objects.filter(original_id=check.chain_id, is_current=True).first()
        if current is not None:
            return redirect("surveillance_check_amend", check_id=current.pk)
    if request.method == "POST":
        form = CheckForm(request.POST, program=run.program, now=now, amending=True)
        clots = clot_rows(request.POST)
        if form.is_valid():
            try:
                actions.amend_check(
                    actor=request.user,
                    check=check,
                    reason=form.cleaned_data["reason"],
                    data=form.check_data(),
                    observed_at=form.cleaned_data["observed_at"],
                    clots=clots,
                    now=now,
                )
            except ValidationError as exc:
                _clot_errors(form, exc)
                form.add_action_errors(exc)
            else:
                messages.success(request, "Check amended; the original is kept in its history.")
                return redirect("surveillance_checks", run_id=run.pk)
        return _check_page(request, run, form, clots, {}, check=check)
    initial = {
        f: getattr(check, f)
        for f in (
            *CHECK_PARAMETERS,
            "heater_set_temperature_c",
            "colour_difference",
            *CheckForm.INSPECTION,
            *CheckForm.SAFETY,
            "notes",
        )
    }
    for name in (*CHECK_PARAMETERS, "heater_set_temperature_c"):
        initial[name] = _plain(initial[name])
    local = to_local(check.observed_at, run.program)
    assert local is not None
    initial["observed_at"] = local.replace(tzinfo=None, second=0, microsecond=0)
    form = CheckForm(initial=initial, program=run.program, amending=True)
    clots = [c.as_dict() for c in check.clots.all()] + clot_rows(None)[:1]
    return _check_page(request, run, form, clots, {}, check=check)


@login_required
def check_list(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id, "run.view")
    checks = list(
        CircuitCheck.objects.filter(run=run)
        .select_related("recorded_by")
        .prefetch_related(Prefetch("clots", queryset=ClotFinding.objects.order_by("pk")))
        .order_by("-observed_at", "-version")[:400]
    )
    versions: dict[int, list[CircuitCheck]] = {}
    for c in checks:
        versions.setdefault(c.chain_id, []).append(c)
    current = [c for c in checks if c.is_current]
    rows = [
        {"check": c, "history": [v for v in versions.get(c.chain_id, []) if v.pk != c.pk]} for c in current
    ]
    return render(
        request,
        "surveillance/check_list.html",
        {
            "program": run.program,
            "run": run,
            "rows": rows[:200],
            "can_record": can(request.user, "check.record", run),
            "can_amend": can(request.user, "check.amend", run),
        },
    )


# --- labs -----------------------------------------------------------------------------------------------------


@login_required
def labs_new(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id, "sample.ingest")
    now = timezone.now()
    form = LabForm(request.POST or None, program=run.program, now=now)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        if not values:
            form.add_error(None, "Enter at least one result.")
        else:
            at = form.cleaned_data["observed_at"]
            samples = [
                {"observed_at": at, "parameter": code, "value": v, "source": "lab"}
                for code, v in values.items()
            ]
            try:
                result = actions.ingest_samples(
                    actor_or_system=request.user, run=run, samples=samples, kind=IngestBatch.Kind.LAB, now=now
                )
            except ValidationError as exc:
                _sample_errors(form, exc, list(values))
            else:
                messages.success(
                    request,
                    f"{result.created} lab result(s) recorded"
                    f"{f', {result.duplicates} already stored' if result.duplicates else ''}.",
                )
                return redirect("run_detail", run_id=run.pk)
    return render(
        request,
        "surveillance/labs_form.html",
        {"program": run.program, "run": run, "form": form},
        status=400 if form.errors else 200,
    )


def _sample_errors(form: Any, exc: ValidationError, codes: list[str]) -> None:
    """Map "samples[i].value" errors back onto the form field of the i-th code."""
    for key, errors in exc.message_dict.items():
        index = int(key[8:].split("]", 1)[0]) if key.startswith("samples[") else -1
        name = codes[index] if 0 <= index < len(codes) else None
        for error in errors:
            form.add_error(name if name in form.fields else None, error.split(": ", 1)[-1] if name else error)


# --- CSV import -----------------------------------------------------------------------------------------------


@login_required
def csv_import(request: HttpRequest, run_id: int) -> HttpResponse:
    """Upload → preview (with every bad row and column, or a summary and the first rows) → confirm."""
    run = _run(request, run_id, "sample.ingest")
    context: dict[str, Any] = {"program": run.program, "run": run}
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    context["form"] = form
    if request.method != "POST" or not form.is_valid():
        return render(request, "surveillance/csv_import.html", context)
    source = (form.cleaned_data.get("source") or "").strip() or None
    context["source"] = source or ""
    pending = request.POST.get("pending", "")
    confirm = request.POST.get("confirm") == "1" and len(pending) == 64 and pending.isalnum()
    upload = form.cleaned_data.get("file")
    text = ""
    if confirm:
        held = uploads.find(actor=request.user, run=run, digest=pending, now=timezone.now())
        if held is None:
            context["errors"] = [
                actions.CsvError(1, "file", "the previewed file has expired: choose it again")
            ]
            return render(request, "surveillance/csv_import.html", context, status=400)
        text = held
    elif upload is not None:
        if upload.size > actions.MAX_CSV_BYTES:
            context["errors"] = [actions.CsvError(1, "file", "the file is larger than 20 MB: split it")]
            return render(request, "surveillance/csv_import.html", context, status=400)
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            context["errors"] = [actions.CsvError(1, "file", "the file is not UTF-8 text")]
            return render(request, "surveillance/csv_import.html", context, status=400)
    if not text.strip():
        context["errors"] = [actions.CsvError(1, "file", "choose a CSV file")]
        return render(request, "surveillance/csv_import.html", context, status=400)
    try:
        preview = actions.import_csv(run, text, actor=request.user, preview=not confirm, source=source)
    except actions.CsvImportError as exc:
        context.update(errors=exc.errors, filename=getattr(upload, "name", ""))
        return render(request, "surveillance/csv_import.html", context, status=400)
    if confirm:
        uploads.discard(actor=request.user, run=run, digest=pending)
        assert preview.result is not None
        fired = [t for t in preview.result.transitions if t.to_status == "firing"]
        messages.success(
            request,
            f"Imported {preview.result.created} samples"
            f" ({preview.result.duplicates} already stored)"
            f"{f'; {len(fired)} alert(s) fired' if fired else ''}.",
        )
        return redirect("run_detail", run_id=run.pk)
    uploads.hold(actor=request.user, run=run, digest=preview.sha256, text=text, now=timezone.now())
    context.update(
        preview=preview,
        pending=preview.sha256,
        filename=getattr(upload, "name", ""),
        units={
            code: PARAMETERS[code.split("@")[0]].unit
            for code in preview.header
            if code.split("@")[0] in PARAMETERS
        },
    )
    return render(request, "surveillance/csv_import.html", context)


# --- alerts ---------------------------------------------------------------------------------------------------


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
        error = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
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
    components = Component.objects.filter(circuit__run=run).order_by("-installed_at")
    form = ResolveForm(request.POST or None, program=run.program)
    form.fields["component"].queryset = components  # type: ignore[attr-defined]
    form.fields["component"].label_from_instance = (  # type: ignore[attr-defined]
        lambda c: (
            f"{c.get_kind_display()} · lot {c.lot or '—'} · fitted {to_local(c.installed_at, run.program):%d %b %H:%M}"
        )
    )
    if request.method == "POST" and submit(
        form,
        lambda d: actions.resolve_alert(
            actor=request.user, alert=alert, comment=d["comment"], component=d["component"]
        ),
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


# --- trends ---------------------------------------------------------------------------------------------------


@login_required
def trends(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id, "run.view")
    now = timezone.now()
    life = queries.component_life(run, now=now)
    return render(
        request,
        "surveillance/trends.html",
        {
            "program": run.program,
            "run": run,
            "life": life,
            "now": now,
            "ranges": charts.RANGES,
            "range": request.GET.get("range", "24h"),
            "data_url": reverse("surveillance_trends_data", kwargs={"run_id": run.pk}),
        },
    )


@login_required
def trends_data(request: HttpRequest, run_id: int) -> JsonResponse:
    run = _run(request, run_id, "run.view")
    try:
        data = charts.trend_data(run, now=timezone.now(), range_name=request.GET.get("range", "24h"))
    except ValueError as exc:
        return JsonResponse({"detail": {"range": [str(exc)]}}, status=400)
    return JsonResponse(data)


# --- settings -------------------------------------------------------------------------------------------------


def _settings_rows(current: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    defaults = SurveillanceConfig()
    rows = []
    for section in SECTIONS:
        described = type(defaults.section(section)).describe()
        rows.append(
            {
                "section": section,
                "settings": [
                    {
                        **d,
                        "value": current.get(section, {}).get(d["name"], d["default"]),
                        "field": f"{section}__{d['name']}",
                        "key": f"{section}.{d['name']}",
                    }
                    for d in described
                ],
            }
        )
    return rows


def _flatten(rules: dict[str, Any]) -> dict[str, dict[str, Any]]:
    flat: dict[str, dict[str, Any]] = {}
    for key, value in (rules or {}).items():
        if key in SECTIONS:
            flat.setdefault(key, {}).update(value)
        elif isinstance(value, dict):
            for sub, table in value.items():
                flat.setdefault(f"{key}.{sub}", {}).update(table)
    return flat


@login_required
def settings_page(request: HttpRequest, program_id: int) -> HttpResponse:
    program = get_checked(Program.objects.all(), request.user, "settings.manage", pk=program_id)
    now = timezone.now()
    current = setting_at(program.pk, now)
    values = _flatten(current.rules if current else {})
    errors: dict[str, str] = {}
    form_error = ""
    if request.method == "POST":
        rules: dict[str, dict[str, Any]] = {}
        for row in _settings_rows(values):
            for s in row["settings"]:
                raw = request.POST.get(s["field"])
                if isinstance(s["default"], bool):
                    # An unticked box posts nothing: the hidden marker says the box was on the form.
                    value: Any = raw == "on" if request.POST.get(f"{s['field']}__shown") else s["value"]
                else:
                    try:
                        value = float(raw) if raw not in (None, "") else s["value"]
                        if (
                            isinstance(s["default"], int)
                            and not isinstance(s["default"], bool)
                            and float(value).is_integer()
                        ):
                            value = int(value)
                    except ValueError:
                        errors[f"{row['section']}.{s['name']}"] = f"{raw!r} is not a number"
                        continue
                if value != s["default"]:
                    rules.setdefault(row["section"], {})[s["name"]] = value
        values = rules
        vo2_raw = (request.POST.get("estimated_vo2_ml_kg_min") or "").strip()
        vo2 = (current or SurveillanceSetting()).estimated_vo2_ml_kg_min
        try:
            vo2 = float(vo2_raw) if vo2_raw else vo2
        except ValueError:
            errors["estimated_vo2_ml_kg_min"] = f"{vo2_raw!r} is not a number: give 1 to 10 mL/kg/min"
        if not errors:
            try:
                actions.save_settings(
                    actor=request.user,
                    program=program,
                    rules=rules,
                    reason=request.POST.get("reason", ""),
                    escalate_warning_after_min=int(request.POST.get("escalate_warning_after_min") or 30),
                    escalate_critical_after_min=int(request.POST.get("escalate_critical_after_min") or 10),
                    escalate_to_role=request.POST.get("escalate_to_role") or "intensivist",
                    estimated_vo2_ml_kg_min=vo2,
                    now=now,
                )
            except (ValidationError, ValueError) as exc:
                if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                    for key, errs in exc.message_dict.items():
                        errors[key] = " ".join(errs)
                else:
                    form_error = str(exc)
            else:
                messages.success(
                    request, "Surveillance settings saved; earlier settings are kept in the history."
                )
                return redirect("surveillance_settings", program_id=program.pk)
    history = list(
        program.surveillance_settings.select_related("set_by").order_by("-effective_from", "-pk")[:20]
    )
    base = current or SurveillanceSetting()
    post = request.POST if request.method == "POST" else {}
    escalation = {
        "warning": post.get("escalate_warning_after_min") or base.escalate_warning_after_min,
        "critical": post.get("escalate_critical_after_min") or base.escalate_critical_after_min,
        "role": post.get("escalate_to_role") or base.escalate_to_role,
        "vo2": post.get("estimated_vo2_ml_kg_min") or base.estimated_vo2_ml_kg_min,
    }
    return render(
        request,
        "surveillance/settings.html",
        {
            "program": program,
            "rows": _settings_rows(values),
            "errors": errors,
            "form_error": form_error,
            "current": current,
            "history": history,
            "roles": Role.choices,
            "escalation": escalation,
            "reason": post.get("reason", ""),
        },
        status=400 if errors or form_error else 200,
    )
