"""API tokens expire and can be revoked (docs/security.md).

- `POST /api/v1/auth/token` returns the token and its expiry: 12 h by default, site-configurable
- an expired token gets 401; the same token a minute before its expiry still works
- `DELETE /api/v1/auth/token` revokes the bearer token of the request (204); it gets 401 afterwards
- only a hash is stored; issuing is throttled per user (429) and both issuing and revoking are audited
- the "API tokens" page lists a user's own tokens (never another's) and revokes them
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import time_machine
from django.test import Client

from ecmo_web.accounts.models import ApiToken
from ecmo_web.audit.models import AuditEvent
from tests.web.conftest import PASSWORD, T0

HOUR = dt.timedelta(hours=1)


def _issue(username: str) -> Any:
    return Client().post(
        "/api/v1/auth/token",
        json.dumps({"username": username, "password": PASSWORD}),
        content_type="application/json",
    )


def _runs(token: str) -> int:
    return int(Client().get("/api/v1/runs", HTTP_AUTHORIZATION=f"Bearer {token}").status_code)


def test_a_token_expires_after_twelve_hours_by_default(personas: dict[str, Any]) -> None:
    with time_machine.travel(T0, tick=False):
        response = _issue("perfusionist")
    body = response.json()
    assert response.status_code == 200
    assert dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")) == T0 + 12 * HOUR
    with time_machine.travel(T0 + 12 * HOUR - dt.timedelta(minutes=1), tick=False):
        assert _runs(body["token"]) == 200
    with time_machine.travel(T0 + 12 * HOUR, tick=False):
        assert _runs(body["token"]) == 401
    stored = ApiToken.objects.get()
    assert body["token"] not in stored.digest and len(stored.digest) == 64


def test_the_lifetime_is_a_site_setting(personas: dict[str, Any], settings: Any) -> None:
    settings.ECMO_API_TOKEN_HOURS = 2
    with time_machine.travel(T0, tick=False):
        token = _issue("intensivist").json()["token"]
    with time_machine.travel(T0 + 2 * HOUR + dt.timedelta(seconds=1), tick=False):
        assert _runs(token) == 401


def test_delete_revokes_the_bearer_token(personas: dict[str, Any]) -> None:
    token = _issue("perfusionist").json()["token"]
    other = _issue("perfusionist").json()["token"]
    client = Client()
    response = client.delete("/api/v1/auth/token", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 204
    assert _runs(token) == 401 and _runs(other) == 200  # only the token of the request
    assert client.delete("/api/v1/auth/token", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert Client().delete("/api/v1/auth/token").status_code == 401
    revoked = AuditEvent.objects.get(action="api_token.revoked")
    assert revoked.actor == personas["perfusionist"] and revoked.after["revoked"] is True
    assert AuditEvent.objects.filter(action="api_token.issued").count() == 2
    assert all(token not in json.dumps(e.after) for e in AuditEvent.objects.all())


def test_issuing_is_throttled_per_user(personas: dict[str, Any]) -> None:
    from ecmo_web.accounts import tokens

    for _ in range(tokens.ISSUE_LIMIT):
        assert _issue("perfusionist").status_code == 200
    refused = _issue("perfusionist")
    assert refused.status_code == 429 and "Too many tokens" in refused.json()["detail"]
    assert ApiToken.objects.count() == tokens.ISSUE_LIMIT
    assert _issue("intensivist").status_code == 200  # another user is not held up


def test_the_tokens_page_lists_and_revokes_only_ones_own(personas: dict[str, Any], client_for: Any) -> None:
    mine = _issue("perfusionist").json()["token"]
    _issue("intensivist")
    theirs = ApiToken.objects.get(user=personas["intensivist"])
    client = client_for(personas["perfusionist"])
    page = client.get("/account/tokens/")
    assert page.status_code == 200 and page.content.decode().count("Revoke</button>") == 1
    assert "12 hours" in page.content.decode()
    csrf = client.cookies["csrftoken"].value
    assert client.post(f"/account/tokens/{theirs.pk}/revoke/", HTTP_X_CSRFTOKEN=csrf).status_code == 404
    own = ApiToken.objects.get(user=personas["perfusionist"])
    response = client.post(f"/account/tokens/{own.pk}/revoke/", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 302 and _runs(mine) == 401
    assert "revoked" in client.get("/account/tokens/").content.decode()
    theirs.refresh_from_db()
    assert not theirs.revoked
