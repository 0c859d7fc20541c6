"""Forms for starting a run and recording its history. Validation that needs the database lives in actions."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from ecmo_web.forms import LocalDateTimeField, ProgramForm
from ecmo_web.runs.models import (
    Cannula,
    CatalogueItem,
    ComponentKind,
    EcmoRun,
    Indication,
    McsDevice,
    Mode,
    Outcome,
    Sex,
)


class StartRunForm(ProgramForm):
    patient_code = forms.RegexField(
        regex=r"^[A-Za-z0-9][A-Za-z0-9-]{1,39}$",
        label="Patient code",
        help_text="The program's pseudonym for the patient (letters, digits, hyphens), e.g. DEMO-0006",
        error_messages={"invalid": "use 2–40 letters, digits or hyphens"},
    )
    name = forms.CharField(max_length=200, required=False, label="Patient name")
    mrn = forms.CharField(max_length=60, required=False, label="MRN")
    sex = forms.ChoiceField(choices=Sex.choices)
    birth_year = forms.IntegerField(min_value=1900, max_value=2100, required=False)
    indication = forms.ChoiceField(choices=Indication.choices)
    indication_detail = forms.CharField(max_length=200, required=False, label="Diagnosis")
    mode = forms.ChoiceField(choices=Mode.choices, label="Configuration")
    started_at = LocalDateTimeField(label="Flow started")
    weight_kg = forms.DecimalField(
        min_value=20, max_value=350, decimal_places=1, required=False, label="Weight (kg)"
    )
    height_cm = forms.DecimalField(
        min_value=100, max_value=250, decimal_places=1, required=False, label="Height (cm)"
    )
    location = forms.CharField(max_length=60, required=False, label="Unit and bed")
    console_serial = forms.CharField(max_length=60, required=False, label="Console serial")

    def clean_birth_year(self) -> int | None:
        year: int | None = self.cleaned_data.get("birth_year")
        this_year = timezone.now().year
        if year is not None and year > this_year:
            raise forms.ValidationError(f"must be between 1900 and {this_year}")
        return year


class ConfigurationForm(ProgramForm):
    mode = forms.ChoiceField(choices=Mode.choices, label="New configuration")
    started_at = LocalDateTimeField(label="From")
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class EndRunForm(ProgramForm):
    outcome = forms.ChoiceField(
        choices=[c for c in Outcome.choices if c[0] != Outcome.ONGOING],
        label="How the run ended",
        help_text="A planned decannulation is best recorded through its checklist on the decannulation decision.",
    )
    ended_at = LocalDateTimeField(label="Flow stopped")
    reason = forms.CharField(
        max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Note"
    )


DISCHARGE_CHOICES = [
    ("unknown", "Not yet known"),
    ("yes", "Alive at hospital discharge"),
    ("no", "Died in hospital"),
]


class DischargeForm(ProgramForm):
    survived_to_discharge = forms.ChoiceField(
        choices=DISCHARGE_CHOICES, widget=forms.RadioSelect, label="Hospital discharge"
    )
    reason = forms.CharField(max_length=300, required=False, label="Note")

    def clean_survived_to_discharge(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data["survived_to_discharge"])


class CannulaForm(ProgramForm):
    purpose = forms.ChoiceField(choices=Cannula.Purpose.choices)
    site = forms.ChoiceField(choices=Cannula.Site.choices)
    size_fr = forms.IntegerField(min_value=5, max_value=35, label="Size (Fr)")
    length_cm = forms.IntegerField(min_value=5, max_value=80, required=False, label="Length (cm)")
    tip_position = forms.CharField(max_length=120, required=False)
    maker_model = forms.CharField(max_length=120, required=False, label="Maker and model")
    inserted_at = LocalDateTimeField(label="Inserted")


class ComponentForm(ProgramForm):
    kind = forms.ChoiceField(choices=ComponentKind.choices)
    catalogue_item = forms.ModelChoiceField(
        queryset=CatalogueItem.objects.filter(active=True).exclude(kind="cannula"),
        required=False,
        label="From the catalogue",
    )
    maker = forms.CharField(max_length=80, required=False)
    model = forms.CharField(max_length=80, required=False)
    lot = forms.CharField(max_length=60, required=False)
    serial = forms.CharField(max_length=60, required=False)
    installed_at = LocalDateTimeField(label="Installed")
    reason_replaced = forms.CharField(
        max_length=300,
        required=False,
        label="Reason the one in place is replaced",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # The components in place when the form was opened (ids): the action refuses the install if the one of this
    # kind has changed since (someone else replaced it), rather than leave two in place.
    in_place = forms.CharField(required=False, widget=forms.HiddenInput)

    @staticmethod
    def initial_for(run: EcmoRun) -> dict[str, object]:
        from ecmo_web.runs.actions import in_place_ids

        return {"in_place": ",".join(str(pk) for pk in in_place_ids(run))}

    def clean_in_place(self) -> list[int] | None:
        text = self.cleaned_data.get("in_place", "")
        if not text and "in_place" not in self.data:
            return None  # a client that sends no state: no check
        try:
            return [int(part) for part in text.split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError("must be the components in place when the form was opened") from None

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        item = data.get("catalogue_item")
        if item is None and not (data.get("maker") and data.get("model")):
            self.add_error("maker", "choose a catalogue item or give the maker and model")
        if isinstance(item, CatalogueItem) and data.get("kind") and item.kind != data["kind"]:
            self.add_error(
                "catalogue_item", f"{item} is a {item.get_kind_display().lower()}, not the kind chosen"
            )
        return data


class McsDeviceForm(ProgramForm):
    kind = forms.ChoiceField(choices=McsDevice.Kind.choices)
    model = forms.CharField(max_length=80, help_text="e.g. Impella CP, 50 cc IABP")
    site = forms.CharField(max_length=80, required=False)
    inserted_at = LocalDateTimeField(label="Inserted")
    notes = forms.CharField(max_length=300, required=False)


class McsSettingForm(ProgramForm):
    device = forms.ModelChoiceField(
        queryset=McsDevice.objects.none(), help_text="Devices in place on this run"
    )
    at = LocalDateTimeField(label="At")
    impella_p_level = forms.IntegerField(min_value=0, max_value=9, required=False, label="Impella P-level")
    flow_l_min = forms.DecimalField(
        min_value=0, max_value=10, decimal_places=2, required=False, label="Device flow (L/min)"
    )
    iabp_ratio = forms.ChoiceField(
        choices=[("", "—"), ("1:1", "1:1"), ("1:2", "1:2"), ("1:3", "1:3")],
        required=False,
        label="IABP ratio",
    )
    vad_speed_rpm = forms.IntegerField(
        min_value=500, max_value=12000, required=False, label="VAD speed (rpm)"
    )
    note = forms.CharField(max_length=300, required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not any(
            data.get(f) not in (None, "")
            for f in ("impella_p_level", "flow_l_min", "iabp_ratio", "vad_speed_rpm", "note")
        ):
            raise forms.ValidationError("record at least one setting or a note")
        return data
