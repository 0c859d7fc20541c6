"""Form helpers shared by every app: program-local date-times, numbers typed in the program's units, and a base
form that knows its program."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict

from ecmo_core import units
from ecmo_core.errors import InputError
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
        # BaseForm._post_clean is Django's hook after cleaning (django/forms/forms.py); django-stubs omits it.
        super()._post_clean()  # type: ignore[misc]
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
        conflicting = getattr(error, "field", None)
        if (
            current is not None
            and isinstance(conflicting, str)
            and conflicting in self.fields
            and self.is_bound
        ):
            # A page's data is a QueryDict (copied, to keep every value of a multiple choice); the API's, a dict.
            data = self.data.copy() if isinstance(self.data, MultiValueDict) else dict(self.data)
            data[self.add_prefix(conflicting)] = str(current)
            self.data = data


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """``form.fields[name]``, a choice field whose choices are set per request (the program's members, say).
    (``BaseForm.fields`` holds plain ``Field``s to a type checker.)"""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField), name
    return field


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """``form.fields[name]``, a model choice field whose queryset is set per request (the run's components)."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField), name
    return field


class MeasureField(forms.FloatField):
    """A number typed in the program's units (``ecmo_core.units``), cleaned to the canonical stored value.

    The label and the accepted range come from the parameter registry in local units ("Pre-oxygenator pressure
    (kPa)", "-13.33 to 106.65 kPa"). ``offered`` is the canonical value the box was filled with (telemetry or the
    check being amended): typed back unchanged, it is returned exactly, so a kPa round trip never alters it.

    An entry that is not itself a registry parameter but converts like one (a P/F ratio like PaO2, EtCO2 like
    PaCO2) gives its clinical ``name``, to which the local unit is added ("P/F ratio (kPa)"); ``bounds``
    (canonical low, high) is an entry's own clinical range in place of the registry's plausibility range, stated
    and checked in the local unit; ``hint`` writes the help text for the program's units. A form declares such
    fields once and calls ``localise(prefs)`` on its own copies for the program it serves.
    """

    def __init__(
        self,
        code: str,
        prefs: units.UnitPreferences = units.US,
        label: str | None = None,
        *,
        name: str | None = None,
        bounds: tuple[float, float] | None = None,
        required: bool = False,
        hint: Callable[[units.UnitPreferences], str] | None = None,
    ) -> None:
        self.code, self.clinical_name, self.bounds, self.hint = code, name, bounds, hint
        self.fixed_label = label
        self.offered: float | None = None
        super().__init__(
            required=required,
            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "data-code": code}),
        )
        self.localise(prefs)

    def label_for(self, prefs: units.UnitPreferences) -> str:
        """The field's label in ``prefs``' units: "P/F ratio (kPa)", "Haemoglobin (g/L)"."""
        if self.fixed_label:
            return self.fixed_label
        if self.clinical_name is None:
            return units.label_with_unit(self.code, prefs)
        unit = units.unit_of(self.code, prefs)
        return self.clinical_name if unit in ("", "pH", "0/1") else f"{self.clinical_name} ({unit})"

    def localise(self, prefs: units.UnitPreferences) -> None:
        """Read and write this field in ``prefs``' units (label, accepted range, messages, help)."""
        self.prefs = prefs
        self.accepted = units.range_text(self.code, prefs, bounds=self.bounds)
        self.label = self.label_for(prefs)
        self.error_messages["invalid"] = f"must be a number ({self.accepted})"
        if self.hint is not None:
            self.help_text = self.hint(prefs)

    def shown(self, canonical: float) -> str:
        return units.entry_text(self.code, canonical, self.prefs)

    def clean(self, value: Any) -> float | None:
        local = super().clean(value)
        if local is None:
            return None
        if self.offered is not None and local == float(self.shown(self.offered)):
            return self.offered
        try:
            return units.check_local(self.code, local, self.prefs, bounds=self.bounds)
        except InputError as error:
            raise ValidationError(error.message) from None


def localise_measures(form: forms.Form, offered: dict[str, Any] | None = None) -> None:
    """Show canonical initial values of ``form``'s measure fields in local units and remember them as offered.

    ``offered`` (canonical, by code) names values a bound form was filled with (posted telemetry prefill, the
    check being amended), so that values submitted unchanged keep their exact stored value.
    """
    for name, field in form.fields.items():
        if not isinstance(field, MeasureField):
            continue
        value = (offered or {}).get(name, form.initial.get(name))
        if isinstance(value, dict):
            value = value.get("value")
        try:
            canonical = float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            canonical = None
        if canonical is None:
            continue
        field.offered = canonical
        if name in form.initial:
            form.initial[name] = field.shown(canonical)


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
