"""``ecmo_web.forms.submit``: validate a ProgramForm, call the action, show its refusals beside the fields.

- [x] a valid form runs the action with the cleaned data and returns ``Done(value)``
- [x] an invalid form returns None and the action is not called
- [x] an action's ValidationError keyed by field lands on that field; None is returned
- [x] an action's ValidationError without a field is a non-field error
- [x] any other exception from the action propagates
"""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.core.exceptions import ValidationError

from ecmo_web.accounts.models import Program
from ecmo_web.forms import Done, ProgramForm, submit


class NameForm(ProgramForm):
    name = forms.CharField()


def test_it_runs_the_action_on_a_valid_form(program: Program) -> None:
    form = NameForm({"name": "Ada"}, program=program)

    done = submit(form, lambda d: d["name"].upper())

    assert done == Done("ADA")
    assert not form.errors


def test_it_does_not_call_the_action_on_an_invalid_form(program: Program) -> None:
    calls: list[dict[str, Any]] = []
    form = NameForm({}, program=program)

    assert submit(form, calls.append) is None
    assert calls == []
    assert "name" in form.errors


@pytest.mark.parametrize(
    ("error", "field", "message"),
    [
        (ValidationError({"name": "Taken."}), "name", "Taken."),
        (ValidationError("The run has ended."), "__all__", "The run has ended."),
    ],
)
def test_it_attaches_the_actions_validation_error(
    program: Program, error: ValidationError, field: str, message: str
) -> None:
    form = NameForm({"name": "Ada"}, program=program)

    def refuse(_: dict[str, Any]) -> None:
        raise error

    assert submit(form, refuse) is None
    assert form.errors == {field: [message]}


def test_it_lets_other_exceptions_through(program: Program) -> None:
    form = NameForm({"name": "Ada"}, program=program)

    def fail(_: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        submit(form, fail)
    assert not form.errors
