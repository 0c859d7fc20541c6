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


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rows = [
        {"token": t, "live": t.is_live(now)}
        for t in ApiToken.objects.filter(user=request.user).order_by("-created_at", "-pk")[:200]
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
