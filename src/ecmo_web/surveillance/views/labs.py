"""Entering laboratory results by hand."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ecmo_web.surveillance import actions
from ecmo_web.surveillance.forms import (
    LabForm,
)
from ecmo_web.surveillance.models import (
    IngestBatch,
)
from ecmo_web.surveillance.views.common import _run


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
