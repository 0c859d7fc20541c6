"""Reading a JSON request body into a schema, for API handlers that take the raw body (``parse``).

Errors are Django ``ValidationError``s keyed by the field's path, list positions in brackets
(``participants[0].user``, as the samples and checks APIs spell them), so the API's one error handler
answers 400 naming the field.
"""

from __future__ import annotations

import json
from typing import Any

import pydantic
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Schema


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("participants", 0, "user")`` → ``"participants[0].user"``; the empty path is the body itself."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "body"


def parse(request: HttpRequest, schema: type[Schema]) -> Any:
    """The request's JSON object validated by ``schema``, or a ``ValidationError`` naming each bad field."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationError({"body": "is not valid JSON"}) from None
    if not isinstance(data, dict):
        raise ValidationError({"body": "must be a JSON object"})
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as err:
        errors: dict[str, list[str]] = {}
        for e in err.errors():
            errors.setdefault(field_path(tuple(e["loc"])), []).append(e["msg"])
        raise ValidationError(errors) from None
