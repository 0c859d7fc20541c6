"""The flowsheet page: one ECMO day hour by hour (checks, console and monitor medians, labs)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from ecmo_web.surveillance import flowsheet
from ecmo_web.surveillance.views.common import _run


@login_required
def flowsheet_page(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id, "run.view")
    now = timezone.now()
    final = flowsheet.last_day(run, now)
    raw = request.GET.get("day", "")
    if raw == "":
        day = final
    elif raw.isdigit() and 0 <= int(raw) <= final:
        day = int(raw)
    else:
        raise Http404(f"day must be an ECMO day from 0 to {final}")
    sheet = flowsheet.build(run, day=day, now=now)
    return render(
        request,
        "surveillance/flowsheet.html",
        {"program": run.program, "run": run, "sheet": sheet, "days": range(final + 1), "now": now},
    )
