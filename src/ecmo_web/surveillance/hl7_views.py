"""The inbound HL7 message log of a program (every device message received, what became of it, the ACK sent) and
re-processing of a dead-lettered message once its console or bed is associated."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from ecmo_web.accounts.models import Program
from ecmo_web.permissions import can, restrict
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance.hl7_ingest import reprocess_dead_letter
from ecmo_web.surveillance.models import DeadLetter, InboundMessage

PAGE_SIZE = 100


@login_required
def inbound_messages(request: HttpRequest, program_id: int) -> HttpResponse:
    # Raw messages carry patient identifiers: the log is for those who may see them.
    program = get_checked(Program.objects.all(), request.user, "patient.identify", pk=program_id)
    query = request.GET.get("q", "").strip()[:200]
    outcome = request.GET.get("outcome", "")
    rows = restrict(InboundMessage.objects.all(), request.user, "patient.identify").filter(program=program)
    if query:
        rows = rows.filter(
            Q(control_id__icontains=query)
            | Q(sending_application__icontains=query)
            | Q(peer__icontains=query)
        )
    if outcome in InboundMessage.Outcome.values:
        rows = rows.filter(outcome=outcome)
    return render(
        request,
        "surveillance/inbound_messages.html",
        {
            "program": program,
            "rows": list(rows.select_related("run__patient", "dead_letter")[:PAGE_SIZE]),
            "query": query,
            "outcome": outcome,
            "outcomes": InboundMessage.Outcome.choices,
            "page_size": PAGE_SIZE,
            "can_reprocess": can(request.user, "circuit.edit", program),
        },
    )


@login_required
@require_POST
def reprocess(request: HttpRequest, letter_id: int) -> HttpResponse:
    letter = get_checked(DeadLetter.objects.all(), request.user, "circuit.edit", pk=letter_id)
    try:
        stored = reprocess_dead_letter(actor=request.user, letter=letter)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Message {letter.control_id} re-processed: {stored} values stored.")
    return redirect(reverse("hl7_inbound_messages", kwargs={"program_id": letter.program_id}))
