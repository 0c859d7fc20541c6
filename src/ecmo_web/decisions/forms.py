"""Page forms for decisions: the common part of a decision (people, options, recommendation), and the small
forms of the pathway pages. The per-kind content forms are in ``kinds.py``."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from ecmo_core import pathways, units
from ecmo_core.errors import InputError
from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.calculators.present import label as calc_label
from ecmo_web.decisions import criteria_words
from ecmo_web.decisions.kinds import MCS_READINGS, YES_NO
from ecmo_web.decisions.models import DecisionSession, SavedCalculation, TransportEvent
from ecmo_web.forms import (
    LocalDateTimeField,
    MeasureField,
    ProgramForm,
    choice_field,
    model_choice_field,
    version_field,
)
from ecmo_web.runs.models import EcmoRun

PARTICIPANT_ROWS = 6
DISSENT_ROWS = 2


def member_choices(program: Program) -> list[tuple[str, str]]:
    rows = (
        Membership.objects.filter(program=program, active=True)
        .select_related("user")
        .order_by("role", "user__last_name", "user__username")
    )
    return [("", "—")] + [
        (str(m.user_id), f"{m.user.get_full_name() or m.user.get_username()} — {Role(m.role).label}")
        for m in rows
    ]


ROLE_CHOICES = [("", "their role in the program"), *Role.choices]


class _SavedCalculationChoice(forms.ModelMultipleChoiceField):
    """Saved calculator results to include, each read in the program's units (``prefs``, set per form)."""

    prefs: units.UnitPreferences = units.US

    def label_from_instance(self, obj: SavedCalculation) -> str:
        return obj.summary(self.prefs)


class DecisionForm(ProgramForm):
    """The common part of every decision. Participant and dissent rows are numbered fields (participant_user_0 …),
    so that a page can add rows with HTMX without a formset management form."""

    title = forms.CharField(max_length=200)
    made_at = LocalDateTimeField(label="Discussed at")
    session = forms.ModelChoiceField(
        queryset=DecisionSession.objects.none(),
        required=False,
        label="Made at a session (ECMO call, MDT)",
        help_text="participants default to the session's attendees",
    )
    inputs = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Inputs considered",
        help_text="one a line, e.g. “P/F: 68 on FiO2 1.0 for 7 h”",
    )
    options = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Options considered",
        help_text="one a line; “option: note”",
    )
    recommendation = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    recommended_by = forms.ChoiceField(required=False)
    calculations = _SavedCalculationChoice(
        queryset=SavedCalculation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Saved calculator results to include",
    )
    decided_by = forms.ChoiceField(required=False, help_text="leave empty to keep the decision open")
    decided_at = LocalDateTimeField(required=False, label="Decided at", help_text="empty: when discussed")

    def __init__(
        self, *args: Any, run: EcmoRun, participant_rows: int = PARTICIPANT_ROWS, **kwargs: Any
    ) -> None:
        super().__init__(*args, program=run.program, **kwargs)
        self.run = run
        members = member_choices(run.program)
        choice_field(self, "recommended_by").choices = members
        choice_field(self, "decided_by").choices = members
        model_choice_field(self, "session").queryset = DecisionSession.objects.filter(
            program=run.program
        ).order_by("-started_at")[:30]
        calculations = self.fields["calculations"]
        assert isinstance(calculations, _SavedCalculationChoice)
        calculations.queryset = SavedCalculation.objects.filter(run=run, decision__isnull=True)
        calculations.prefs = run.program.unit_preferences
        rows = max(participant_rows, self._rows_in_data("participant_user_"))
        for i in range(rows):
            self.fields[f"participant_user_{i}"] = forms.ChoiceField(
                choices=members, required=False, label="Participant"
            )
            self.fields[f"participant_role_{i}"] = forms.ChoiceField(
                choices=ROLE_CHOICES, required=False, label="Role"
            )
            self.fields[f"participant_contribution_{i}"] = forms.CharField(
                max_length=200, required=False, label="Contribution"
            )
        for i in range(max(DISSENT_ROWS, self._rows_in_data("dissent_user_"))):
            self.fields[f"dissent_user_{i}"] = forms.ChoiceField(choices=members, required=False, label="Who")
            self.fields[f"dissent_reason_{i}"] = forms.CharField(
                max_length=1000, required=False, label="Reason"
            )
            self.fields[f"dissent_resolution_{i}"] = forms.CharField(
                max_length=1000, required=False, label="Resolution"
            )
        self.participant_rows = rows
        self.initial.pop("decided_at", None)  # empty means "when discussed"; never a silent "now"

    def _rows_in_data(self, prefix: str) -> int:
        numbers = [
            int(k[len(prefix) :])
            for k in (self.data or {})
            if k.startswith(prefix) and k[len(prefix) :].isdigit()
        ]
        return max(numbers) + 1 if numbers else 0

    def participant_fields(self) -> list[tuple[Any, Any, Any]]:
        return [
            (
                self[f"participant_user_{i}"],
                self[f"participant_role_{i}"],
                self[f"participant_contribution_{i}"],
            )
            for i in range(self.participant_rows)
        ]

    def dissent_fields(self) -> list[tuple[Any, Any, Any]]:
        n = len([k for k in self.fields if k.startswith("dissent_user_")])
        return [
            (self[f"dissent_user_{i}"], self[f"dissent_reason_{i}"], self[f"dissent_resolution_{i}"])
            for i in range(n)
        ]

    def participants(self) -> list[dict[str, Any]]:
        d = self.cleaned_data
        return [
            {
                "user": int(d[f"participant_user_{i}"]),
                "role": d[f"participant_role_{i}"] or None,
                "contribution": d[f"participant_contribution_{i}"],
            }
            for i in range(self.participant_rows)
            if d.get(f"participant_user_{i}")
        ]

    def dissent(self) -> list[dict[str, Any]]:
        d = self.cleaned_data
        n = len([k for k in self.fields if k.startswith("dissent_user_")])
        return [
            {
                "user": int(d[f"dissent_user_{i}"]),
                "reason": d[f"dissent_reason_{i}"],
                "resolution": d[f"dissent_resolution_{i}"],
            }
            for i in range(n)
            if d.get(f"dissent_user_{i}")
        ]

    def option_list(self) -> list[dict[str, str]]:
        out = []
        for line in (self.cleaned_data.get("options") or "").splitlines():
            if line.strip():
                label, _, note = line.partition(":")
                out.append({"label": label.strip(), "note": note.strip()})
        return out

    def input_map(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in (self.cleaned_data.get("inputs") or "").splitlines():
            if line.strip():
                key, _, value = line.partition(":")
                out[key.strip()] = value.strip()
        return out

    def add_action_errors(self, error: Any) -> None:
        """Map action errors (participants[1], dissent[0], content.x …) onto the row fields where they belong."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                target = field
                for prefix, name in (("participants[", "participant_user_"), ("dissent[", "dissent_user_")):
                    if field.startswith(prefix):
                        target = name + field[len(prefix) :].split("]")[0]
                if (
                    target in {"made_at", "decided_at", "title", "decided_by", "recommended_by"}
                    or target in self.fields
                ):
                    self.add_error(target, errors)
                else:
                    self.add_error(
                        None, [f"{field}: {e.message if hasattr(e, 'message') else e}" for e in errors]
                    )
        else:
            self.add_error(None, error)


class DecideForm(ProgramForm):
    version = version_field()
    decided_by = forms.ChoiceField()
    decided_at = LocalDateTimeField(label="Decided at")
    recommendation = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="empty: keep the recommendation as recorded",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "decided_by").choices = member_choices(self.program)


class ParticipantForm(ProgramForm):
    user = forms.ChoiceField(label="Participant")
    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False)
    contribution = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "user").choices = member_choices(self.program)


class DissentForm(ProgramForm):
    user = forms.ChoiceField(label="Who dissents")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    resolution = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "user").choices = member_choices(self.program)


class ResolveForm(ProgramForm):
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ChecklistMarkForm(ProgramForm):
    status = forms.ChoiceField(choices=[("done", "Done"), ("waived", "Waive")])
    waiver_reason = forms.CharField(max_length=300, required=False, label="Reason for waiving")
    note = forms.CharField(max_length=300, required=False)
    done_at = LocalDateTimeField(required=False, label="At")


class CompleteForm(ProgramForm):
    version = version_field()
    completed_at = LocalDateTimeField(label="Completed at")
    end_run = forms.BooleanField(
        required=False, initial=True, label="End the run now (decannulated: outcome weaned)"
    )


VV_OBSERVATION = (
    "sao2",
    "pao2_mmhg",
    "paco2_mmhg",
    "arterial_ph",
    "rr_per_min",
    "heart_rate_per_min",
    "fio2",
    "plateau_cmh2o",
    "peep_cmh2o",
    "tidal_volume_ml",
    "blood_flow_l_min",
    "sweep_gas_l_min",
    "fdo2",
    "acute_cor_pulmonale",
)
VA_OBSERVATION = (
    "blood_flow_l_min",
    "mean_arterial_pressure_mmhg",
    "pulse_pressure_mmhg",
    "heart_rate_per_min",
    "lactate_mmol_l",
    "aortic_vti_cm",
    "lvef_pct",
    "lateral_s_prime_cm_s",
    "tapse_mm",
    "sao2",
    "pao2_mmhg",
)
OBSERVATION_LABELS = {
    "sao2": "SaO2 (fraction 0–1)",
    "rr_per_min": "Resp. rate (/min)",
    "fio2": "Ventilator FiO2",
    "heart_rate_per_min": "Heart rate (/min)",
    "arterial_ph": "pH",
    "lvef_pct": "LVEF (%)",
    "lateral_s_prime_cm_s": "Lateral S′ (cm/s)",
    "aortic_vti_cm": "Aortic VTI (cm)",
    "tapse_mm": "TAPSE (mm)",
    "acute_cor_pulmonale": "Acute cor pulmonale on echo",
    "plateau_cmh2o": "Plateau (cmH2O)",
    "blood_flow_l_min": "ECMO flow (L/min)",
    "mean_arterial_pressure_mmhg": "MAP (mmHg)",
}


SHORT_LABELS = {
    "sao2": "SaO2",
    "pao2_mmhg": "PaO2",
    "paco2_mmhg": "PaCO2",
    "arterial_ph": "pH",
    "rr_per_min": "RR",
    "heart_rate_per_min": "HR",
    "fio2": "FiO2",
    "plateau_cmh2o": "Pplat",
    "peep_cmh2o": "PEEP",
    "tidal_volume_ml": "VT mL",
    "blood_flow_l_min": "Q L/min",
    "sweep_gas_l_min": "Sweep",
    "fdo2": "FdO2",
    "acute_cor_pulmonale": "ACP",
    "mean_arterial_pressure_mmhg": "MAP",
    "pulse_pressure_mmhg": "PP",
    "lactate_mmol_l": "Lactate",
    "aortic_vti_cm": "VTI cm",
    "lvef_pct": "LVEF %",
    "lateral_s_prime_cm_s": "S′ cm/s",
    "tapse_mm": "TAPSE mm",
}


# Trial observations that are blood gases: typed and shown in the program's gas unit (stored in mmHg), as the
# registry parameter they convert like, with their clinical name.
GAS_OBSERVATIONS: dict[str, tuple[str, str]] = {
    "pao2_mmhg": ("arterial_po2_mmhg", "PaO2"),
    "paco2_mmhg": ("arterial_pco2_mmhg", "PaCO2"),
}


def observation_label(code: str) -> str:
    return OBSERVATION_LABELS.get(code) or calc_label(code)


class ObservationForm(ProgramForm):
    at = LocalDateTimeField(label="Time")
    step = forms.CharField(max_length=120, required=False, help_text="e.g. sweep off; flow 1.2 L/min; echo")
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, trial_type: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = VA_OBSERVATION if trial_type == "va_flow_reduction" else VV_OBSERVATION
        for code in codes:
            kind = pathways.OBSERVATION_FIELDS[code][3]
            if kind == "bool":
                self.fields[code] = forms.NullBooleanField(
                    required=False, widget=YES_NO, label=observation_label(code)
                )
            elif code in GAS_OBSERVATIONS:
                parameter, name = GAS_OBSERVATIONS[code]
                low, high = pathways.OBSERVATION_FIELDS[code][:2]
                self.fields[code] = MeasureField(
                    parameter, self.program.unit_preferences, name=name, bounds=(low, high)
                )
            else:
                self.fields[code] = forms.FloatField(
                    required=False,
                    label=observation_label(code),
                    widget=forms.NumberInput(attrs={"step": "any"}),
                )
        self.codes = codes

    def values(self) -> dict[str, Any]:
        return {c: self.cleaned_data.get(c) for c in self.codes if self.cleaned_data.get(c) is not None}


class ConcludeForm(ProgramForm):
    version = version_field()
    outcome = forms.ChoiceField(
        choices=[("passed", "Passed"), ("failed", "Failed"), ("abandoned", "Abandoned")]
    )
    concluded_at = LocalDateTimeField(label="Concluded at")
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="needed when the outcome differs from what the criteria say",
    )


class LegForm(ProgramForm):
    route = forms.CharField(max_length=200)
    planned_minutes = forms.IntegerField(min_value=0, max_value=1440, required=False)
    uses_cylinder_oxygen = forms.BooleanField(required=False, initial=True, label="On cylinder O2")
    on_battery = forms.BooleanField(required=False, initial=True, label="Console on battery")
    oxygen_source = forms.CharField(max_length=120, required=False, label="O2 source")
    departed_at = LocalDateTimeField(required=False)
    arrived_at = LocalDateTimeField(required=False)


class LegTimesForm(ProgramForm):
    departed_at = LocalDateTimeField(required=False)
    arrived_at = LocalDateTimeField(required=False)


class TransportEventForm(ProgramForm):
    at = LocalDateTimeField()
    category = forms.ChoiceField(choices=TransportEvent.Category.choices)
    description = forms.CharField(max_length=300)
    action_taken = forms.CharField(max_length=300, required=False)


class AmbulationSessionForm(ProgramForm):
    started_at = LocalDateTimeField()
    duration_min = forms.IntegerField(min_value=1, max_value=600, label="Duration (min)")
    ims_level = forms.IntegerField(min_value=0, max_value=10, label="IMS level reached (0–10)")
    activities = forms.CharField(max_length=300, required=False)
    distance_m = forms.IntegerField(min_value=0, max_value=5000, required=False, label="Distance walked (m)")
    team_size = forms.IntegerField(min_value=1, max_value=20, required=False)
    lowest_spo2 = forms.FloatField(
        min_value=0, max_value=1, required=False, label="Lowest SpO2 (fraction 0–1)"
    )
    pre_check = forms.CharField(
        max_length=300, label="Cannula check before", help_text="depth, sutures, flow, access pressure"
    )
    post_check = forms.CharField(max_length=300, label="Cannula check after")
    events = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    stopped_early = forms.BooleanField(required=False)


class McsCheckForm(ProgramForm):
    at = LocalDateTimeField(label="Checked at")
    position_confirmed = forms.NullBooleanField(required=False, widget=YES_NO, label="Position confirmed")
    position_note = forms.CharField(
        max_length=200, required=False, help_text="e.g. inlet 3.5 cm below the valve (TTE)"
    )
    limb_perfusion_ok = forms.NullBooleanField(required=False, widget=YES_NO, label="Limb perfusion adequate")
    alarms = forms.CharField(max_length=300, required=False)
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, device_kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reading_codes = list(MCS_READINGS.get(device_kind, {}))
        for code, (low, high, unit, label) in MCS_READINGS.get(device_kind, {}).items():
            self.fields[code] = forms.FloatField(
                required=False, min_value=low, max_value=high, label=f"{label} ({unit})" if unit else label
            )

    def readings(self) -> dict[str, Any]:
        return {
            c: self.cleaned_data.get(c) for c in self.reading_codes if self.cleaned_data.get(c) is not None
        }


class SessionForm(ProgramForm):
    kind = forms.ChoiceField(choices=DecisionSession.SessionKind.choices)
    title = forms.CharField(max_length=200)
    started_at = LocalDateTimeField()
    location = forms.CharField(max_length=120, required=False)
    attendees = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="members, each with their role in the program",
    )
    others = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Others present",
        help_text="one a line: “name, role” (e.g. “A. Smith, dietitian”)",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "attendees").choices = member_choices(self.program)[1:]

    def attendee_rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = [{"user": int(u)} for u in self.cleaned_data.get("attendees") or []]
        for line in (self.cleaned_data.get("others") or "").splitlines():
            if line.strip():
                name, _, role = line.partition(",")
                rows.append({"name": name.strip(), "role": role.strip()})
        return rows


class CriteriaForm(forms.Form):
    """A change to one of the program's pathway criteria sets: which set, the overrides (a JSON object of
    ``{criterion: {"op": ">", "value": 10}}``) and why. Gas criteria are typed in the program's gas unit
    (``prefs``) and cleaned to the canonical mmHg (``criteria_words.overrides_from_local``); whether the overrides
    make sense is the action's check."""

    OVERRIDES_HELP = 'overrides: give a JSON object, e.g. {"lateral_s_prime_cm_s": {"op": ">", "value": 10}}'

    criteria_set = forms.CharField(required=False)
    overrides = forms.CharField(required=False)
    reason = forms.CharField(required=False)

    def __init__(self, *args: Any, prefs: units.UnitPreferences = units.US, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prefs = prefs

    def clean_overrides(self) -> dict[str, Any]:
        try:
            overrides = json.loads(self.cleaned_data.get("overrides") or "{}")
        except ValueError:
            overrides = None
        if not isinstance(overrides, dict):
            raise forms.ValidationError(self.OVERRIDES_HELP)
        try:
            return criteria_words.overrides_from_local(overrides, self.prefs)
        except InputError as err:
            raise forms.ValidationError(
                criteria_words.error_text(err.field, err.message, self.prefs)
            ) from None

    def error_text(self) -> str:
        return "; ".join(" ".join(map(str, errors)) for errors in self.errors.values())
