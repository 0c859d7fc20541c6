"""The ``circuit_selection`` decision kind: its form (the schema of ``Decision.content``), the evaluation it
keeps, and what deciding writes (the chosen parts become the run's components and cannulas).

The flow target comes from the patient and the configuration: cardiac index × BSA on V-A (and V-AV, VV-A),
the VV model's required blood flow on V-V (and V-PA), or a flow typed by the team. ``ecmo_core.circuit`` judges
every active catalogue item against it with the program's margins and limits; the team then chooses (the
proposal is preselected, any item may be chosen — one that fails is recorded as chosen against the checks).
"""

from __future__ import annotations

import math
from typing import Any

from django import forms

from ecmo_core import circuit, units
from ecmo_core.errors import InfeasibleError, InputError
from ecmo_core.oxygenation import vv_required_blood_flow
from ecmo_core.physiology import body_surface_area_m2
from ecmo_web.decisions.kinds import KindForm
from ecmo_web.decisions.models import Kind
from ecmo_web.forms import MeasureField
from ecmo_web.perfusion import site
from ecmo_web.perfusion.catalogue import selection_catalogue
from ecmo_web.runs.models import Cannula, CatalogueItem, CatalogueKind, EcmoRun, Mode

VA_FAMILY = ("va", "vav", "vva")
PARTS: tuple[tuple[str, str], ...] = (
    ("oxygenator", "oxygenator"),
    ("pump", "pump"),
    ("tubing_pack", "tubing_pack"),
    ("drainage_cannula", "drainage_cannula"),
    ("return_cannula", "return_cannula"),
    ("dual_lumen_cannula", "dual_lumen_cannula"),
)
DEFAULT_SITES = {
    "vv": ("right_femoral_vein", "right_internal_jugular"),
    "va": ("right_femoral_vein", "left_femoral_artery"),
}


def _number(label: str, low: float, high: float, **kwargs: Any) -> forms.FloatField:
    kwargs.setdefault("required", False)
    return forms.FloatField(label=label, min_value=low, max_value=high, **kwargs)


def _items(kind: str, purpose: str = "") -> Any:
    qs = CatalogueItem.objects.filter(active=True, kind=kind)
    return qs.filter(cannula_purpose=purpose) if purpose else qs


class CatalogueChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        if obj.kind == CatalogueKind.CANNULA:
            return f"{obj.maker} {obj.model} ({obj.size_fr} Fr)"
        return f"{obj.maker} {obj.model}"


def _choice(label: str, kind: str, purpose: str = "") -> CatalogueChoice:
    return CatalogueChoice(
        queryset=_items(kind, purpose), required=False, label=label, help_text="empty: the proposal"
    )


def round_up_flow(value: float) -> float:
    """Up to the next 0.1 L/min, as a flow target is set (the model's flow is the least that reaches the target)."""
    return math.ceil(round(value * 10, 6)) / 10


class CircuitSelectionForm(KindForm):
    kind = Kind.CIRCUIT_SELECTION
    configuration = forms.ChoiceField(choices=Mode.choices)
    weight_kg = _number("Weight (kg)", 20, 350)
    height_cm = _number("Height (cm)", 120, 250)
    hb_g_dl = MeasureField(
        "hemoglobin_g_dl", name="Haemoglobin", bounds=(3, 25)
    )  # g/L where the program says
    cardiac_index_l_min_m2 = _number(
        "Cardiac index target (L/min/m²)", 1, 4, help_text="V-A: flow = cardiac index × BSA"
    )
    target_arterial_so2 = _number("Target arterial SO2", 0.7, 1, help_text="V-V model; a fraction 0–1")
    vo2_ml_min = _number("VO2 (mL/min)", 1, 1000, help_text="V-V model; about 3 mL/kg/min at rest")
    cardiac_output_l_min = _number("Cardiac output (L/min)", 0.5, 20, help_text="V-V model")
    recirculation_fraction = _number("Expected recirculation", 0, 0.9, help_text="V-V model; a fraction 0–1")
    flow_target_l_min = _number(
        "Flow target (L/min)", 0.5, 10, help_text="leave empty to compute it from the fields above"
    )
    dual_lumen = forms.BooleanField(required=False, label="V-V with one dual-lumen cannula")
    tip_distance_cm = _number(
        "Planned tip-to-tip distance (cm)", 0, 100, help_text="V-V with two cannulas: recirculation risk"
    )
    oxygenator = _choice("Oxygenator", CatalogueKind.OXYGENATOR)
    pump = _choice("Pump head", CatalogueKind.PUMP_HEAD)
    tubing_pack = _choice("Tubing pack", CatalogueKind.TUBING_PACK)
    console = _choice("Console", CatalogueKind.CONSOLE)
    drainage_cannula = _choice("Drainage cannula", CatalogueKind.CANNULA, "drainage")
    return_cannula = _choice("Return cannula", CatalogueKind.CANNULA, "return")
    dual_lumen_cannula = _choice("Dual-lumen cannula", CatalogueKind.CANNULA, "dual_lumen")
    drainage_site = forms.ChoiceField(choices=[("", "—"), *Cannula.Site.choices], required=False)
    return_site = forms.ChoiceField(choices=[("", "—"), *Cannula.Site.choices], required=False)
    install_on_run = forms.BooleanField(
        required=False, initial=True, label="Put the chosen parts on the run when decided"
    )
    note = forms.CharField(required=False, max_length=300)

    FIELDSETS = (
        ("Patient and configuration", ("configuration", "weight_kg", "height_cm", "hb_g_dl")),
        (
            "Flow target",
            (
                "cardiac_index_l_min_m2",
                "target_arterial_so2",
                "vo2_ml_min",
                "cardiac_output_l_min",
                "recirculation_fraction",
                "flow_target_l_min",
            ),
        ),
        ("Cannulation plan", ("dual_lumen", "tip_distance_cm", "drainage_site", "return_site")),
        (
            "Chosen (empty: the proposal)",
            (
                "oxygenator",
                "pump",
                "tubing_pack",
                "console",
                "drainage_cannula",
                "return_cannula",
                "dual_lumen_cannula",
                "install_on_run",
                "note",
            ),
        ),
    )

    def __init__(self, *args: Any, run: EcmoRun, **kwargs: Any) -> None:
        super().__init__(*args, run=run, **kwargs)
        self.site_values = site.current(run.program)
        self.result: circuit.Selection | None = None
        self.flow_working: list[str] = []
        mode = run.current_mode()
        self.fields["configuration"].initial = mode.mode if mode else "vv"
        if run.weight_kg is not None:
            self.fields["weight_kg"].initial = float(run.weight_kg)
            self.fields["vo2_ml_min"].initial = round(float(run.weight_kg) * 3)
        if run.height_cm is not None:
            self.fields["height_cm"].initial = float(run.height_cm)
        self.fields["cardiac_index_l_min_m2"].initial = self.site_values["va_cardiac_index_l_min_m2"]
        self.fields["target_arterial_so2"].initial = self.site_values["vv_target_arterial_so2"]

    # --- the flow target ------------------------------------------------------------------------------

    def _flow_target(self, d: dict[str, Any]) -> float | None:
        config = d.get("configuration") or ""
        if d.get("flow_target_l_min") is not None:
            self.flow_working = [f"flow target typed by the team: {d['flow_target_l_min']:g} L/min"]
            return float(d["flow_target_l_min"])
        if config in VA_FAMILY:
            need = [n for n in ("weight_kg", "height_cm", "cardiac_index_l_min_m2") if d.get(n) is None]
            for n in need:
                self.add_error(
                    n, "needed for the V-A flow target (cardiac index × BSA), or type a flow target"
                )
            if need:
                return None
            bsa = body_surface_area_m2(height_cm=d["height_cm"], weight_kg=d["weight_kg"])
            flow = circuit.va_flow_target_l_min(
                cardiac_index_l_min_m2=d["cardiac_index_l_min_m2"], bsa_m2=bsa
            )
            self.flow_working = [
                f"BSA (Mosteller) √({d['height_cm']:g} × {d['weight_kg']:g} / 3600) = {bsa:.2f} m²",
                f"flow = {d['cardiac_index_l_min_m2']:g} L/min/m² × {bsa:.2f} m² = {flow:.2f} L/min, "
                f"set at {round_up_flow(flow):.1f} L/min",
            ]
            return round_up_flow(flow)
        need = [
            n
            for n in ("target_arterial_so2", "vo2_ml_min", "hb_g_dl", "cardiac_output_l_min")
            if d.get(n) is None
        ]
        for n in need:
            self.add_error(n, "needed for the V-V flow target (VV model), or type a flow target")
        if need:
            return None
        model = vv_required_blood_flow(
            target_arterial_so2=d["target_arterial_so2"],
            vo2_ml_min=d["vo2_ml_min"],
            hb_g_dl=d["hb_g_dl"],
            cardiac_output_l_min=d["cardiac_output_l_min"],
            recirculation_fraction=d.get("recirculation_fraction") or 0.0,
        )
        flow = model.ecmo_blood_flow_l_min
        self.flow_working = [
            f"VV model: SaO2 {d['target_arterial_so2']:g} with VO2 {d['vo2_ml_min']:g} mL/min, Hb "
            f"{units.entry_text('hemoglobin_g_dl', d['hb_g_dl'], self.prefs)} "
            f"{units.unit_of('hemoglobin_g_dl', self.prefs)}, cardiac output {d['cardiac_output_l_min']:g} L/min, recirculation "
            f"{d.get('recirculation_fraction') or 0:g} needs {flow:.2f} L/min, set at {round_up_flow(flow):.1f} L/min"
        ]
        return round_up_flow(flow)

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if self.errors:
            return d
        config = d.get("configuration") or ""
        if d.get("dual_lumen") and config != "vv":
            self.add_error("dual_lumen", "a dual-lumen cannula is offered on V-V only")
            return d
        try:
            flow = self._flow_target(d)
            if flow is None:
                return d
            parts = selection_catalogue(CatalogueItem.objects.filter(active=True))
            self.result = circuit.select_circuit(
                configuration=config,
                flow_target_l_min=flow,
                oxygenators=parts["oxygenators"],
                pumps=parts["pumps"],
                tubing_packs=parts["tubing_packs"],
                cannulas=parts["cannulas"],
                limits=site.limits(self.site_values),
                dual_lumen=bool(d.get("dual_lumen")),
                tip_distance_cm=d.get("tip_distance_cm"),
            )
        except (InputError, InfeasibleError) as err:
            self._input_error(err, "flow_target_l_min")
            return d
        self.incomplete = parts["incomplete"]
        for name, key in PARTS:
            if d.get(name) is None and self.result.proposal.get(key):
                d[name] = CatalogueItem.objects.get(pk=int(str(self.result.proposal[key])))
        if d.get("console") is None:
            d["console"] = _items(CatalogueKind.CONSOLE).first()
        if d.get("dual_lumen"):
            d["drainage_cannula"] = d["return_cannula"] = None
        else:
            d["dual_lumen_cannula"] = None
        defaults = DEFAULT_SITES["va" if config in VA_FAMILY else "vv"]
        if not d.get("drainage_site"):
            d["drainage_site"] = "right_internal_jugular" if d.get("dual_lumen") else defaults[0]
        if not d.get("return_site") and not d.get("dual_lumen"):
            d["return_site"] = defaults[1]
        if d.get("install_on_run"):
            needed = (
                "oxygenator",
                "pump",
                *(("dual_lumen_cannula",) if d.get("dual_lumen") else ("drainage_cannula", "return_cannula")),
            )
            for name in needed:
                if d.get(name) is None:
                    self.add_error(
                        name,
                        "nothing in the catalogue fits: choose one, or untick “put the chosen parts on the run”",
                    )
        return d

    # --- what is kept ---------------------------------------------------------------------------------

    def derived(self) -> dict[str, Any]:
        if self.result is None:
            return {}
        r = self.result
        chosen = {name: self.cleaned_data.get(name) for name, _ in PARTS}
        checks: dict[str, tuple[circuit.ItemCheck | circuit.CannulaCheck, ...]] = {
            "oxygenator": r.oxygenators,
            "pump": r.pumps,
            "tubing_pack": r.tubing_packs,
            "drainage_cannula": r.drainage_cannulas,
            "return_cannula": r.return_cannulas,
            "dual_lumen_cannula": r.dual_lumen_cannulas,
        }
        against = []
        for name, item in chosen.items():
            if item is None:
                continue
            found = [c for c in checks[name] if c.key == str(item.pk)]
            if found and not found[0].passes:
                against.append(f"{item}: {'; '.join(found[0].reasons)}")
        lim = r.limits
        needs = {
            "oxygenator": f"rated flow ≥ {r.flow_target_l_min * (1 + lim.oxygenator_margin_fraction):.1f} L/min",
            "pump": f"maximum flow ≥ {r.flow_target_l_min * (1 + lim.pump_margin_fraction):.1f} L/min",
            "tubing_pack": f"rated flow ≥ {r.flow_target_l_min:.1f} L/min",
            "drainage_cannula": f"pressure drop ≤ {lim.drainage_pressure_drop_max_mmhg:g} mmHg",
            "return_cannula": f"pressure drop ≤ {lim.return_pressure_drop_max_mmhg:g} mmHg",
            "dual_lumen_cannula": f"drainage ≤ {lim.drainage_pressure_drop_max_mmhg:g}, return ≤ "
            f"{lim.return_pressure_drop_max_mmhg:g} mmHg",
        }
        labels = {name: str(self.fields[name].label) for name, _ in PARTS}
        criteria = []
        for name, item in chosen.items():
            found = [c for c in checks[name] if item is not None and c.key == str(item.pk)]
            if item is None or not found:
                continue
            criteria.append(
                {
                    "label": f"{labels[name]}: {item}",
                    "observed": "; ".join(found[0].reasons),
                    "requirement": needs[name],
                    "status": "met" if found[0].passes else "not_met",
                    "source": "program settings",
                }
            )
        return {
            # Shown with the decision like the pathway evaluations (decisions.present.EVALUATIONS).
            "catalogue_check": {
                "status": "criteria_met" if not against and not r.nothing_fits else "criteria_not_met",
                "criteria": criteria,
                "details": {},
            },
            "flow_target_l_min_used": r.flow_target_l_min,
            "flow_working": self.flow_working,
            "selection": {
                "proposal": {k: (int(v) if v else None) for k, v in r.proposal.items()},
                "nothing_fits": list(r.nothing_fits),
                "flags": list(r.flags),
                "limits": {k: getattr(r.limits, k) for k in r.limits.__dataclass_fields__},
                "checks": {
                    name: [
                        {
                            "id": int(c.key),
                            "label": c.label,
                            "passes": c.passes,
                            "reasons": list(c.reasons),
                            **(
                                {"pressure_drop_mmhg": c.pressure_drop_mmhg}
                                if hasattr(c, "pressure_drop_mmhg")
                                else {}
                            ),
                        }
                        for c in items
                    ]
                    for name, items in checks.items()
                },
                "incomplete_catalogue_items": list(getattr(self, "incomplete", [])),
            },
            "chosen_against_the_checks": against,
        }

    def apply(self, *, actor: Any, decision: Any) -> None:
        """Deciding puts the chosen parts on the run through the runs actions (components on the current
        circuit, cannulas inserted at the decision time)."""
        from ecmo_web.perfusion.apply import apply_selection

        if self.cleaned_data.get("install_on_run"):
            apply_selection(actor=actor, decision=decision, data=self.cleaned_data)
