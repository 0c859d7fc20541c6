"""Importing a CSV file of samples: upload, preview with errors, confirm."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from ecmo_core.surveillance import PARAMETERS
from ecmo_web.surveillance import actions, uploads
from ecmo_web.surveillance.forms import (
    CsvUploadForm,
)
from ecmo_web.surveillance.views.common import _run


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
