"""SMART on FHIR EHR launch: ``/smart/launch`` opens the launching patient's run inside the EHR.

The EHR calls ``/smart/launch?iss=<its FHIR base>&launch=<opaque>``. ECMO Steward accepts only an ``iss`` it is
registered with (``ECMO_SMART_CLIENTS``: FHIR base → client id), reads the server's
``.well-known/smart-configuration``, and sends the browser to its authorization endpoint (authorization code
with PKCE S256, ``launch`` and ``state``). ``/smart/callback`` checks the state, exchanges the code for a token
whose context names the patient, reads that Patient from the EHR, and matches its medical record number to a
patient of a program the signed-in user may see; the user lands on that patient's latest run. The user signs in
to ECMO Steward as usual (the EHR's token is used only for this lookup and is not kept): a role still decides what
they see.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse
import urllib.request
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse

from ecmo_web.permissions import restrict
from ecmo_web.runs.models import EcmoRun

MRN_TYPE = "MR"  # v2-0203 identifier type of a medical record number


def _get_json(url: str, token: str | None = None) -> Any:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a registered https/http FHIR base
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def _post_form(url: str, data: dict[str, str]) -> Any:
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(  # noqa: S310
        url, data=body, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def _fail(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "registry/smart_error.html", {"message": message}, status=status)


@login_required
def launch(request: HttpRequest) -> HttpResponse:
    iss = request.GET.get("iss", "")
    launch_token = request.GET.get("launch", "")
    clients: dict[str, str] = settings.ECMO_SMART_CLIENTS
    if iss not in clients:
        return _fail(request, "This EHR is not registered with ECMO Steward (unknown iss).")
    if not launch_token:
        return _fail(request, "The EHR did not send a launch context.")
    try:
        config = _get_json(iss.rstrip("/") + "/.well-known/smart-configuration")
        authorize = str(config["authorization_endpoint"])
        token_endpoint = str(config["token_endpoint"])
    except (OSError, ValueError, KeyError):
        return _fail(request, "The EHR's SMART configuration could not be read.", status=502)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(24)
    request.session["smart"] = {
        "state": state,
        "verifier": verifier,
        "iss": iss,
        "token_endpoint": token_endpoint,
    }
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": clients[iss],
            "redirect_uri": request.build_absolute_uri(reverse("smart_callback")),
            "launch": launch_token,
            "scope": "launch patient/Patient.read openid fhirUser",
            "state": state,
            "aud": iss,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return redirect(f"{authorize}?{query}")


def _mrns(patient: dict[str, Any]) -> list[str]:
    found = []
    for identifier in patient.get("identifier", []):
        codings = identifier.get("type", {}).get("coding", [])
        if any(c.get("code") == MRN_TYPE for c in codings) and identifier.get("value"):
            found.append(str(identifier["value"]))
    return found


@login_required
def callback(request: HttpRequest) -> HttpResponse:
    started = request.session.pop("smart", None)
    if started is None or request.GET.get("state") != started["state"]:
        return HttpResponseBadRequest("SMART launch: unknown or expired state")
    if "code" not in request.GET:
        return _fail(
            request, f"The EHR did not authorise the launch ({request.GET.get('error', 'no code')})."
        )
    iss = started["iss"]
    try:
        token = _post_form(
            started["token_endpoint"],
            {
                "grant_type": "authorization_code",
                "code": request.GET["code"],
                "redirect_uri": request.build_absolute_uri(reverse("smart_callback")),
                "client_id": settings.ECMO_SMART_CLIENTS[iss],
                "code_verifier": started["verifier"],
            },
        )
        patient_id = str(token["patient"])
        patient = _get_json(
            f"{iss.rstrip('/')}/Patient/{urllib.parse.quote(patient_id)}", token["access_token"]
        )
    except (OSError, ValueError, KeyError):
        return _fail(request, "The EHR did not return the launching patient.", status=502)
    runs = restrict(EcmoRun.objects.all(), request.user, "run.view").filter(
        patient__identifiers__kind="mrn", patient__identifiers__value__in=_mrns(patient)
    )
    run = runs.order_by("-started_at").first()
    if run is None:
        return _fail(request, "No ECMO run of this patient is in your programs.", status=404)
    return redirect("run_detail", run_id=run.pk)
