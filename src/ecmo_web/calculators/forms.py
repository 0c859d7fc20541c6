"""A form for any calculator, built from ``ecmo_core.calc.describe(name)``.

Types map to fields (bool → checkbox, int/float → numbers, ``X | None`` → optional, ``str`` → a choice where the
core lists the choices, ``Iterable[str]`` → check boxes, anything else → JSON). The core validates the values;
its ``InputError`` is shown beside the field it names.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms

from ecmo_core import anticoagulation, scores, units
from ecmo_core.calc import describe
from ecmo_web.calculators.present import is_fraction, label, label_in, local_parameter

# Choices for string keywords, taken from the core's own tables so the two never disagree.
CHOICES: dict[str, tuple[str, ...]] = {
    "diagnosis": tuple(scores.RESP_DIAGNOSIS_POINTS),
    "diagnoses": tuple(scores.SAVE_DIAGNOSIS_POINTS),
    "sex": ("male", "female"),
    "method": ("mosteller", "dubois"),
    "agent": tuple(anticoagulation.AGENTS),
    "bleeding_risk": tuple(anticoagulation.BLEEDING_RISKS),
    "test": tuple(anticoagulation.TESTS),
}


def _choice_pairs(name: str) -> list[tuple[str, str]]:
    return [(c, c.replace("_", " ")) for c in CHOICES[name]]


class LocalNumberField(forms.FloatField):
    """A calculator input typed in the program's unit (kPa, g/L …) and handed to the calculator canonical."""

    def __init__(self, parameter: str, prefs: units.UnitPreferences, **kwargs: Any) -> None:
        self.parameter, self.prefs = parameter, prefs
        super().__init__(**kwargs)

    def clean(self, value: Any) -> float | None:
        local = super().clean(value)
        return None if local is None else units.from_local(self.parameter, local, self.prefs)


class CalculatorForm(forms.Form):
    """Fields named as the calculator's keywords; ``arguments()`` gives the keyword arguments to run it with.

    With ``prefs`` (the program's units), gas pressures, Hb, fibrinogen … are typed and prefilled in the program's
    unit and converted back before the calculator runs.
    """

    def __init__(
        self, *args: Any, calculator: str, prefs: units.UnitPreferences = units.US, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.calculator = calculator
        self.spec = {str(entry["name"]): entry for entry in describe(calculator)}
        for name, entry in self.spec.items():
            self.fields[name] = self._field(
                name, str(entry["annotation"]), bool(entry["required"]), entry["default"]
            )
            parameter = local_parameter(name, prefs)
            if parameter is not None and str(entry["annotation"]).startswith("float"):
                plain = self.fields[name]
                self.fields[name] = LocalNumberField(
                    parameter,
                    prefs,
                    required=plain.required,
                    label=label_in(name, prefs),
                    widget=forms.NumberInput(attrs={"step": "any"}),
                )
                value = self.initial.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    self.initial[name] = units.entry_text(parameter, float(value), prefs)

    @staticmethod
    def _field(name: str, annotation: str, required: bool, default: Any) -> forms.Field:
        text = label(name)
        optional = not required or "None" in annotation
        initial = default if default is not None else None
        if annotation == "bool":
            return forms.BooleanField(required=False, label=text, initial=initial)
        if annotation.startswith("Iterable") and name in CHOICES:
            return forms.MultipleChoiceField(
                choices=_choice_pairs(name),
                required=not optional,
                label=text,
                widget=forms.CheckboxSelectMultiple,
            )
        if annotation.startswith("str") and name in CHOICES:
            return forms.ChoiceField(
                choices=[("", "—"), *_choice_pairs(name)], required=not optional, label=text, initial=initial
            )
        if annotation.startswith("int"):
            return forms.IntegerField(required=not optional, label=text, initial=initial)
        if annotation.startswith("float"):
            help_text = "a fraction 0–1 (0.92, not 92)" if is_fraction(name) else ""
            return forms.FloatField(
                required=not optional,
                label=text,
                initial=initial,
                help_text=help_text,
                widget=forms.NumberInput(attrs={"step": "any"}),
            )
        if annotation.startswith("str"):
            return forms.CharField(required=not optional, label=text, initial=initial)
        return forms.CharField(
            required=False,
            label=f"{text} (JSON)",
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text="optional; a JSON object (empty uses the default)",
        )

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for the calculator: optional empties are left out so the core's defaults apply."""
        out: dict[str, Any] = {}
        for name in self.spec:
            value = self.cleaned_data.get(name)
            field = self.fields[name]
            if isinstance(field, forms.BooleanField):
                out[name] = bool(value)
            elif (
                value is None or value == "" or (isinstance(value, list) and not value and not field.required)
            ):
                continue
            elif isinstance(field, forms.CharField) and isinstance(field.widget, forms.Textarea):
                try:
                    out[name] = json.loads(value)
                except ValueError:
                    self.add_error(name, "is not valid JSON")
            else:
                out[name] = value
        return out
