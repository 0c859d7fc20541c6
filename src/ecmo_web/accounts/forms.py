"""The sign-in form, with failed-attempt throttling (see ``throttle``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from ecmo_web.accounts import throttle


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        if username and throttle.is_locked(username):
            raise ValidationError(throttle.LOCKED_MESSAGE, code="locked")
        try:
            data = super().clean()
        except ValidationError:
            if username:
                throttle.record_failure(username)
            raise
        throttle.record_success(username)
        return data
