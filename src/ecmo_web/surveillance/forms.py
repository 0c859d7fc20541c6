"""Forms of circuit surveillance. Ranges are checked by the actions (ecmo_core's plausibility bounds); the forms
only turn text into numbers and local times into UTC, with messages that name the field and its accepted range."""

from __future__ import annotations

import math
from typing import Any

from django import forms

from ecmo_core import units
from ecmo_web.accounts.models import Program, Role
from ecmo_web.forms import LocalDateTimeField, MeasureField, ProgramForm, localise_measures
from ecmo_web.runs.models import Component, EcmoRun
from ecmo_web.surveillance.models import CHECK_PARAMETERS, ESCALATION_ROLES, ClotFinding, ColourDifference
from ecmo_web.timezones import to_local

# Labels and units come from the parameter registry (``ecmo_core.units.label_with_unit``) in the program's
# units; only the heater's set temperature is not a parameter code.
HEATER_LABEL = "Heater set (°C)"

LAB_PARAMETERS: tuple[str, ...] = (
    "post_oxygenator_po2_mmhg",
    "post_oxygenator_pco2_mmhg",
    "post_oxygenator_so2",
    "pre_oxygenator_so2",
    "plasma_free_hb_mg_dl",
    "ldh_u_l",
    "anti_xa_iu_ml",
    "aptt_s",
    "act_s",
    "fibrinogen_mg_dl",
    "platelets_10e3_ul",
    "hemoglobin_g_dl",
    "d_dimer_mg_l",
    "lactate_mmol_l",
)
LAB_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Post-oxygenator blood gas",
        (
            "post_oxygenator_po2_mmhg",
            "post_oxygenator_pco2_mmhg",
            "post_oxygenator_so2",
            "pre_oxygenator_so2",
        ),
    ),
    ("Haemolysis", ("plasma_free_hb_mg_dl", "ldh_u_l")),
    ("Anticoagulation", ("anti_xa_iu_ml", "aptt_s", "act_s")),
    (
        "Coagulation and blood count",
        ("fibrinogen_mg_dl", "platelets_10e3_ul", "hemoglobin_g_dl", "d_dimer_mg_l", "lactate_mmol_l"),
    ),
)


def number_field(
    code: str, label: str | None = None, prefs: units.UnitPreferences = units.US
) -> MeasureField:
    return MeasureField(code, prefs, label)


class CheckForm(ProgramForm):
    """The hourly circuit check: one screen, big targets, telemetry prefilled and marked."""

    observed_at = LocalDateTimeField(label="Time of check")
    heater_set_temperature_c = forms.FloatField(
        required=False,
        label=HEATER_LABEL,
        error_messages={"invalid": "must be a number (15 to 41 °C)"},
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    colour_difference = forms.ChoiceField(
        label="Colour difference across the oxygenator",
        required=False,
        choices=ColourDifference.choices,
        widget=forms.RadioSelect,
    )
    air_in_circuit = forms.BooleanField(required=False, label="Air seen in the circuit")
    # Safety items are never pre-ticked (issue 11 §8): each is ticked by the person who looked, at this check.
    connectors_secure = forms.BooleanField(required=False, label="Connectors and ties secure")
    cannula_sites_ok = forms.BooleanField(required=False, label="Cannula sites dry, sutures intact")
    hand_crank_present = forms.BooleanField(required=False, label="Hand crank present")
    clamps_present = forms.BooleanField(required=False, label="Clamps at the bedside")
    backup_console_ready = forms.BooleanField(required=False, label="Backup console ready")
    battery_charged = forms.BooleanField(required=False, label="Console battery charged")
    gas_supply_connected = forms.BooleanField(required=False, label="O2 and air supply connected")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(
        required=False,
        label="Reason for the amendment",
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": "e.g. access pressure misread"}),
    )

    MEASURED = CHECK_PARAMETERS
    GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("Pump and flow", ("pump_speed_rpm", "blood_flow_l_min")),
        (
            "Pressures",
            ("access_pressure_mmhg", "pre_oxygenator_pressure_mmhg", "post_oxygenator_pressure_mmhg"),
        ),
        ("Gas", ("sweep_gas_l_min", "fdo2")),
        ("Temperature", ("blood_temperature_c", "heater_set_temperature_c")),
    )
    INSPECTION = ("air_in_circuit", "connectors_secure", "cannula_sites_ok")
    SAFETY = (
        "hand_crank_present",
        "clamps_present",
        "backup_console_ready",
        "battery_charged",
        "gas_supply_connected",
    )

    def __init__(
        self, *args: Any, amending: bool = False, offered: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        for code in CHECK_PARAMETERS:
            self.fields[code] = number_field(code, prefs=self.program.unit_preferences)
        localise_measures(self, offered)
        if not amending:
            del self.fields["reason"]
        else:
            self.fields["reason"].required = True

    def group_fields(self) -> list[tuple[str, list[Any]]]:
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    def inspection_fields(self) -> list[Any]:
        return [self[name] for name in self.INSPECTION]

    def safety_fields(self) -> list[Any]:
        return [self[name] for name in self.SAFETY]

    def check_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        data = {name: d.get(name) for name in (*CHECK_PARAMETERS, "heater_set_temperature_c")}
        data.update({name: bool(d.get(name)) for name in (*self.INSPECTION, *self.SAFETY)})
        data["colour_difference"] = d.get("colour_difference") or ""
        data["notes"] = d.get("notes") or ""
        return data


CLOT_ROWS = 3


def clot_rows(post: Any, initial: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Clot finding rows from a POST (``clot-N-field``) or from the previous check (to record change)."""
    if post is None:
        rows = [dict(r) for r in (initial or [])]
        for row in rows:
            row["change"] = ClotFinding.Change.UNCHANGED
        target = max(CLOT_ROWS, len(rows) + 1)
        while len(rows) < target:
            rows.append(
                {"location": "", "appearance": "", "size_mm": "", "change": "new", "action": "observe"}
            )
        return rows
    rows = []
    count = int(post.get("clot-count") or CLOT_ROWS)
    for i in range(min(count, 20)):
        rows.append(
            {
                name: (post.get(f"clot-{i}-{name}") or "").strip()
                for name in ("location", "appearance", "size_mm", "change", "action")
            }
        )
    return rows


class LabForm(ProgramForm):
    """Results of the blood-gas and coagulation panel, entered by hand (source "lab")."""

    observed_at = LocalDateTimeField(label="Sample drawn at")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code in LAB_PARAMETERS:
            self.fields[code] = number_field(code, prefs=self.program.unit_preferences)

    def groups(self) -> list[tuple[str, list[Any]]]:
        return [(title, [self[c] for c in codes]) for title, codes in LAB_GROUPS]

    def values(self) -> dict[str, float]:
        return {c: self.cleaned_data[c] for c in LAB_PARAMETERS if self.cleaned_data.get(c) is not None}


class CsvUploadForm(forms.Form):
    file = forms.FileField(required=False, label="Console export (CSV)")
    source = forms.CharField(
        required=False,
        max_length=64,
        label="Source of device columns",
        help_text="device (default) or the console's name; columns ending @lab, @check keep their own source",
    )


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        required=False,
        max_length=2000,
        label="Comment",
        widget=forms.TextInput(attrs={"placeholder": "what you found and what you will do"}),
    )


class _FittedComponentChoice(forms.ModelChoiceField):
    """The run's components by kind, lot and when fitted (program-local time)."""

    program: Program | None = None

    def label_from_instance(self, obj: Component) -> str:
        fitted = to_local(obj.installed_at, self.program)
        return f"{obj.get_kind_display()} · lot {obj.lot or '—'} · fitted {fitted:%d %b %H:%M}"


class ResolveForm(ProgramForm):
    comment = forms.CharField(
        max_length=2000, label="What was done", widget=forms.Textarea(attrs={"rows": 2})
    )
    component = _FittedComponentChoice(
        queryset=Component.objects.none(),
        required=False,
        label="Component fitted (circuit change)",
        empty_label="— none —",
    )

    def __init__(self, *args: Any, run: EcmoRun, **kwargs: Any) -> None:
        super().__init__(*args, program=run.program, **kwargs)
        field = self.fields["component"]
        assert isinstance(field, _FittedComponentChoice)
        field.queryset = Component.objects.filter(circuit__run=run).order_by("-installed_at")
        field.program = run.program


class EscalateForm(forms.Form):
    role = forms.ChoiceField(
        choices=[(r, label) for r, label in Role.choices if r in ESCALATION_ROLES],
        initial=Role.INTENSIVIST,
    )
    reason = forms.CharField(required=False, max_length=500)


def _setting_number(value: float, places: int = 4) -> str:
    """A setting as a director types it: at most ``places`` decimals, no trailing zeros (150, 20, 26.66)."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _places(factor: float) -> int:
    """Decimals of a converted setting: 2 for kPa (26.66), 4 when stored as shown or as % (exact)."""
    return 4 if factor in (1.0, 100.0) else 2


def _setting_display(section: str, d: dict[str, Any], prefs: units.UnitPreferences) -> tuple[str, float, str]:
    """(label, factor, unit): how one setting is shown; shown = stored × factor, in ``unit``."""
    from ecmo_core.surveillance.setting_words import words

    said = words(section, d["name"])
    if said.parameter is not None:
        return said.label, units.to_local(said.parameter, 1.0, prefs), units.unit_of(said.parameter, prefs)
    if said.percent:
        return said.label, 100.0, "%"
    return said.label, 1.0, d["unit"]


def section_title(section: str) -> str:
    """A rule's own title, or the title of a section that is not a rule ("All rules: …")."""
    from ecmo_core.surveillance.rules import RULES
    from ecmo_core.surveillance.setting_words import SECTION_TITLES

    rule = RULES.get(section)
    return rule.title if rule is not None else SECTION_TITLES.get(section, section.replace("_", " "))


def settings_rows(
    current: dict[str, dict[str, Any]], prefs: units.UnitPreferences = units.US
) -> list[dict[str, Any]]:
    """Every surveillance setting by rule, in clinical words and the program's units: label, value, range,
    default, source (as evidence), and the factor from the stored value to the shown one."""
    from ecmo_core.surveillance import SECTIONS, SurveillanceConfig
    from ecmo_core.surveillance.setting_words import source_words

    defaults = SurveillanceConfig()
    rows = []
    for section in SECTIONS:
        described = type(defaults.section(section)).describe()
        settings = []
        for d in described:
            label, factor, unit = _setting_display(section, d, prefs)
            value = current.get(section, {}).get(d["name"], d["default"])
            boolean = isinstance(d["default"], bool)
            places = _places(factor)
            scale = 10**places
            # the site range in the shown unit, rounded inwards so that a bound typed as shown is accepted
            low = None if d["minimum"] is None else math.ceil(round(d["minimum"] * factor * scale, 6)) / scale
            high = (
                None if d["maximum"] is None else math.floor(round(d["maximum"] * factor * scale, 6)) / scale
            )
            settings.append(
                {
                    **d,
                    "label": label,
                    "unit": unit,
                    "factor": factor,
                    "value": value,
                    "shown": value
                    if boolean or not isinstance(value, int | float)
                    else _setting_number(value * factor, places),
                    "default_shown": "on"
                    if d["default"] is True
                    else "off"
                    if d["default"] is False
                    else f"{_setting_number(d['default'] * factor, places)} {unit}".strip(),
                    "minimum_shown": None if low is None else _setting_number(low),
                    "maximum_shown": None if high is None else _setting_number(high),
                    "source_words": source_words(d["source"]),
                    "field": f"{section}__{d['name']}",
                    "key": f"{section}.{d['name']}",
                }
            )
        rows.append({"section": section, "title": section_title(section), "settings": settings})
    return rows


def describe_rules(rules: dict[str, Any], prefs: units.UnitPreferences = units.US) -> list[str]:
    """A stored settings change in words: "Low post-oxygenator PO2 on pure oxygen: alert below 24 kPa"."""
    flat: dict[str, dict[str, Any]] = {}
    for key, value in (rules or {}).items():
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()) and value:
            for sub, table in value.items():
                flat.setdefault(f"{key}.{sub}", {}).update(table)
        elif isinstance(value, dict):
            flat.setdefault(key, {}).update(value)
    by_key = {s["key"]: s for row in settings_rows({}, prefs) for s in row["settings"]}
    lines = []
    for section, table in flat.items():
        for name, value in table.items():
            s = by_key.get(f"{section}.{name}")
            if s is None:
                continue
            if isinstance(value, bool):
                shown = "on" if value else "off"
            else:
                shown = (
                    f"{_setting_number(float(value) * s['factor'], _places(s['factor']))} {s['unit']}".strip()
                )
            lines.append(f"{section_title(section)}: {s['label'][:1].lower()}{s['label'][1:]} {shown}")
    return lines


class SurveillanceSettingsForm(forms.Form):
    """The program's surveillance settings: one field per rule setting (``section__name``), escalation, reason.

    A blank number keeps the value in force; an unticked box posts nothing, so the hidden ``__shown`` marker says
    the box was on the form. ``rules()`` holds only the values that differ from the defaults. Ranges are checked
    by the action (``ecmo_core``'s config), so the form and the API refuse the same values.
    """

    escalate_warning_after_min = forms.IntegerField(required=False)
    escalate_critical_after_min = forms.IntegerField(required=False)
    escalate_to_role = forms.ChoiceField(
        choices=[(r, label) for r, label in Role.choices if r in ESCALATION_ROLES], required=False
    )
    estimated_vo2_ml_kg_min = forms.CharField(required=False)
    reason = forms.CharField(required=False, max_length=300)

    def __init__(
        self,
        *args: Any,
        current: dict[str, dict[str, Any]],
        vo2_ml_kg_min: float = 3.0,
        prefs: units.UnitPreferences = units.US,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.vo2_ml_kg_min = vo2_ml_kg_min  # the estimate in force, kept when the box is left blank
        self.rows = settings_rows(current, prefs)
        for row in self.rows:
            for s in row["settings"]:
                if isinstance(s["default"], bool):
                    self.fields[s["field"]] = forms.BooleanField(required=False)
                    self.fields[f"{s['field']}__shown"] = forms.BooleanField(required=False)
                else:
                    self.fields[s["field"]] = forms.CharField(required=False)

    def clean_estimated_vo2_ml_kg_min(self) -> float:
        raw = (self.cleaned_data.get("estimated_vo2_ml_kg_min") or "").strip()
        try:
            return float(raw) if raw else self.vo2_ml_kg_min
        except ValueError:
            raise forms.ValidationError(f"{raw!r} is not a number: give 1 to 10 mL/kg/min") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rules: dict[str, dict[str, Any]] = {}
        for row in self.rows:
            for s in row["settings"]:
                raw = data.get(s["field"])
                if isinstance(s["default"], bool):
                    value: Any = bool(raw) if data.get(f"{s['field']}__shown") else s["value"]
                else:
                    accepted = (
                        f"{s['minimum_shown']} to {s['maximum_shown']} {s['unit']}".strip()
                        if s["minimum_shown"] is not None
                        else ""
                    )
                    raw = (raw or "").strip()
                    if raw in ("", s["shown"]):
                        value = s["value"]  # untouched: the stored value exactly (no unit round trip)
                    else:
                        try:
                            value = float(raw) / s["factor"]
                        except ValueError:
                            self.add_error(s["field"], f"{raw!r} is not a number; accepted {accepted}")
                            continue
                        if s["minimum"] is not None and not s["minimum"] <= value <= s["maximum"]:
                            self.add_error(
                                s["field"], f"{raw} {s['unit']} is outside the accepted range {accepted}"
                            )
                            continue
                    if isinstance(s["default"], int) and float(value).is_integer():
                        value = int(value)
                if value != s["default"]:
                    rules.setdefault(row["section"], {})[s["name"]] = value
        data["rules"] = rules
        return data

    def action_kwargs(self) -> dict[str, Any]:
        """The arguments of ``actions.save_settings`` (escalation defaults when left blank)."""
        data = self.cleaned_data
        return {
            "rules": data["rules"],
            "reason": data.get("reason") or "",
            "escalate_warning_after_min": data.get("escalate_warning_after_min") or 30,
            "escalate_critical_after_min": data.get("escalate_critical_after_min") or 10,
            "escalate_to_role": data.get("escalate_to_role") or Role.INTENSIVIST,
            "estimated_vo2_ml_kg_min": data.get("estimated_vo2_ml_kg_min", self.vo2_ml_kg_min),
        }

    def error_list(self) -> dict[str, str]:
        """Errors by setting (``section.name``) or field, as the page lists them."""
        return {key.replace("__", "."): " ".join(map(str, errors)) for key, errors in self.errors.items()}
