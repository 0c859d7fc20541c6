"""Forms of the perfusion pages (the circuit-selection form is the decision kind's, in ``selection.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms

from ecmo_core import units
from ecmo_web.forms import (
    LocalDateTimeField,
    MeasureField,
    ProgramForm,
    localise_measures,
    model_choice_field,
)
from ecmo_web.perfusion import site
from ecmo_web.perfusion.actions.standby import CHECKLIST
from ecmo_web.perfusion.models import PrimeType, StandbyStatus
from ecmo_web.runs.models import CatalogueItem, CatalogueKind, EcmoRun


class CatalogueImportForm(forms.Form):
    file = forms.FileField(required=False, label="CSV file")
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), label="…or paste the CSV"
    )

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        upload = d.get("file")
        if upload is not None:
            try:
                d["csv"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", "the file is not UTF-8 text")
        elif (d.get("text") or "").strip():
            d["csv"] = d["text"]
        else:
            self.add_error("file", "choose a CSV file or paste its text")
        return d


class PrimingForm(forms.Form):
    weight_kg = forms.FloatField(min_value=0.3, max_value=350, label="Weight (kg)")
    age_years = forms.FloatField(min_value=0, max_value=120, required=False, label="Age (years)")
    age_days = forms.FloatField(
        min_value=0,
        max_value=730,
        required=False,
        label="…or age (days)",
        help_text="for neonates and infants",
    )
    sex = forms.ChoiceField(choices=[("unknown", "Not recorded"), ("male", "Male"), ("female", "Female")])
    premature = forms.BooleanField(required=False, label="Born prematurely (neonates)")
    patient_hematocrit = forms.FloatField(
        min_value=0, max_value=0.8, label="Patient haematocrit", help_text="a fraction 0–1 (0.30, not 30)"
    )
    oxygenator = forms.ModelChoiceField(queryset=CatalogueItem.objects.none(), required=False)
    pump = forms.ModelChoiceField(queryset=CatalogueItem.objects.none(), required=False, label="Pump head")
    tubing_pack = forms.ModelChoiceField(queryset=CatalogueItem.objects.none(), required=False)
    prime_volume_ml = forms.FloatField(
        min_value=0,
        max_value=5000,
        required=False,
        label="Prime volume (mL)",
        help_text="empty: the parts' sum",
    )
    prime_hematocrit = forms.FloatField(
        min_value=0,
        max_value=0.8,
        required=False,
        initial=0.0,
        label="Prime haematocrit",
        help_text="0 for crystalloid or albumin",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, kind in (
            ("oxygenator", CatalogueKind.OXYGENATOR),
            ("pump", CatalogueKind.PUMP_HEAD),
            ("tubing_pack", CatalogueKind.TUBING_PACK),
        ):
            model_choice_field(self, name).queryset = CatalogueItem.objects.filter(kind=kind, active=True)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if d.get("age_years") is None and d.get("age_days") is None:
            self.add_error("age_years", "give the age in years (or in days for a baby)")
        if d.get("prime_volume_ml") is None:
            parts = [d[n] for n in ("oxygenator", "pump", "tubing_pack") if d.get(n) is not None]
            if not parts:
                self.add_error("prime_volume_ml", "give the prime volume or choose the circuit's parts")
            elif any(p.priming_volume_ml is None for p in parts):
                self.add_error(
                    "prime_volume_ml", "a chosen part has no priming volume in the catalogue: type it"
                )
            else:
                d["prime_volume_ml"] = float(sum(p.priming_volume_ml for p in parts))
        return d


class StandbyForm(ProgramForm):
    label = forms.CharField(max_length=60, help_text="e.g. Adult standby A")
    location = forms.CharField(max_length=80, required=False)
    oxygenator = forms.ModelChoiceField(queryset=CatalogueItem.objects.none())
    pump = forms.ModelChoiceField(queryset=CatalogueItem.objects.none(), required=False, label="Pump head")
    tubing_pack = forms.ModelChoiceField(queryset=CatalogueItem.objects.none(), required=False)
    lot = forms.CharField(max_length=60, required=False, label="Oxygenator lot")
    prime_type = forms.ChoiceField(choices=PrimeType.choices)
    prime_volume_ml = forms.IntegerField(
        min_value=50,
        max_value=5000,
        required=False,
        label="Prime volume (mL)",
        help_text="empty: the parts' sum",
    )
    heparin_iu = forms.IntegerField(
        min_value=0,
        max_value=20000,
        required=False,
        label="Heparin in the prime (IU)",
        help_text="empty: the program's IU/mL × prime volume",
    )
    primed_at = LocalDateTimeField(label="Primed at")
    checklist = forms.MultipleChoiceField(
        choices=CHECKLIST, required=False, widget=forms.CheckboxSelectMultiple, label="Checklist"
    )
    notes = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, kind in (
            ("oxygenator", CatalogueKind.OXYGENATOR),
            ("pump", CatalogueKind.PUMP_HEAD),
            ("tubing_pack", CatalogueKind.TUBING_PACK),
        ):
            model_choice_field(self, name).queryset = CatalogueItem.objects.filter(kind=kind, active=True)


class CloseStandbyForm(ProgramForm):
    status = forms.ChoiceField(
        choices=[(StandbyStatus.USED, "Used on a patient"), (StandbyStatus.DISCARDED, "Discarded")]
    )
    at = LocalDateTimeField(label="When")
    run = forms.ModelChoiceField(queryset=EcmoRun.objects.none(), required=False, label="Used on")
    reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "run").queryset = EcmoRun.objects.filter(
            program=self.program, ended_at__isnull=True
        ).select_related("patient")


def _default_hint(spec: site.Setting) -> Callable[[units.UnitPreferences], str]:
    """The help text of a setting in a program's units: "default 13.33 kPa — <source>"."""

    def hint(prefs: units.UnitPreferences) -> str:
        default = units.entry_text(spec.parameter, spec.default, prefs)
        return f"default {default} {units.unit_of(spec.parameter, prefs)} — {spec.source}"

    return hint


class SettingsForm(ProgramForm):
    """The program's perfusion settings. A setting with a registry ``parameter`` (the cannula pressure-drop limits,
    circuit pressures) is typed and shown in the program's unit for it, its range and default too, and cleaned to
    the canonical value the action stores; a value shown and posted back unchanged keeps its stored value exactly."""

    reason = forms.CharField(max_length=300, help_text="why the settings change (kept in the history)")

    def __init__(self, *args: Any, values: dict[str, float], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        prefs = self.program.unit_preferences
        for spec in site.SETTINGS:
            if spec.parameter:
                self.fields[spec.key] = MeasureField(
                    spec.parameter,
                    prefs,
                    name=spec.label,
                    bounds=(spec.low, spec.high),
                    required=True,
                    hint=_default_hint(spec),
                )
                self.initial[spec.key] = values[spec.key]
                continue
            self.fields[spec.key] = forms.FloatField(
                label=f"{spec.label} ({spec.unit})",
                min_value=spec.low,
                max_value=spec.high,
                initial=values[spec.key],
                help_text=f"default {spec.default:g} — {spec.source}",
            )
        localise_measures(self)
        self.order_fields([*(s.key for s in site.SETTINGS), "reason"])

    def groups(self) -> list[tuple[str, list[Any]]]:
        out: dict[str, list[Any]] = {}
        for spec in site.SETTINGS:
            out.setdefault(spec.group, []).append(self[spec.key])
        return list(out.items())
