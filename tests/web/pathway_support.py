"""Helpers for the decisions, rounds and calculator tests: a logged-in client that sends the CSRF token like a
browser whose page carried it (the server still enforces CSRF)."""

from __future__ import annotations

from typing import Any

from django.test import Client

TOKEN = "t" * 32  # what the page's {% csrf_token %} would have set as the cookie and the form field


class BrowserClient:
    def __init__(self, user: Any) -> None:
        self.client = Client(enforce_csrf_checks=True)
        self.client.force_login(user)
        self.client.cookies["csrftoken"] = TOKEN
        self.user = user

    def get(self, path: str, **extra: Any) -> Any:
        return self.client.get(path, **extra)

    def post(self, path: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
        return self.client.post(
            path, {**(data or {}), "csrfmiddlewaretoken": TOKEN}, HTTP_X_CSRFTOKEN=TOKEN, **extra
        )
