"""The trends page and its chart data."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from ecmo_web.surveillance import charts, queries
from ecmo_web.surveillance.views.common import _run


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
