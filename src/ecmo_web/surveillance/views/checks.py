"""The hourly circuit check: new (prefilled from recent telemetry), amend, list."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ecmo_web.forms import MeasureField
from ecmo_web.kernel import VersionConflict
from ecmo_web.permissions import can
from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance import actions, queries
from ecmo_web.surveillance.forms import CheckForm, clot_rows
from ecmo_web.surveillance.models import (
    CHECK_PARAMETERS,
    CircuitCheck,
    ClotFinding,
    is_device_source,
)
from ecmo_web.surveillance.views.common import _run, _source_label
from ecmo_web.timezones import to_local

CHECKS_PER_PAGE = 48  # two days of hourly checks

PREFILL_MAX_AGE = dt.timedelta(minutes=15)


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
    for code, info in prefill.items():
        field = form.fields.get(code)
        if isinstance(field, MeasureField) and isinstance(info.get("value"), int | float):
            info["shown"] = field.shown(float(info["value"]))  # in the program's units, as the box shows it
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
                {
                    k: {kk: vv for kk, vv in v.items() if kk not in ("label", "shown")}
                    for k, v in prefill.items()
                }
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
        prefill = _posted_prefill(request)
        form = CheckForm(request.POST, program=run.program, now=now, offered=prefill)
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
    initial: dict[str, Any] = {
        code: info["value"] for code, info in prefill.items()
    }  # canonical; shown local
    if previous is not None:
        # Not the safety items: each is ticked afresh by the person who looked (issue 11 §8).
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
    if not check.is_current and request.method != "POST":  # a POST from a stale form is refused by the action
        current = CircuitCheck.objects.filter(original_id=check.chain_id, is_current=True).first()
        if current is not None:
            return redirect("surveillance_check_amend", check_id=current.pk)
    if request.method == "POST":
        offered = {code: getattr(check, code) for code in CHECK_PARAMETERS}
        form = CheckForm(request.POST, program=run.program, now=now, amending=True, offered=offered)
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
                if isinstance(exc, VersionConflict):  # amend the version now stored when submitting again
                    check = (
                        CircuitCheck.objects.filter(original_id=check.chain_id, is_current=True).first()
                        or check
                    )
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
    initial["heater_set_temperature_c"] = _plain(initial["heater_set_temperature_c"])  # measures: shown local
    local = to_local(check.observed_at, run.program)
    assert local is not None
    initial["observed_at"] = local.replace(tzinfo=None, second=0, microsecond=0)
    form = CheckForm(initial=initial, program=run.program, amending=True)
    clots = [c.as_dict() for c in check.clots.all()] + clot_rows(None)[:1]
    return _check_page(request, run, form, clots, {}, check=check)


@login_required
def check_list(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id, "run.view")
    with_clots = Prefetch("clots", queryset=ClotFinding.objects.order_by("pk"))
    # Paginated by current check (two days of hourly checks a page), newest first; each with its earlier versions.
    page = Paginator(
        CircuitCheck.objects.filter(run=run, is_current=True)
        .select_related("recorded_by")
        .prefetch_related(with_clots)
        .order_by("-observed_at", "-version"),
        CHECKS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    current = list(page.object_list)
    versions: dict[int, list[CircuitCheck]] = {}
    earlier = (
        CircuitCheck.objects.filter(run=run, is_current=False)
        .filter(Q(original__in=[c.chain_id for c in current]) | Q(pk__in=[c.chain_id for c in current]))
        .select_related("recorded_by")
        .prefetch_related(with_clots)
        .order_by("-version")
    )
    for v in earlier:
        versions.setdefault(v.chain_id, []).append(v)
    rows = [{"check": c, "history": versions.get(c.chain_id, [])} for c in current]
    return render(
        request,
        "surveillance/check_list.html",
        {
            "program": run.program,
            "run": run,
            "page": page,
            "rows": rows,
            "can_record": can(request.user, "check.record", run),
            "can_amend": can(request.user, "check.amend", run),
        },
    )
