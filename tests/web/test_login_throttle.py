"""Password guessing is slowed on the login page and the token endpoint alike.

- a few mistakes do not lock anyone out, and a success clears the count
- after MAX_FAILURES failures the username is refused, even with the right password, with a clear message
- the token endpoint answers 429 for a locked username
- counts are per username (another user is unaffected)
"""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from ecmo_web.accounts import throttle
from tests.web.conftest import PASSWORD


def _login(client: Client, username: str, password: str) -> Any:
    return client.post("/login/", {"username": username, "password": password})


def test_it_forgives_a_few_mistakes_and_resets_on_success(personas: dict[str, Any]) -> None:
    client = Client()
    for _ in range(throttle.MAX_FAILURES - 1):
        assert _login(client, "perfusionist", "wrong").status_code == 200
    assert _login(client, "perfusionist", PASSWORD).status_code == 302
    assert not throttle.is_locked("perfusionist")


def test_it_locks_a_username_after_repeated_failures(personas: dict[str, Any]) -> None:
    client = Client()
    for _ in range(throttle.MAX_FAILURES):
        _login(client, "perfusionist", "wrong")
    response = _login(client, "Perfusionist", PASSWORD)
    assert response.status_code == 200 and "Too many failed sign-ins" in response.content.decode()
    token = Client().post(
        "/api/v1/auth/token",
        json.dumps({"username": "perfusionist", "password": PASSWORD}),
        content_type="application/json",
    )
    assert token.status_code == 429 and "Too many failed sign-ins" in token.json()["detail"]
    assert _login(Client(), "intensivist", PASSWORD).status_code == 302


def test_it_counts_token_endpoint_failures_too(personas: dict[str, Any]) -> None:
    for _ in range(throttle.MAX_FAILURES):
        Client().post(
            "/api/v1/auth/token",
            json.dumps({"username": "surgeon", "password": "nope"}),
            content_type="application/json",
        )
    assert throttle.is_locked("surgeon")
    assert _login(Client(), "surgeon", PASSWORD).status_code == 200
