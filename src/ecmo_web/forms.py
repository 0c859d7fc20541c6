"""Form helpers shared by every app: program-local date-times and a base form that knows its program."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django import forms
from django.core.exceptions import ValidationError

from ecmo_web.accounts.models import Program
from ecmo_web.timezones import from_local, to_local

T = TypeVar("T")


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class LocalDateTimeField(forms.DateTimeField):
    """A date-time typed in the program's wall-clock time; cleaned to aware UTC by ProgramForm."""

    widget = LocalDateTimeInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
        super().__init__(**kwargs)


class ProgramForm(forms.Form):
    """Base form: local date-times are read in the program's time zone and returned as aware UTC."""

    def __init__(self, *args: Any, program: Program, now: dt.datetime | None = None, **kwargs: Any) -> None:
        self.program = program
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, LocalDateTimeField) and now is not None and name not in self.initial:
                local = to_local(now, program)
                assert local is not None
                self.initial[name] = local.replace(second=0, microsecond=0, tzinfo=None)

    def _post_clean(self) -> None:
        super()._post_clean()
        for name, field in self.fields.items():
            value = self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else None
            if isinstance(field, LocalDateTimeField) and isinstance(value, dt.datetime):
                self.cleaned_data[name] = from_local(value.replace(tzinfo=None), self.program)

    def add_action_errors(self, error: ValidationError) -> None:
        """Attach errors raised by an action (keyed by field) to the form.

        Errors on a hidden field (the record's ``version``) show at the top of the form. After a version conflict
        the form carries the version now stored, so that the editor, having read the other person's values, can
        apply theirs again.
        """
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                shown = field in self.fields and not self.fields[field].widget.is_hidden
                self.add_error(field if shown else None, errors)
        else:
            self.add_error(None, error)
        current = getattr(error, "current", None)
        field = getattr(error, "field", None)
        if current is not None and field in self.fields and self.is_bound:
            self.data = self.data.copy()
            self.data[self.add_prefix(field)] = str(current)


def version_field() -> forms.IntegerField:
    """The hidden ``version`` an edit form carries: the record's version when the form was opened."""
    return forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


@dataclass(frozen=True)
class Done(Generic[T]):
    """The action ran; ``value`` is what it returned (e.g. the new run)."""

    value: T


def submit(form: ProgramForm, perform: Callable[[dict[str, Any]], T]) -> Done[T] | None:
    """Validate ``form`` and, if valid, call ``perform(form.cleaned_data)``; ``Done(result)`` if it ran, else None.

    Every write goes through an action, and an action may refuse its input with a ValidationError keyed by field
    (or with no field). The view shows those errors beside the fields, just like the form's own errors, so the
    action's ValidationError is attached with ``form.add_action_errors`` and None is returned. None is also
    returned (without calling ``perform``) when the form itself is invalid. Any other exception propagates.
    """
    if not form.is_valid():
        return None
    try:
        value = perform(form.cleaned_data)
    except ValidationError as exc:
        form.add_action_errors(exc)
        return None
    return Done(value)
