"""SMART on FHIR EHR launch: /smart/launch opens the launching patient's run inside ECMO Steward.

- a registered EHR: the browser goes to its authorization endpoint with client id, launch, state, aud and a PKCE
  S256 challenge; the callback exchanges the code (the verifier must match the challenge), reads the Patient
  and lands on the patient's run when the user may see it;
- an unknown iss is refused; a wrong state is a 400; a patient outside the user's programs is a 404 page;
- the user signs in to ECMO Steward first (the launch of a signed-out browser goes to the login page).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest


class FakeEhr(BaseHTTPRequestHandler):
    """An EHR's SMART authorization server and FHIR endpoint on 127.0.0.1."""

    base = ""
    challenge = ""
    mrn = "TEST-MRN-1"

    def do_GET(self) -> None:
        if self.path == "/fhir/.well-known/smart-configuration":
            self._json(
                200, {"authorization_endpoint": f"{self.base}/auth", "token_endpoint": f"{self.base}/token"}
            )
        elif self.path == "/fhir/Patient/ehr-77" and self.headers["Authorization"] == "Bearer TEST-TOKEN":
            identifier = {"type": {"coding": [{"code": "MR"}]}, "value": FakeEhr.mrn}
            self._json(200, {"resourceType": "Patient", "id": "ehr-77", "identifier": [identifier]})
        else:
            self._json(404, {})

    def do_POST(self) -> None:
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        verifier = form["code_verifier"][0]
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if form["code"] != ["TEST-CODE"] or digest != FakeEhr.challenge:
            self._json(400, {"error": "invalid_grant"})
            return
        self._json(200, {"access_token": "TEST-TOKEN", "token_type": "bearer", "patient": "ehr-77"})

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def ehr(settings: Any) -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), FakeEhr)
    FakeEhr.base = f"http://127.0.0.1:{server.server_address[1]}"
    FakeEhr.mrn = "TEST-MRN-1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    iss = f"{FakeEhr.base}/fhir"
    settings.ECMO_SMART_CLIENTS = {iss: "ecmo-steward-test"}
    yield iss
    server.shutdown()
    server.server_close()
    thread.join(5)


def _authorize(client: Any, iss: str) -> dict[str, str]:
    response = client.get("/smart/launch", {"iss": iss, "launch": "TEST-LAUNCH"})
    assert response.status_code == 302
    url = urllib.parse.urlparse(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{FakeEhr.base}/auth"
    params = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
    FakeEhr.challenge = params["code_challenge"]
    return params


def test_it_opens_the_launching_patients_run(
    ehr: str, run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for(personas["intensivist"])
    params = _authorize(client, ehr)
    assert (params["client_id"], params["launch"], params["aud"], params["code_challenge_method"]) == (
        "ecmo-steward-test",
        "TEST-LAUNCH",
        ehr,
        "S256",
    )
    assert params["redirect_uri"].endswith("/smart/callback")
    response = client.get("/smart/callback", {"code": "TEST-CODE", "state": params["state"]})
    assert response.status_code == 302 and response["Location"] == f"/runs/{run.pk}/"


def test_it_refuses_an_unknown_ehr_and_a_wrong_state(
    ehr: str, run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for(personas["intensivist"])
    unknown = client.get("/smart/launch", {"iss": "https://ehr.invalid/fhir", "launch": "x"})
    assert unknown.status_code == 400 and b"not registered" in unknown.content
    _authorize(client, ehr)
    assert client.get("/smart/callback", {"code": "TEST-CODE", "state": "forged"}).status_code == 400


def test_it_shows_no_run_outside_the_users_programs(
    ehr: str, run: Any, personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for(personas["outsider"])
    params = _authorize(client, ehr)
    response = client.get("/smart/callback", {"code": "TEST-CODE", "state": params["state"]})
    assert response.status_code == 404 and b"No ECMO run of this patient" in response.content


def test_it_asks_a_signed_out_browser_to_sign_in(ehr: str, client: Any) -> None:
    response = client.get("/smart/launch", {"iss": ehr, "launch": "TEST-LAUNCH"})
    assert response.status_code == 302 and response["Location"].startswith("/login/")
