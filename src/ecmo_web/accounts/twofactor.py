"""Optional time-based one-time codes (RFC 6238) as a second sign-in factor, through django-otp.

A user adds an authenticator app on the set-up page (a QR code and the secret in words), proves it with one
code, and from then on every new session asks for a code after the password. The site can require it for
roles (``ECMO_REQUIRE_2FA_ROLES``); ``ecmo_web.security.TwoFactorMiddleware`` enforces it. Adding and
removing an authenticator are audited.
"""

from __future__ import annotations

from typing import Any

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from ecmo_web.audit import chain
from ecmo_web.security import has_authenticator, requires_second_factor

ISSUER = "ECMO Steward"


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Six-digit code from your authenticator app",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"].strip()
        if not code.isdigit():
            raise forms.ValidationError("the code is six digits (0–9)")
        return code


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("home")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return reverse("home")
    return target


@transaction.atomic
def confirm_device(*, user: Any, device: TOTPDevice, code: str) -> bool:
    """Confirm a new authenticator with one valid code; audited."""
    if not device.verify_token(code):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    chain.append(actor=user, action="two_factor.enabled", obj=device, after={"device": device.name})
    return True


@transaction.atomic
def remove_devices(*, user: Any) -> int:
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    chain.append(
        actor=user, action="two_factor.removed", object_type="otp_totp.totpdevice", after={"removed": removed}
    )
    return int(removed)


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and "remove" in request.POST:
        if requires_second_factor(request.user):
            form.add_error(None, "your role requires a second factor: it cannot be removed")
        else:
            remove_devices(user=request.user)
            return HttpResponseRedirect(reverse("two_factor_setup"))
    elif request.method == "POST" and form.is_valid():
        if confirm_device(user=request.user, device=device, code=form.cleaned_data["code"]):
            otp_login(request, device)
            return HttpResponseRedirect(reverse("home"))
        form.add_error("code", "that code does not match; check the phone's clock and try the next code")
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#10222e")
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": qr,
            "secret": _base32(device),
            "enabled": has_authenticator(request.user),
            "required": requires_second_factor(request.user),
        },
    )


def _base32(device: TOTPDevice) -> str:
    import base64

    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in TOTPDevice.objects.filter(user=request.user, confirmed=True):
            if device.verify_token(form.cleaned_data["code"]):
                otp_login(request, device)
                return HttpResponseRedirect(_next(request))
        form.add_error("code", "that code does not match; try the next code your app shows")
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next(request)})


urlpatterns = [
    path("account/two-factor/", setup, name="two_factor_setup"),
    path("account/two-factor/verify/", verify, name="two_factor_verify"),
]
