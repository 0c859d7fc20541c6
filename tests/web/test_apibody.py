"""Reading JSON bodies for the API (``ecmo_web.apibody``).

- [x] list positions are spelled in brackets, fields joined by dots, the empty path is the body
- [x] a body that is not JSON, or not an object, is refused naming the body
- [x] a schema error names each bad field by its path
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from ninja import Schema

from ecmo_web.apibody import field_path, parse


class Person(Schema):
    user: str
    role: str = ""


class Body(Schema):
    title: str
    participants: list[Person] = []


def _request(body: bytes) -> object:
    return RequestFactory().post("/x", data=body, content_type="application/json")


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("participants", 0, "user"), "participants[0].user"),
        (("title",), "title"),
        ((), "body"),
        (("matrix", 2, 3), "matrix[2][3]"),
    ],
)
def test_it_spells_field_paths(loc: tuple[int | str, ...], path: str) -> None:
    assert field_path(loc) == path


@pytest.mark.parametrize(
    ("body", "message"), [(b"{", "is not valid JSON"), (b"[1]", "must be a JSON object")]
)
def test_it_refuses_bodies_that_are_not_json_objects(body: bytes, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse(_request(body), Body)  # type: ignore[arg-type]
    assert err.value.message_dict == {"body": [message]}


def test_it_names_each_bad_field_by_its_path() -> None:
    with pytest.raises(ValidationError) as err:
        parse(_request(b'{"participants": [{"role": "x"}]}'), Body)  # type: ignore[arg-type]
    assert set(err.value.message_dict) == {"title", "participants[0].user"}


def test_it_returns_the_validated_schema() -> None:
    body = parse(_request(b'{"title": "VV", "participants": [{"user": "ann"}]}'), Body)  # type: ignore[arg-type]
    assert body.title == "VV" and body.participants[0].user == "ann"
