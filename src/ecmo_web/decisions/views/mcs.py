"""The MCS device page and its checks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from ecmo_web.decisions import actions
from ecmo_web.decisions.forms import (
    McsCheckForm,
)
from ecmo_web.decisions.kinds import MCS_READINGS
from ecmo_web.decisions.models import (
    McsCheck,
)
from ecmo_web.decisions.views.common import _now
from ecmo_web.forms import submit
from ecmo_web.permissions import can
from ecmo_web.runs.models import McsDevice
from ecmo_web.shortcuts import get_checked


@login_required
def mcs_device(request: HttpRequest, device_id: int) -> HttpResponse:
    device = get_checked(
        McsDevice.objects.select_related("run__program", "run__patient").prefetch_related(
            "settings", Prefetch("checks", queryset=McsCheck.objects.select_related("checked_by"))
        ),
        request.user,
        "run.view",
        pk=device_id,
    )
    program = device.run.program
    form = McsCheckForm(request.POST or None, program=program, now=_now(), device_kind=device.kind)
    if request.method == "POST":
        get_checked(McsDevice.objects.all(), request.user, "mcs.edit", pk=device_id)
        if submit(
            form,
            lambda d: actions.record_mcs_check(
                actor=request.user,
                device=device,
                at=d["at"],
                readings=form.readings(),
                position_confirmed=d["position_confirmed"],
                position_note=d["position_note"],
                limb_perfusion_ok=d["limb_perfusion_ok"],
                alarms=d["alarms"],
                note=d["note"],
            ),
        ):
            messages.success(request, "Check recorded.")
            return redirect("mcs_device", device_id=device.pk)
    labels = {
        code: (label, unit) for code, (_lo, _hi, unit, label) in MCS_READINGS.get(device.kind, {}).items()
    }
    events = sorted(
        [("setting", s.at, s) for s in device.settings.all()]
        + [("check", c.at, c) for c in device.checks.all()],
        key=lambda e: e[1],
        reverse=True,
    )
    return render(
        request,
        "decisions/mcs_device.html",
        {
            "program": program,
            "run": device.run,
            "device": device,
            "form": form,
            "events": events,
            "labels": labels,
            "decisions": device.decisions.all(),
            "can_mcs": can(request.user, "mcs.edit", device),
        },
        status=400 if form.errors else 200,
    )
