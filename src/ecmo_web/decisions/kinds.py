"""The structured content of each decision kind: one form (the schema) per kind.

The same form validates the page and the API (``content`` in the POST body), so an error names the same
field in both. ``content()`` returns the JSON stored in ``Decision.content``: the cleaned values plus the
evaluations ecmo_core.pathways made of them (EOLIA arms, ECPR criteria, LV distension, differential hypoxia,
ambulation readiness), so a decision keeps what the team saw when it was made. ``calculations()`` lists
calculator runs to keep as SavedCalculations (the VV flow model, the watershed model), and ``targets()`` the
run targets the decision sets when it is decided (they feed the surveillance rules).

Gas pressures and Hb are typed in the program's units on the page (``local_units=True``: "P/F ratio (kPa)",
"Haemoglobin (g/L)", ranges stated and checked in that unit) and cleaned to the canonical units their names say,
so ``content()`` and everything computed from it are the same whatever the program's units. The actions and the
API bind the same forms to canonical values (the default), as stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.dateparse import parse_datetime

from ecmo_core import pathways, units
from ecmo_core.anticoagulation import AGENTS, BLEEDING_RISKS, TESTS, default_targets
from ecmo_core.errors import InfeasibleError, InputError
from ecmo_core.oxygenation import vv_required_blood_flow
from ecmo_web.decisions.criteria import criteria_for
from ecmo_web.decisions.criteria_words import localise
from ecmo_web.decisions.models import Kind
from ecmo_web.forms import (
    LocalDateTimeField,
    MeasureField,
    ProgramForm,
    localise_measures,
    model_choice_field,
)
from ecmo_web.runs.models import Component, ComponentKind, EcmoRun, McsDevice, Mode
from ecmo_web.surveillance.models import Alert

YES_NO = forms.NullBooleanSelect


def _fraction(label: str, **kwargs: Any) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        min_value=0,
        max_value=1,
        required=False,
        help_text="a fraction 0–1 (0.92, not 92)",
        **kwargs,
    )


def _number(label: str, low: float, high: float, **kwargs: Any) -> forms.FloatField:
    kwargs.setdefault("required", False)
    return forms.FloatField(label=label, min_value=low, max_value=high, **kwargs)


def _measure(
    code: str,
    name: str,
    low: float,
    high: float,
    *,
    required: bool = False,
    hint: Callable[[units.UnitPreferences], str] | None = None,
) -> MeasureField:
    """A gas pressure or Hb typed in the program's units: ``code`` is the registry parameter it converts like (a
    P/F ratio like PaO2, in kPa a kPa P/F), ``low``–``high`` its clinical range in the canonical unit."""
    return MeasureField(code, name=name, bounds=(low, high), required=required, hint=hint)


def _shown(code: str, value: float, prefs: units.UnitPreferences) -> str:
    """A canonical value as typed in the program's units, with its unit: "150 mmHg", "20 kPa"."""
    return f"{units.entry_text(code, value, prefs)} {units.unit_of(code, prefs)}"


def _about(code: str, *values: float, prefs: units.UnitPreferences) -> str:
    """Round values for help texts in the program's units: "400–500 mmHg", "53.3–66.7 kPa"."""
    texts = []
    for value in values:
        text = units.format_local(code, value, prefs, with_unit=False)
        texts.append(text.rstrip("0").rstrip(".") if "." in text else text)
    return f"{'–'.join(texts)} {units.unit_of(code, prefs)}"


def _when(label: str, required: bool = False) -> LocalDateTimeField:
    return LocalDateTimeField(
        label=label, required=required, widget=LocalDateTimeField.widget(attrs={"step": 1})
    )


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    return value


def _has_offset(raw: Any) -> bool:
    if isinstance(raw, dt.datetime):
        return raw.tzinfo is not None
    if isinstance(raw, str):
        parsed = parse_datetime(raw.strip())
        return parsed is not None and parsed.tzinfo is not None
    return False


class KindForm(ProgramForm):
    """Base of the per-kind forms. Date-times typed on a page are program-local; an ISO string with an offset
    (from the API) keeps its offset. With ``local_units`` (the pages) gas pressures and Hb are typed in the
    program's units; without (actions, API) in the canonical units their names say. ``prefs`` (the program's
    units) is how texts the form writes read (the working of a flow target, a cross-field message)."""

    kind: str = ""
    # Page layout: (legend, field names); fields not listed go in a last, untitled group.
    FIELDSETS: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __init__(self, *args: Any, run: EcmoRun, local_units: bool = False, **kwargs: Any) -> None:
        self.run = run
        super().__init__(*args, program=run.program, **kwargs)
        self.prefs = run.program.unit_preferences
        self.typed_in = self.prefs if local_units else units.US
        for field in self.fields.values():
            if isinstance(field, MeasureField):
                field.localise(self.typed_in)
        localise_measures(self)
        self.__post_init_times()

    def __post_init_times(self) -> None:
        """Optional times start empty: a time prefilled with "now" would be recorded as if it were known."""
        for name, field in self.fields.items():
            if isinstance(field, LocalDateTimeField) and not field.required:
                self.initial.pop(name, None)

    def fieldsets(self) -> list[tuple[str, list[Any]]]:
        listed = [name for _, names in self.FIELDSETS for name in names]
        groups = [(legend, [self[n] for n in names if n in self.fields]) for legend, names in self.FIELDSETS]
        rest = [self[n] for n in self.fields if n not in listed]
        return [*groups, *([("", rest)] if rest else [])]

    def _post_clean(self) -> None:
        explicit = {
            name: self.cleaned_data.get(name)
            for name, field in self.fields.items()
            if isinstance(field, LocalDateTimeField) and _has_offset(self.data.get(self.add_prefix(name)))
        }
        super()._post_clean()
        for name, value in explicit.items():
            if isinstance(value, dt.datetime):
                self.cleaned_data[name] = value.astimezone(dt.UTC)

    def derived(self) -> dict[str, Any]:
        """Evaluations made from the cleaned values (pathways results as JSON)."""
        return {}

    def content(self) -> dict[str, Any]:
        data = {k: jsonable(v) for k, v in self.cleaned_data.items()}
        data.update(self.derived())
        return data

    def calculations(self) -> list[dict[str, Any]]:
        return []

    def targets(self) -> list[dict[str, Any]]:
        return []

    def apply(self, *, actor: Any, decision: Any) -> None:
        """What deciding writes beyond targets (through the owning app's actions); most kinds write nothing."""

    def _input_error(self, err: InputError | InfeasibleError, fallback: str) -> None:
        field = err.field if err.field in self.fields else fallback
        self.add_error(field if field in self.fields else None, err.message)

    def _values(self, *names: str) -> dict[str, Any]:
        return {n: self.cleaned_data.get(n) for n in names if self.cleaned_data.get(n) is not None}


# --- Candidacy -----------------------------------------------------------------------------------------


def _items_choices(groups: tuple[str, ...]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Grouped choices (rendered as labelled groups of check boxes): one group per modality and item group."""
    names = {"vv": "V-V", "va": "V-A and ECPR"}
    out = []
    for modality, items in pathways.CANDIDACY_ITEMS.items():
        for group in groups:
            pairs = [(i.key, i.label) for i in items if i.group == group]
            if pairs:
                title = names.get(modality, modality) + ("" if group == "indication" else f" · {group}")
                out.append((title, pairs))
    return out


def localised_choices(choices: Any, prefs: units.UnitPreferences) -> list[Any]:
    """Grouped item choices with the gas items' labels in the program's units (``criteria_words.localise``)."""
    return [
        (group, [(key, localise(key, str(text), prefs)) for key, text in pairs])
        if isinstance(pairs, list | tuple)
        else (group, localise(group, str(pairs), prefs))
        for group, pairs in choices
    ]


class CandidacyForm(KindForm):
    kind = Kind.CANDIDACY
    modality = forms.ChoiceField(
        choices=[("vv", "V-V"), ("va", "V-A"), ("ecpr", "ECPR")], label="Considered for"
    )
    indications = forms.MultipleChoiceField(
        choices=_items_choices(("indication",)), required=False, widget=forms.CheckboxSelectMultiple
    )
    contraindications = forms.MultipleChoiceField(
        choices=_items_choices(("absolute", "relative")), required=False, widget=forms.CheckboxSelectMultiple
    )
    # VV entry (EOLIA) values, worst in the hours before the decision.
    pf_ratio_mmhg = _measure("arterial_po2_mmhg", "P/F ratio", 10, 700)
    pf_hours = _number("P/F for how long (h)", 0, 720)
    arterial_ph = _number("Arterial pH", 6.5, 8.0)
    paco2_mmhg = _measure("arterial_pco2_mmhg", "PaCO2", 10, 200)
    hypercapnia_hours = _number("Hypercapnia for how long (h)", 0, 720)
    # ECPR
    age_years = forms.IntegerField(min_value=0, max_value=120, required=False, label="Age (years)")
    witnessed = forms.NullBooleanField(required=False, widget=YES_NO, label="Witnessed arrest")
    initial_rhythm_shockable = forms.NullBooleanField(
        required=False, widget=YES_NO, label="Initial rhythm shockable"
    )
    etco2_mmhg = _measure("arterial_pco2_mmhg", "EtCO2 on CPR", 0, 150)
    signs_of_life_or_intermittent_rosc = forms.NullBooleanField(
        required=False, widget=YES_NO, label="Signs of life / intermittent ROSC"
    )
    life_limiting_disease = forms.NullBooleanField(
        required=False, widget=YES_NO, label="Life-limiting disease"
    )
    pao2_mmhg = _measure("arterial_po2_mmhg", "PaO2 on CPR", 0, 700)
    spo2 = _fraction("SpO2 on CPR")
    lactate_mmol_l = _number("Lactate (mmol/L)", 0, 40)
    collapse_at = _when("Collapse")
    cpr_started_at = _when("CPR started")
    ecpr_call_at = _when("ECPR call")
    puncture_at = _when("First puncture")
    flow_at = _when("ECMO flow")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    FIELDSETS = (
        (
            "Considered for, indications and contraindications",
            ("modality", "indications", "contraindications"),
        ),
        (
            "V-V entry criteria (EOLIA): worst values before the decision",
            ("pf_ratio_mmhg", "pf_hours", "arterial_ph", "paco2_mmhg", "hypercapnia_hours"),
        ),
        (
            "ECPR selection",
            (
                "age_years",
                "witnessed",
                "initial_rhythm_shockable",
                "etco2_mmhg",
                "signs_of_life_or_intermittent_rosc",
                "life_limiting_disease",
                "pao2_mmhg",
                "spo2",
                "lactate_mmol_l",
            ),
        ),
        ("ECPR times", ("collapse_at", "cpr_started_at", "ecpr_call_at", "puncture_at", "flow_at")),
    )
    ECPR_FIELDS = (
        "age_years",
        "witnessed",
        "initial_rhythm_shockable",
        "etco2_mmhg",
        "signs_of_life_or_intermittent_rosc",
        "life_limiting_disease",
        "pao2_mmhg",
        "spo2",
        "lactate_mmol_l",
    )
    TIME_FIELDS = ("collapse_at", "cpr_started_at", "ecpr_call_at", "puncture_at", "flow_at")

    def __init__(self, *args: Any, run: EcmoRun, **kwargs: Any) -> None:
        super().__init__(*args, run=run, **kwargs)
        # EOLIA arms read in the program's gas unit ("P/F < 10.67 kPa for > 6 h").
        field = self.fields["indications"]
        field.choices = localised_choices(field.choices, self.prefs)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        modality = data.get("modality")
        if modality:
            listed = {i.key for i in pathways.CANDIDACY_ITEMS["va" if modality == "ecpr" else modality]}
            for name in ("indications", "contraindications"):
                wrong = [k for k in data.get(name) or [] if k not in listed]
                if wrong:
                    self.add_error(name, f"not a {modality.upper()} item: {', '.join(wrong)}")
        return data

    def derived(self) -> dict[str, Any]:
        d = self.cleaned_data
        out: dict[str, Any] = {}
        absolute = {
            i.key for items in pathways.CANDIDACY_ITEMS.values() for i in items if i.group == "absolute"
        }
        out["absolute_contraindications"] = [k for k in d.get("contraindications") or [] if k in absolute]
        if d.get("modality") == "vv":
            out["eolia"] = pathways.vv_entry_criteria(
                **self._values("pf_ratio_mmhg", "pf_hours", "arterial_ph", "paco2_mmhg", "hypercapnia_hours"),
                criteria=criteria_for(self.program, "vv_entry"),
            ).as_dict()
        if d.get("modality") == "ecpr":
            times = pathways.EcprTimes(**{n: d.get(n) for n in self.TIME_FIELDS})
            out["ecpr"] = pathways.ecpr_assessment(
                times=times,
                criteria=criteria_for(self.program, "ecpr"),
                **self._values(*self.ECPR_FIELDS),
            ).as_dict()
        return out

    def _post_clean(self) -> None:
        super()._post_clean()
        if not self.errors:
            try:
                self.derived()
            except InputError as err:
                self._input_error(err, "collapse_at")


# --- Configuration (modality), LV unloading, differential hypoxia --------------------------------------


class ModalityForm(KindForm):
    kind = Kind.MODALITY
    mode = forms.ChoiceField(choices=Mode.choices, label="Configuration")
    lv_unloading = forms.ChoiceField(
        choices=[
            ("none", "No LV unloading"),
            ("impella", "Impella"),
            ("iabp", "IABP"),
            ("septostomy", "Atrial septostomy"),
            ("surgical_vent", "Surgical LV/LA vent"),
        ],
        initial="none",
        required=False,
        label="LV unloading",
    )
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    pulse_pressure_mmhg = _number("Pulse pressure (mmHg)", 0, 150)
    aortic_valve_opening = forms.NullBooleanField(required=False, widget=YES_NO, label="Aortic valve opening")
    rising_pa_pressure_or_pcwp = forms.NullBooleanField(
        required=False, widget=YES_NO, label="Rising PA pressure or PCWP"
    )
    pulmonary_oedema = forms.NullBooleanField(required=False, widget=YES_NO, label="Pulmonary oedema")
    lv_smoke = forms.NullBooleanField(required=False, widget=YES_NO, label="LV smoke (echo contrast)")
    right_radial_po2_mmhg = _measure("right_radial_po2_mmhg", "Right radial PaO2", 10, 700)
    right_radial_spo2 = _fraction("Right-hand SpO2")
    native_flow_l_min = _number("Native LV output (L/min)", 0, 20)
    native_so2 = _fraction("Native (pulmonary venous) SO2")
    upper_body_flow_l_min = _number("Upper-body flow (L/min)", 0.1, 20)
    post_oxygenator_so2 = _fraction("Post-oxygenator SO2")
    apply_configuration = forms.BooleanField(
        required=False, label="Record the configuration change on the run when decided"
    )

    def clean_lv_unloading(self) -> str:
        return str(self.cleaned_data.get("lv_unloading") or "none")

    FIELDSETS = (
        ("Configuration", ("mode", "lv_unloading", "rationale", "apply_configuration")),
        (
            "LV distension",
            (
                "pulse_pressure_mmhg",
                "aortic_valve_opening",
                "rising_pa_pressure_or_pcwp",
                "pulmonary_oedema",
                "lv_smoke",
            ),
        ),
        (
            "Differential hypoxia on peripheral V-A (watershed model)",
            (
                "right_radial_po2_mmhg",
                "right_radial_spo2",
                "native_flow_l_min",
                "native_so2",
                "upper_body_flow_l_min",
                "post_oxygenator_so2",
            ),
        ),
    )
    LV_FIELDS = (
        "pulse_pressure_mmhg",
        "aortic_valve_opening",
        "rising_pa_pressure_or_pcwp",
        "pulmonary_oedema",
        "lv_smoke",
    )
    DH_FIELDS = (
        "right_radial_po2_mmhg",
        "right_radial_spo2",
        "native_flow_l_min",
        "native_so2",
        "upper_body_flow_l_min",
        "post_oxygenator_so2",
    )
    MODEL_FIELDS = ("native_flow_l_min", "native_so2", "upper_body_flow_l_min", "post_oxygenator_so2")

    def derived(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "lv_distension": pathways.lv_distension(
                **self._values(*self.LV_FIELDS), criteria=criteria_for(self.program, "lv_distension")
            ).as_dict()
        }
        if any(self.cleaned_data.get(n) is not None for n in self.DH_FIELDS):
            out["differential_hypoxia"] = pathways.differential_hypoxia(
                **self._values(*self.DH_FIELDS),
                criteria=criteria_for(self.program, "differential_hypoxia"),
            ).as_dict()
        return out

    def _post_clean(self) -> None:
        super()._post_clean()
        if not self.errors:
            try:
                self.derived()
            except (InputError, InfeasibleError) as err:
                self._input_error(err, "native_flow_l_min")

    def calculations(self) -> list[dict[str, Any]]:
        values = self._values(*self.MODEL_FIELDS)
        if len(values) == len(self.MODEL_FIELDS):
            return [{"calculator": "va_upper_body_so2", "arguments": values}]
        return []


# --- Flow and gas targets --------------------------------------------------------------------------------


class FlowTargetForm(KindForm):
    kind = Kind.FLOW_TARGET
    target_arterial_so2 = _fraction("Target arterial SO2")
    vo2_ml_min = _number("VO2 (mL/min)", 1, 1000, help_text="about 3 mL/kg/min at rest")
    hb_g_dl = _measure("hemoglobin_g_dl", "Haemoglobin", 3, 25)
    cardiac_output_l_min = _number("Cardiac output (L/min)", 0.5, 20)
    recirculation_fraction = _fraction("Recirculation fraction")
    post_oxygenator_po2_mmhg = _measure(
        "post_oxygenator_po2_mmhg",
        "Post-oxygenator PO2",
        1,
        800,
        hint=lambda p: (
            "counts the O2 dissolved in the return (about 1.2–1.5 mL/dL at "
            f"{_about('post_oxygenator_po2_mmhg', 400, 500, prefs=p)}); empty: ignored"
        ),
    )
    post_oxygenator_po2_reading = forms.CharField(
        required=False, max_length=200, label="PO2 reading used", help_text="which gas the PO2 came from"
    )
    blood_flow_target_l_min = _number(
        "Blood flow target (L/min)",
        0.5,
        10,
        help_text="leave empty to use the model's flow (rounded up to 0.1)",
    )
    sweep_gas_l_min_target = _number("Sweep target (L/min)", 0, 15)
    fdo2_target = _fraction("FdO2 target")
    post_oxygenator_po2_low_mmhg = _measure(
        "post_oxygenator_po2_mmhg",
        "Post-oxygenator PO2 low",
        50,
        700,
        hint=lambda p: (
            f"V-A: about {_about('post_oxygenator_po2_mmhg', 150, prefs=p)} to avoid hyperoxaemia (ELSO)"
        ),
    )
    post_oxygenator_po2_high_mmhg = _measure("post_oxygenator_po2_mmhg", "Post-oxygenator PO2 high", 50, 700)
    note = forms.CharField(required=False, max_length=300)

    MODEL_FIELDS = ("target_arterial_so2", "vo2_ml_min", "hb_g_dl", "cardiac_output_l_min")
    FIELDSETS = (
        (
            "VV model: the blood flow for a target arterial saturation (vv_required_blood_flow)",
            (
                "target_arterial_so2",
                "vo2_ml_min",
                "hb_g_dl",
                "cardiac_output_l_min",
                "recirculation_fraction",
                "post_oxygenator_po2_mmhg",
                "post_oxygenator_po2_reading",
            ),
        ),
        (
            "Targets (set on the run when decided; the surveillance rules read them)",
            (
                "blood_flow_target_l_min",
                "sweep_gas_l_min_target",
                "fdo2_target",
                "post_oxygenator_po2_low_mmhg",
                "post_oxygenator_po2_high_mmhg",
                "note",
            ),
        ),
    )

    def _model_arguments(self) -> dict[str, Any] | None:
        values = self._values(*self.MODEL_FIELDS)
        if len(values) < len(self.MODEL_FIELDS):
            return None
        values["recirculation_fraction"] = self.cleaned_data.get("recirculation_fraction") or 0.0
        if self.cleaned_data.get("post_oxygenator_po2_mmhg") is not None:
            values["post_oxygenator_po2_mmhg"] = self.cleaned_data["post_oxygenator_po2_mmhg"]
        return values

    def _model(self) -> dict[str, Any] | None:
        arguments = self._model_arguments()
        if arguments is None:
            return None
        result = vv_required_blood_flow(**arguments)
        return {
            "effective_flow_l_min": result.effective_flow_l_min,
            "ecmo_blood_flow_l_min": result.ecmo_blood_flow_l_min,
            "ecmo_to_cardiac_output_ratio": result.ecmo_to_cardiac_output_ratio,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [n for n in self.MODEL_FIELDS if data.get(n) is not None]
        if given and len(given) < len(self.MODEL_FIELDS):
            for n in self.MODEL_FIELDS:
                if data.get(n) is None:
                    self.add_error(n, "needed by the VV model (or clear the model inputs)")
        try:
            model = self._model() if not self.errors else None
        except (InputError, InfeasibleError) as err:
            self._input_error(err, "target_arterial_so2")
            return data
        if data.get("blood_flow_target_l_min") is None:
            if model is None:
                self.add_error("blood_flow_target_l_min", "give a flow target or the VV model inputs")
            else:
                data["blood_flow_target_l_min"] = float(
                    Decimal(str(model["ecmo_blood_flow_l_min"])).quantize(
                        Decimal("0.1"), rounding="ROUND_CEILING"
                    )
                )
        low, high = data.get("post_oxygenator_po2_low_mmhg"), data.get("post_oxygenator_po2_high_mmhg")
        if low is not None and high is not None and low > high:
            shown = _shown("post_oxygenator_po2_mmhg", low, self.typed_in)
            self.add_error("post_oxygenator_po2_high_mmhg", f"must be at least the low value {shown}")
        return data

    def derived(self) -> dict[str, Any]:
        model = self._model()
        return {"model": model} if model else {}

    def calculations(self) -> list[dict[str, Any]]:
        arguments = self._model_arguments()
        return [{"calculator": "vv_required_blood_flow", "arguments": arguments}] if arguments else []

    def targets(self) -> list[dict[str, Any]]:
        d = self.cleaned_data
        out = [{"parameter": "blood_flow_l_min", "low": d["blood_flow_target_l_min"], "high": None}]
        if d.get("sweep_gas_l_min_target") is not None:
            out.append(
                {
                    "parameter": "sweep_gas_l_min",
                    "low": d["sweep_gas_l_min_target"],
                    "high": d["sweep_gas_l_min_target"],
                }
            )
        if d.get("fdo2_target") is not None:
            out.append({"parameter": "fdo2", "low": d["fdo2_target"], "high": d["fdo2_target"]})
        if (
            d.get("post_oxygenator_po2_low_mmhg") is not None
            or d.get("post_oxygenator_po2_high_mmhg") is not None
        ):
            out.append(
                {
                    "parameter": "post_oxygenator_po2_mmhg",
                    "low": d.get("post_oxygenator_po2_low_mmhg"),
                    "high": d.get("post_oxygenator_po2_high_mmhg"),
                }
            )
        return out


# --- Anticoagulation -------------------------------------------------------------------------------------


class AnticoagulationForm(KindForm):
    kind = Kind.ANTICOAGULATION
    agent = forms.ChoiceField(choices=[(a, a) for a in AGENTS])
    bleeding_risk = forms.ChoiceField(
        choices=[(b, b) for b in BLEEDING_RISKS], initial="standard", required=False
    )
    test = forms.ChoiceField(choices=[(t, units.label(t)) for t in TESTS], label="Monitoring test")
    low = forms.FloatField(required=False, label="Target low", help_text="empty: the default for the agent")
    high = forms.FloatField(required=False, label="Target high")
    apply_target = forms.BooleanField(
        required=False, initial=True, label="Set this target on the run when decided (feeds the rules)"
    )
    note = forms.CharField(required=False, max_length=300, label="Dose and nomogram note")

    def clean_bleeding_risk(self) -> str:
        return str(self.cleaned_data.get("bleeding_risk") or "standard")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        agent, test = data.get("agent"), data.get("test")
        if agent and test and agent != "none" and (data.get("low") is None or data.get("high") is None):
            defaults = {
                t.test: t
                for t in default_targets(agent=agent, bleeding_risk=data.get("bleeding_risk") or "standard")
            }
            if test in defaults:
                data["low"] = data["low"] if data.get("low") is not None else defaults[test].low
                data["high"] = data["high"] if data.get("high") is not None else defaults[test].high
                data["default_source"] = defaults[test].source
        if data.get("low") is not None and data.get("high") is not None and data["low"] > data["high"]:
            self.add_error("high", f"must be at least the low value {data['low']:g}")
        if data.get("apply_target") and data.get("low") is None and data.get("high") is None:
            self.add_error("low", "give a target range to set on the run")
        return data

    def targets(self) -> list[dict[str, Any]]:
        d = self.cleaned_data
        if not d.get("apply_target"):
            return []
        return [
            {
                "parameter": d["test"],
                "low": d.get("low"),
                "high": d.get("high"),
                "agent": d["agent"],
                "note": d.get("note") or "",
            }
        ]


# --- Weaning trial ---------------------------------------------------------------------------------------

TRIAL_TYPES = [("vv_sweep_off", "V-V sweep-gas-off trial"), ("va_flow_reduction", "V-A flow-reduction trial")]


class WeaningTrialForm(KindForm):
    kind = Kind.WEANING_TRIAL
    trial_type = forms.ChoiceField(choices=TRIAL_TYPES)
    started_at = _when("Trial started (VV: sweep off; VA: first flow step)", required=True)
    protocol_steps = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text="one step a line; empty: the protocol for the trial type",
    )
    prerequisites = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Before the trial (ventilator, inotropes, anticoagulation)",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("protocol_steps") or "").strip() and data.get("trial_type"):
            steps = (
                pathways.VV_SWEEP_OFF_STEPS
                if data["trial_type"] == "vv_sweep_off"
                else pathways.VA_FLOW_REDUCTION_STEPS
            )
            data["protocol_steps"] = "\n".join(steps)
        return data


# --- Decannulation ---------------------------------------------------------------------------------------


class DecannulationForm(KindForm):
    kind = Kind.DECANNULATION
    configuration = forms.ChoiceField(choices=Mode.choices, help_text="chooses the VV or VA checklist")
    technique = forms.ChoiceField(
        choices=[
            ("percutaneous", "Percutaneous"),
            ("surgical", "Surgical repair"),
            ("closure_device", "Percutaneous closure device"),
        ]
    )
    planned_for = _when("Planned for")
    plan = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, run: EcmoRun, **kwargs: Any) -> None:
        super().__init__(*args, run=run, **kwargs)
        mode = run.current_mode()
        if mode is not None:
            self.fields["configuration"].initial = mode.mode


# --- Transport -------------------------------------------------------------------------------------------


class TransportForm(KindForm):
    kind = Kind.TRANSPORT
    transport_type = forms.ChoiceField(
        choices=[
            ("primary", "Primary (team cannulates on site)"),
            ("secondary", "Secondary (already on ECMO)"),
            ("intra_hospital", "Intra-hospital"),
        ]
    )
    vehicle = forms.ChoiceField(
        choices=[
            ("road", "Road"),
            ("helicopter", "Helicopter"),
            ("fixed_wing", "Plane"),
            ("none", "On foot / bed"),
        ]
    )
    origin = forms.CharField(max_length=200)
    destination = forms.CharField(max_length=200)
    call_at = _when("Call received")
    team = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="who, with their role")
    sweep_gas_l_min = _number("Sweep (L/min)", 0, 15, required=True)
    ventilator_o2_l_min = _number("Ventilator O2 use (L/min)", 0, 60, required=True)
    oxygen_carried_l = _number("O2 carried (L)", 0, 100000, required=True)
    battery_runtime_min = _number("Console battery runtime (min)", 0, 10000, required=True)


# --- Ambulation ------------------------------------------------------------------------------------------


class AmbulationForm(KindForm):
    kind = Kind.AMBULATION
    mean_arterial_pressure_mmhg = _number("MAP (mmHg)", 10, 200)
    spo2 = _fraction("SpO2 on current settings")
    rass = forms.IntegerField(min_value=-5, max_value=4, required=False, label="RASS")
    team_size = forms.IntegerField(min_value=0, max_value=20, required=False, label="Team size")
    flags = forms.MultipleChoiceField(
        choices=list(pathways.AMBULATION_FLAGS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Confirmed before the session",
    )
    planned_activity = forms.CharField(max_length=200, required=False)

    def derived(self) -> dict[str, Any]:
        d = self.cleaned_data
        screen = pathways.AmbulationScreen(
            mean_arterial_pressure_mmhg=d.get("mean_arterial_pressure_mmhg"),
            spo2=d.get("spo2"),
            rass=d.get("rass"),
            team_size=d.get("team_size"),
            flags={k: k in (d.get("flags") or []) for k in pathways.AMBULATION_FLAGS},
        )
        return {
            "readiness": pathways.ambulation_readiness(
                screen, criteria_for(self.program, "ambulation")
            ).as_dict()
        }


# --- Circuit change --------------------------------------------------------------------------------------


class _AlertChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Alert) -> str:
        return f"{obj.rule_title or obj.rule_id} · {obj.severity} · {obj.opened_at:%Y-%m-%d %H:%M} UTC"


class CircuitChangeForm(KindForm):
    kind = Kind.CIRCUIT_CHANGE
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    component_kind = forms.ChoiceField(choices=ComponentKind.choices, label="Component")
    urgency = forms.ChoiceField(choices=[("planned", "Planned"), ("emergency", "Emergency")])
    planned_for = _when("Planned for")
    component = forms.ModelChoiceField(
        queryset=Component.objects.none(), required=False, label="Component installed (once done)"
    )
    alerts = _AlertChoice(
        queryset=Alert.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Alerts that led to it",
    )

    def __init__(self, *args: Any, run: EcmoRun, **kwargs: Any) -> None:
        super().__init__(*args, run=run, **kwargs)
        model_choice_field(self, "component").queryset = Component.objects.filter(circuit__run=run)
        model_choice_field(self, "alerts").queryset = Alert.objects.filter(run=run).order_by("-opened_at")

    def content(self) -> dict[str, Any]:
        data = super().content()
        data.pop("component", None)  # kept as Decision.component
        data.pop("alerts", None)  # kept as Decision.alerts
        return data


# --- Concurrent MCS --------------------------------------------------------------------------------------


class McsForm(KindForm):
    kind = Kind.MCS
    device = forms.ModelChoiceField(
        queryset=McsDevice.objects.none(),
        required=False,
        help_text="the device concerned (add a new device on the run page first)",
    )
    change = forms.CharField(max_length=300, help_text="e.g. wean Impella P4 → P3; IABP 1:1 → 1:2")
    impella_p_level = forms.IntegerField(min_value=0, max_value=9, required=False, label="Impella P-level")
    flow_l_min = _number("Device flow (L/min)", 0, 10)
    iabp_ratio = forms.ChoiceField(
        choices=[("", "—"), ("1:1", "1:1"), ("1:2", "1:2"), ("1:3", "1:3")],
        required=False,
        label="IABP ratio",
    )
    vad_speed_rpm = forms.IntegerField(
        min_value=500, max_value=12000, required=False, label="VAD speed (rpm)"
    )
    apply_setting = forms.BooleanField(
        required=False, label="Record the new setting on the device when decided"
    )

    def __init__(self, *args: Any, run: EcmoRun, **kwargs: Any) -> None:
        super().__init__(*args, run=run, **kwargs)
        model_choice_field(self, "device").queryset = McsDevice.objects.filter(run=run)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("apply_setting") and data.get("device") is None:
            self.add_error("device", "choose the device whose setting changes")
        return data

    def content(self) -> dict[str, Any]:
        data = super().content()
        data.pop("device", None)  # kept as Decision.mcs_device
        return data


# Kinds whose form lives in another app are added to this table by that app's AppConfig.ready()
# (circuit_selection: ecmo_web.perfusion), so that the form can import KindForm without an import cycle.
KIND_FORMS: dict[str, type[KindForm]] = {
    Kind.CANDIDACY: CandidacyForm,
    Kind.MODALITY: ModalityForm,
    Kind.FLOW_TARGET: FlowTargetForm,
    Kind.ANTICOAGULATION: AnticoagulationForm,
    Kind.WEANING_TRIAL: WeaningTrialForm,
    Kind.DECANNULATION: DecannulationForm,
    Kind.TRANSPORT: TransportForm,
    Kind.AMBULATION: AmbulationForm,
    Kind.CIRCUIT_CHANGE: CircuitChangeForm,
    Kind.MCS: McsForm,
}

# Spellings accepted for ``kind`` in the API (core-api §6 and demo-scenarios use "modality", "circuit change").
KIND_ALIASES: dict[str, str] = {
    "configuration": Kind.MODALITY,
    "anticoagulation_target": Kind.ANTICOAGULATION,
    "weaning": Kind.WEANING_TRIAL,
    "retrieval": Kind.TRANSPORT,
    "mobilisation": Kind.AMBULATION,
    "mobilization": Kind.AMBULATION,
}


def normalise_kind(value: str) -> str | None:
    key = value.strip().lower().replace(" ", "_").replace("-", "_")
    key = KIND_ALIASES.get(key, key)
    return key if key in KIND_FORMS else None


# Readings a perfusionist records when checking an MCS device (code → (low, high, unit, label)).
MCS_READINGS: dict[str, dict[str, tuple[float, float, str, str]]] = {
    "impella": {
        "impella_p_level": (0, 9, "", "P-level"),
        "impella_flow_l_min": (0, 6, "L/min", "Flow"),
        "purge_pressure_mmhg": (0, 1500, "mmHg", "Purge pressure"),
        "purge_flow_ml_h": (0, 30, "mL/h", "Purge flow"),
        "motor_current_ma": (0, 1500, "mA", "Motor current"),
        "position_from_valve_cm": (0, 10, "cm", "Inlet below the aortic valve"),
    },
    "iabp": {
        "augmented_diastolic_mmhg": (0, 250, "mmHg", "Augmented diastolic pressure"),
        "assisted_systolic_mmhg": (0, 250, "mmHg", "Assisted systolic pressure"),
        "helium_volume_ml": (0, 60, "mL", "Balloon volume"),
    },
    "vad": {
        "vad_flow_l_min": (0, 10, "L/min", "Flow"),
        "vad_speed_rpm": (500, 12000, "rpm", "Speed"),
        "vad_power_w": (0, 20, "W", "Power"),
    },
    "other": {},
}
