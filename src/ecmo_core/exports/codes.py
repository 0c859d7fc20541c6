"""Code tables shared by the exports: parameter codings (99ECMO, LOINC, UCUM), modes, cannula sites, outcomes
and complications in ELSO, ECLS CDM (OMOP concept ids) and FHIR terms.

Sources:
- parameter codes, UCUM units, LOINC where one exists, and the local ``99ECMO`` system:
  ``shared/clinical/device-data.md`` §1.3–1.5 and §3 (LOINC marked [✔] there only);
- ECLS CDM concept ids: github.com/ecls-cdm/cdm, ``docs/structure/ecls_mode.md``, ``ecls_cannula.md``,
  ``ecls_circuit_component.md``, ``ecls_run.md`` and ``docs/userguide/stop_reasons.md`` (reference S44);
- ELSO Registry sections and the classic complication list: ELSO Registry Data Definitions 2018 (S9a),
  Change Document 2022 (S9b), via ``shared/clinical/reference.md`` §8.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

LOCAL_SYSTEM = "urn:ecmo-steward:parameter"
"""FHIR system of the project's own parameter codes (device-data §1.2: ``99ECMO`` in HL7 v2)."""
LOCAL_V2_SYSTEM = "99ECMO"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"


class Coding(NamedTuple):
    """How one parameter is coded: UCUM unit, LOINC code (or None), kind (FHIR category), and a label."""

    ucum: str
    loinc: str | None
    kind: str  # circuit, lab, patient, mcs
    label: str


_PARAMETER_CODING: dict[str, Coding] = {
    # circuit telemetry: no standard code exists (device-data §1.3 bottom line) → 99ECMO only
    "blood_flow_l_min": Coding("L/min", None, "circuit", "ECMO blood flow"),
    "pump_speed_rpm": Coding("/min", None, "circuit", "Pump speed"),
    "access_pressure_mmhg": Coding("mm[Hg]", None, "circuit", "Access (pre-pump) pressure"),
    "pre_oxygenator_pressure_mmhg": Coding("mm[Hg]", None, "circuit", "Pre-oxygenator pressure"),
    "post_oxygenator_pressure_mmhg": Coding("mm[Hg]", None, "circuit", "Post-oxygenator pressure"),
    "membrane_delta_p_mmhg": Coding("mm[Hg]", None, "circuit", "Membrane pressure drop"),
    "sweep_gas_l_min": Coding("L/min", None, "circuit", "Sweep gas flow"),
    "fdo2": Coding("1", None, "circuit", "Sweep gas O2 fraction"),
    "exhaust_pco2_mmhg": Coding("mm[Hg]", None, "circuit", "Oxygenator exhaust PCO2"),
    "blood_temperature_c": Coding("Cel", None, "circuit", "Circuit blood temperature"),
    "bubble_detected": Coding("1", None, "circuit", "Bubble detector"),
    "recirculation_fraction": Coding("1", None, "circuit", "Recirculation fraction"),
    # circuit blood: the unspecified-blood LOINC codes carry no circuit site (device-data §1.5); the local
    # code names the site, so these stay 99ECMO-primary with the generic LOINC alongside
    "pre_oxygenator_so2": Coding("1", "20564-1", "circuit", "Pre-oxygenator SO2"),
    "post_oxygenator_so2": Coding("1", "20564-1", "circuit", "Post-oxygenator SO2"),
    "post_oxygenator_po2_mmhg": Coding("mm[Hg]", "11556-8", "circuit", "Post-oxygenator PO2"),
    "post_oxygenator_pco2_mmhg": Coding("mm[Hg]", "11557-6", "circuit", "Post-oxygenator PCO2"),
    "mixed_venous_so2": Coding("1", "19224-5", "lab", "Mixed venous SO2"),
    "hematocrit": Coding("1", None, "lab", "Haematocrit"),
    "hemoglobin_g_dl": Coding("g/dL", "718-7", "lab", "Haemoglobin"),
    # labs (device-data §1.4)
    "plasma_free_hb_mg_dl": Coding("mg/dL", "721-1", "lab", "Plasma free haemoglobin"),
    "ldh_u_l": Coding("U/L", "14804-9", "lab", "Lactate dehydrogenase"),
    "anti_xa_iu_ml": Coding("[IU]/mL", "3274-8", "lab", "Anti-Xa (unfractionated heparin)"),
    "aptt_s": Coding("s", "14979-9", "lab", "aPTT"),
    "act_s": Coding("s", "3184-9", "lab", "Activated clotting time"),
    "fibrinogen_mg_dl": Coding("mg/dL", "3255-7", "lab", "Fibrinogen (Clauss)"),
    "platelets_10e3_ul": Coding("10*3/uL", "777-3", "lab", "Platelets"),
    "d_dimer_mg_l": Coding("mg/L", None, "lab", "D-dimer (FEU)"),
    "lactate_mmol_l": Coding("mmol/L", None, "lab", "Lactate"),
    # patient blood gases (device-data §1.5: arterial 2703-7, 2019-8, 2708-6)
    "arterial_po2_mmhg": Coding("mm[Hg]", "2703-7", "lab", "Arterial PO2"),
    "arterial_pco2_mmhg": Coding("mm[Hg]", "2019-8", "lab", "Arterial PCO2"),
    "arterial_ph": Coding("[pH]", None, "lab", "Arterial pH"),
    "arterial_so2": Coding("1", "2708-6", "lab", "Arterial SO2"),
    "right_radial_po2_mmhg": Coding("mm[Hg]", "2703-7", "lab", "Right radial arterial PO2"),
    # patient monitoring
    "spo2": Coding("1", None, "patient", "SpO2"),
    "mean_arterial_pressure_mmhg": Coding("mm[Hg]", None, "patient", "Mean arterial pressure"),
    "pulse_pressure_mmhg": Coding("mm[Hg]", None, "patient", "Pulse pressure"),
    "heart_rate_per_min": Coding("/min", "8867-4", "patient", "Heart rate"),
    "cerebral_nirs_left_pct": Coding("%", None, "patient", "Left cerebral NIRS"),
    "cerebral_nirs_right_pct": Coding("%", None, "patient", "Right cerebral NIRS"),
    "limb_nirs_pct": Coding("%", None, "patient", "Limb NIRS"),
    # MCS
    "impella_p_level": Coding("1", None, "mcs", "Impella P-level"),
    "impella_flow_l_min": Coding("L/min", None, "mcs", "Impella flow"),
    "iabp_ratio": Coding("1", None, "mcs", "IABP assist ratio (1:n)"),
    "vad_flow_l_min": Coding("L/min", None, "mcs", "VAD flow"),
    "vad_speed_rpm": Coding("/min", None, "mcs", "VAD speed"),
}
PARAMETER_CODING: MappingProxyType[str, Coding] = MappingProxyType(_PARAMETER_CODING)


def coding_for(parameter: str) -> Coding:
    """The coding of a parameter; an unknown (open-list) code gets the local system and unit ``1``."""
    found = PARAMETER_CODING.get(parameter)
    if found is None:
        return Coding("1", None, "circuit", parameter.replace("_", " "))
    return found


MODE_LABELS: MappingProxyType[str, str] = MappingProxyType(
    {"vv": "V-V", "va": "V-A", "vav": "V-AV", "vva": "VV-A", "vpa": "V-PA"}
)

# ECLS CDM ecls_mode.mode_concept_id (S44 docs/structure/ecls_mode.md)
MODE_CONCEPTS: MappingProxyType[str, int] = MappingProxyType(
    {"vv": 37206603, "va": 37206601, "vva": 36717790, "vpa": 36717791, "vav": 36717792}
)

# ECLS CDM ecls_run.start_reason_concept_id (S44 ecls_run.md): respiratory, cardiovascular, resuscitation
INDICATION_CONCEPTS: MappingProxyType[str, int] = MappingProxyType(
    {"respiratory": 320136, "cardiac": 134057, "ecpr": 4205502}
)
URGENCY_EMERGENCY = 4093606  # ecls_run.urgency_concept_id "Emergency"; every run so far is emergent

# ECLS CDM stop reasons (S44 stop_reasons.md) by ECMO Steward outcome
OUTCOME_STOP_CONCEPTS: MappingProxyType[str, int] = MappingProxyType(
    {
        "weaned": 4149524,  # Patient's condition improved
        "died_on_ecmo": 434489,  # Dead
        "withdrawn": 4154766,  # Moribund
        "bridge_vad": 4337306,  # Implantation of ventricular assist device
        "bridge_transplant": 4137127,  # Transplantation of heart (lung: 4337138; refine per run when recorded)
        "transferred": 44790553,  # Following protocol (transfer on ECMO)
    }
)
END_OF_LIFE_CYCLE = 36717877  # a component replaced for its age or by protocol
TREATMENT_CHANGED = 40483850

# ECLS CDM ecls_cannula.flow_direction_concept_id
FLOW_DIRECTION_CONCEPTS: MappingProxyType[str, int] = MappingProxyType(
    {"drainage": 36717809, "return": 36717810, "dual_lumen": 36717811, "distal_perfusion": 36717812}
)

# ECLS CDM ecls_cannula.location_concept_id and laterality (Left 4300877, Right 4080761)
LEFT, RIGHT = 4300877, 4080761
CANNULA_SITE_CONCEPTS: MappingProxyType[str, tuple[int, int | None]] = MappingProxyType(
    {
        "right_internal_jugular": (4006845, RIGHT),
        "left_internal_jugular": (4006845, LEFT),
        "right_femoral_vein": (4308414, RIGHT),
        "left_femoral_vein": (4308414, LEFT),
        "right_femoral_artery": (4109754, RIGHT),
        "left_femoral_artery": (4109754, LEFT),
        "right_superficial_femoral_artery": (4111596, RIGHT),
        "left_superficial_femoral_artery": (4111596, LEFT),
        "right_axillary_artery": (4239013, RIGHT),
        "right_subclavian_artery": (4272388, RIGHT),
        "ascending_aorta": (4183988, None),
        "right_atrium": (4242112, RIGHT),
        "pulmonary_artery": (4215757, None),
        "left_ventricle": (4070760, LEFT),
    }
)
PERCUTANEOUS = 4013298  # insertion_concept_id; the run records no technique yet, so percutaneous by default

# ECLS CDM ecls_circuit_component.component_type_concept_id
COMPONENT_TYPE_CONCEPTS: MappingProxyType[str, int] = MappingProxyType(
    {
        "pump_head": 4260370,  # Pump
        "console": 45768426,  # Console
        "oxygenator": 4180582,  # Artificial lung
        "heater": 36717854,  # ECLS temperature regulation device
        "cannula": 36717850,  # ECLS cannula
    }
)

# ECLS CDM complication concepts (S44 stop_reasons.md "Complications") for the ELSO complication codes of the
# quality app's list (quality/complications.toml); codes with no ECLS concept map to None (ELSO only).
COMPLICATION_CONCEPTS: MappingProxyType[str, int] = MappingProxyType(
    {
        "mech.oxygenator_failure": 36717838,  # Extracorporeal membrane lung failure
        "mech.pump_malfunction": 36717839,  # ECLS blood pump failure
        "mech.raceway_rupture": 36717846,
        "mech.tubing_rupture": 36717845,
        "mech.heat_exchanger_malfunction": 36717840,  # temperature regulation device failure
        "mech.clot_oxygenator": 36717836,
        "mech.clot_pump": 36717833,
        "mech.clot_bridge": 36717834,  # blood clot in ECLS circuit
        "mech.clot_bladder": 36717834,
        "mech.clot_hemofilter": 36717834,
        "mech.clot_circuit_other": 36717834,
        "mech.air_in_circuit": 36717816,
        "mech.cannula_problem": 36717841,  # ECLS cannula failure
        "mech.cannula_dislodgement": 740912,
        "mech.pigtail_crack": 36717844,  # impaired structural integrity
        "mech.flow_obstruction": 36717814,
        "mech.console_failure": 36717843,
        "hem.cannulation_site": 36717817,  # Hemorrhage of ECLS vascular access
        "hem.hemolysis": 36717827,
    }
)

# FHIR AdverseEvent.seriousness (http://terminology.hl7.org/CodeSystem/adverse-event-seriousness) and
# Condition.severity (SNOMED severity qualifiers) from the quality app's local severity scale.
SERIOUS = frozenset({"severe", "life_threatening", "fatal"})
SEVERITY_SNOMED: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "mild": ("255604002", "Mild"),
        "moderate": ("6736007", "Moderate"),
        "severe": ("24484000", "Severe"),
        "life_threatening": ("442452003", "Life threatening severity"),
        "fatal": ("399166001", "Fatal"),
    }
)
