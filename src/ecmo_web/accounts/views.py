"""The signed-in user's own pages: their API tokens (listed with expiry and last use, revocable)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ecmo_web.accounts import tokens
from ecmo_web.accounts.models import ApiToken, token_lifetime
from ecmo_web.kernel import user_of


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rows = [
        {"token": t, "live": t.is_live(now)}
        for t in ApiToken.objects.filter(user=user_of(request.user)).order_by("-created_at", "-pk")[:200]
    ]
    lifetime_h = token_lifetime().total_seconds() / 3600
    return render(request, "accounts/tokens.html", {"rows": rows, "lifetime_h": f"{lifetime_h:g}"})


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)  # another user's token is a 404
    try:
        tokens.revoke_token(actor=request.user, token=token)
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, "Token revoked: programs using it are refused from now on.")
    return redirect("account_tokens")


@login_required
def program_setup(request: HttpRequest, program_id: int) -> HttpResponse:
    """Program setup (the administrator's home, issue 11 §6): the program's facts and units, its members and
    roles, and the settings pages the user's role may open. Changes happen on those pages and in the admin
    (members and roles), each audited; this page itself only reads."""
    from ecmo_web.accounts.models import Membership, Program
    from ecmo_web.permissions import can
    from ecmo_web.shortcuts import get_checked

    program = get_checked(Program.objects.all(), request.user, "program.manage", pk=program_id)
    members = (
        Membership.objects.filter(program=program).select_related("user").order_by("role", "user__username")
    )
    pages = [
        (label, url_name, hint)
        for label, url_name, actions, hint in SETUP_PAGES
        if any(can(request.user, action, program) for action in actions)
    ]
    return render(
        request, "accounts/program_setup.html", {"program": program, "members": members, "pages": pages}
    )


# The program's setup pages, each shown to the roles whose action opens it.
SETUP_PAGES = (
    (
        "Surveillance settings",
        "surveillance_settings",
        ("settings.manage",),
        "alert thresholds, escalation, channels",
    ),
    (
        "Pathway criteria",
        "pathway_criteria",
        ("run.view", "settings.manage"),
        "weaning, decannulation and transport criteria",
    ),
    (
        "Perfusion settings",
        "perfusion_settings",
        ("run.view", "settings.manage"),
        "circuit selection margins, priming, standby",
    ),
    ("Device catalogue", "perfusion_catalogue", ("catalogue.manage",), "oxygenators, pumps, cannulas"),
    ("Audit trail", "audit_trail", ("audit.view",), "every change, who made it and why"),
    ("Calculators", "program_calculators", ("calculator.use",), "clinical formulas and scores"),
)
