"""Access hardening (issue: reliability and security, item 4).

- every page carries a strict Content-Security-Policy (no framing, scripts from this origin only), nosniff,
  a referrer policy and a permissions policy; no template holds an inline script or event-handler attribute
- passwords are stored with Argon2id; an old PBKDF2 hash still signs in and is upgraded
- a session idle for longer than the site's idle timeout is signed out; background refreshes don't count
- two-factor: a user with an authenticator must enter a one-time code before any page; a wrong code is
  refused; a role the site requires it for is sent to set one up; the token endpoint wants the code too;
  enabling it is audited
- ``ecmo check --deploy`` is clean with production settings from the environment
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.hashers import make_password
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ecmo_web.audit.models import AuditEvent

SRC = Path(__file__).resolve().parents[2] / "src" / "ecmo_web"


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def _wrong(device: TOTPDevice) -> str:
    return "000000" if _code(device) != "000000" else "111111"


def _let_through(response: Any) -> bool:
    """The page answered (a program member's home redirects to their run list), not the sign-in gates."""
    location = response.get("Location", "")
    return response.status_code == 200 or (
        response.status_code == 302 and not location.startswith(("/account/", "/login/"))
    )


def _device(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_it_sends_security_headers_on_pages(client_for: Any, personas: dict[str, Any]) -> None:
    response = client_for(personas["perfusionist"]).get("/")
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "object-src 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_it_keeps_templates_free_of_inline_scripts() -> None:
    offenders = []
    for template in SRC.rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)([^>]*)>", text):
            if 'type="application/json"' not in match.group(1):
                offenders.append(f"{template}: inline <script>")
        if re.search(r"\son[a-z]+=\"", text):
            offenders.append(f"{template}: inline event handler")
    assert offenders == []


def test_it_hashes_passwords_with_argon2(settings: Any, make_user: Any) -> None:
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = make_user("argon")
    assert user.password.startswith("argon2$argon2id$")


def test_it_upgrades_an_old_pbkdf2_hash_at_sign_in(settings: Any, make_user: Any) -> None:
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = make_user("legacy")
    user.password = make_password("correct-horse-battery", hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])
    client = Client(enforce_csrf_checks=False)
    assert client.login(username="legacy", password="correct-horse-battery")
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


def test_it_signs_out_an_idle_session(settings: Any, make_user: Any) -> None:
    settings.ECMO_IDLE_SECONDS = 30 * 60
    make_user("idle")
    client = Client()
    with time_machine.travel(dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC), tick=False) as clock:
        assert client.login(username="idle", password="correct-horse-battery")
        assert client.get("/").status_code == 200
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/").status_code == 200  # activity: the idle clock restarts
        clock.shift(dt.timedelta(minutes=20))
        assert client.get("/", headers={"X-Ecmo-Background": "1"}).status_code == 200  # not activity
        clock.shift(dt.timedelta(minutes=11))  # 31 min since the last request the user made
        response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_it_asks_for_a_one_time_code_when_the_user_has_an_authenticator(make_user: Any) -> None:
    user = make_user("twofa")
    device = _device(user)
    client = Client()
    assert client.login(username="twofa", password="correct-horse-battery")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/verify/")
    assert client.get("/api/v1/runs").status_code == 401
    wrong = client.post("/account/two-factor/verify/", {"code": _wrong(device)})
    assert wrong.status_code == 200 and b"does not match" in wrong.content
    assert client.get("/").status_code == 302
    # django-otp throttles after a failure (1 s, doubling): a right code at once is still refused
    assert client.post("/account/two-factor/verify/", {"code": _code(device)}).status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)):
        ok = client.post("/account/two-factor/verify/", {"code": _code(device), "next": "/"})
        assert ok.status_code == 302 and ok["Location"] == "/"
        assert client.get("/").status_code == 200


def test_it_refuses_a_code_that_is_not_six_digits(make_user: Any) -> None:
    user = make_user("twofa")
    _device(user)
    client = Client()
    client.login(username="twofa", password="correct-horse-battery")
    response = client.post("/account/two-factor/verify/", {"code": "12ab56"})
    assert b"six digits" in response.content


def test_it_never_redirects_off_site_after_the_code(make_user: Any) -> None:
    user = make_user("twofa")
    device = _device(user)
    client = Client()
    client.login(username="twofa", password="correct-horse-battery")
    response = client.post(
        "/account/two-factor/verify/", {"code": _code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_it_sends_a_required_role_to_set_up_an_authenticator(settings: Any, personas: dict[str, Any]) -> None:
    settings.ECMO_REQUIRE_2FA_ROLES = ["director", "admin"]
    director = Client()
    director.login(username="director", password="correct-horse-battery")
    response = director.get("/")
    assert response.status_code == 302 and response["Location"] == "/account/two-factor/"
    nurse = Client()
    nurse.login(username="bedside_nurse", password="correct-horse-battery")
    assert _let_through(nurse.get("/"))


def test_it_enables_an_authenticator_with_one_valid_code_and_audits_it(personas: dict[str, Any]) -> None:
    user = personas["director"]
    client = Client()
    client.login(username="director", password="correct-horse-battery")
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and b"<svg" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    refused = client.post("/account/two-factor/", {"code": _wrong(device)})
    assert b"does not match" in refused.content
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)):
        accepted = client.post("/account/two-factor/", {"code": _code(device)})
        assert accepted.status_code == 302
        assert _let_through(client.get("/"))  # this session is verified
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
    assert AuditEvent.objects.filter(action="two_factor.enabled", actor=user).count() == 1


def test_it_wants_the_code_for_a_token_too(make_user: Any) -> None:
    user = make_user("twofa")
    device = _device(user)
    client = Client()
    body = {"username": "twofa", "password": "correct-horse-battery"}
    refused = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert refused.status_code == 401 and "otp" in refused.json()["detail"]
    issued = client.post(
        "/api/v1/auth/token", {**body, "otp": _code(device)}, content_type="application/json"
    )
    assert issued.status_code == 200 and issued.json()["token"]


@pytest.mark.parametrize("https", ["1"])
def test_it_passes_the_deployment_checklist(tmp_path: Path, https: str) -> None:
    env = {
        **os.environ,
        "ECMO_HTTPS": https,
        "ECMO_SECRET_KEY": "k" * 10 + "Zx9!pQ2#rT7&vW4*yB6@nM1$cL8^hJ3%gF5(dS0)aE",
        "ECMO_ALLOWED_HOSTS": "ecmo.example.org",
        "ECMO_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "ecmo_web.settings",
    }
    env.pop("ECMO_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_lets_only_the_configured_ehr_origins_frame_its_pages(
    client_for: Any, personas: dict[str, Any], settings: Any
) -> None:
    settings.ECMO_FRAME_ANCESTORS = ["https://ehr.example.org"]
    response = client_for(personas["perfusionist"]).get("/")
    assert "frame-ancestors 'self' https://ehr.example.org;" in response["Content-Security-Policy"] + ";"
    assert "X-Frame-Options" not in response


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"ECMO_FRAME_ANCESTORS": "http://ehr.example.org", "ECMO_HTTPS": "1"}, "is not an https origin"),
        (
            {"ECMO_FRAME_ANCESTORS": "https://ehr.example.org *", "ECMO_HTTPS": "1"},
            "'*' is not an https origin",
        ),
        ({"ECMO_FRAME_ANCESTORS": "https://ehr.example.org"}, "needs ECMO_HTTPS=1"),
    ],
)
def test_it_refuses_to_start_with_unsafe_frame_ancestors(env: dict[str, str], words: str) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ECMO_HTTPS")}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**base, "DJANGO_SETTINGS_MODULE": "ecmo_web.settings", "ECMO_SECRET_KEY": "x" * 50, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "ECMO_FRAME_ANCESTORS" in result.stderr and words in result.stderr
