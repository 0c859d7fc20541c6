"""Parameter codes of core-api §4 with their units and plausibility bounds.

The bounds reject *impossible* values (a typo, a percentage sent as a fraction, a unit mix-up); they are not
clinical alert limits. Each bound is wider than any value a working adult or paediatric circuit, analyser or
patient can produce, so a value outside it is refused with an :class:`~ecmo_core.errors.InputError` naming the
parameter and the range, and nothing is clamped.

Provenance marks follow ../../shared/clinical/reference.md: [✔] seen in a source, [◐] secondary,
[○] engineering bound chosen here (device or analyser measuring range, generously rounded).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

from ecmo_core import validate
from ecmo_core.errors import InputError


class ParameterSpec(NamedTuple):
    """``(unit, plausible minimum, plausible maximum, description)`` of one parameter code."""

    unit: str
    minimum: float
    maximum: float
    description: str


FRACTION = "fraction"
FLAG = "0/1"

_SPECS: dict[str, ParameterSpec] = {
    # --- circuit -------------------------------------------------------------------------------------------
    # Adult oxygenators are rated to about 7–8 L/min (reference §1.1 rated flow [✔ S56]); 10 is a ceiling. [○]
    "blood_flow_l_min": ParameterSpec("L/min", 0.0, 10.0, "blood flow"),
    # Centrifugal consoles run up to about 5000–5500 rpm; hand crank restarts ~1500 [✔ S25e]. Ceiling. [○]
    "pump_speed_rpm": ParameterSpec("rpm", 0.0, 10000.0, "pump speed"),
    # Usually −20 to −80; older ELSO text gives −300 as an absolute ceiling [◐ S1]; −500 = transducer. [○]
    "access_pressure_mmhg": ParameterSpec("mmHg", -500.0, 100.0, "access (pre-pump) pressure"),
    # Typical 150–350, alerts at 350–400 (reference §1.2 [○]); disposable transducers read to ~750. [○]
    "pre_oxygenator_pressure_mmhg": ParameterSpec("mmHg", -100.0, 800.0, "pre-oxygenator pressure"),
    "post_oxygenator_pressure_mmhg": ParameterSpec("mmHg", -100.0, 800.0, "post-oxygenator pressure"),
    # Console-reported ΔP (device-data §1.3 proposed extension [○]); small negatives from zeroing offsets. [○]
    "membrane_delta_p_mmhg": ParameterSpec("mmHg", -50.0, 500.0, "membrane ΔP"),
    # Adult sweep rarely exceeds 10–12 L/min; blenders/flowmeters read to 15. [○]
    "sweep_gas_l_min": ParameterSpec("L/min", 0.0, 15.0, "sweep gas flow"),
    # FdO2 is a fraction 0.21–1.0 (reference "Units used throughout" [✔]); an air/O2 blender cannot go lower.
    "fdo2": ParameterSpec(FRACTION, 0.21, 1.0, "FdO2"),
    "exhaust_pco2_mmhg": ParameterSpec("mmHg", 0.0, 150.0, "exhaust PCO2"),
    # Deep hypothermia to hyperthermia; heater-coolers are limited to about 15–41 °C. [○]
    "blood_temperature_c": ParameterSpec("°C", 15.0, 45.0, "blood temperature"),
    # Bubble detector state, 0 or 1 (device-data §1.3: "map all to 0/1" [○]).
    "bubble_detected": ParameterSpec(FLAG, 0.0, 1.0, "bubble detector"),
    # Recirculation fraction 0–1 (reference §2.6 [✔ S14, S15]).
    "recirculation_fraction": ParameterSpec(FRACTION, 0.0, 1.0, "recirculation fraction"),
    # --- circuit blood -------------------------------------------------------------------------------------
    "pre_oxygenator_so2": ParameterSpec(FRACTION, 0.0, 1.0, "pre-oxygenator SO2"),
    "post_oxygenator_so2": ParameterSpec(FRACTION, 0.0, 1.0, "post-oxygenator SO2"),
    # At FdO2 1.0 and 760 mmHg the ceiling is about 700 mmHg (alveolar-gas limit); 800 leaves margin. [○]
    "post_oxygenator_po2_mmhg": ParameterSpec("mmHg", 0.0, 800.0, "post-oxygenator PO2"),
    "post_oxygenator_pco2_mmhg": ParameterSpec("mmHg", 0.0, 150.0, "post-oxygenator PCO2"),
    "mixed_venous_so2": ParameterSpec(FRACTION, 0.0, 1.0, "mixed-venous SO2"),
    "hematocrit": ParameterSpec(FRACTION, 0.0, 0.8, "haematocrit"),
    # Analysers report 0–25 g/dL. [○]
    "hemoglobin_g_dl": ParameterSpec("g/dL", 0.0, 25.0, "haemoglobin"),
    # --- labs ----------------------------------------------------------------------------------------------
    # Severe paediatric haemolysis ≥ 1 g/L = 100 mg/dL [✔ S22]; 2000 mg/dL = 20 g/L is beyond any report. [○]
    "plasma_free_hb_mg_dl": ParameterSpec("mg/dL", 0.0, 2000.0, "plasma free Hb"),
    "ldh_u_l": ParameterSpec("U/L", 0.0, 50000.0, "LDH"),
    # Chromogenic anti-Xa assays report to about 1.5–2 IU/mL. [○]
    "anti_xa_iu_ml": ParameterSpec("IU/mL", 0.0, 5.0, "anti-Xa"),
    # Coagulometers cap aPTT at about 150–300 s; ACT analysers at about 999–1500 s. [○]
    "aptt_s": ParameterSpec("s", 5.0, 300.0, "aPTT"),
    "act_s": ParameterSpec("s", 30.0, 1500.0, "ACT"),
    "fibrinogen_mg_dl": ParameterSpec("mg/dL", 0.0, 2000.0, "fibrinogen"),
    "platelets_10e3_ul": ParameterSpec("10³/µL", 0.0, 3000.0, "platelets"),
    "d_dimer_mg_l": ParameterSpec("mg/L FEU", 0.0, 200.0, "D-dimer"),
    "lactate_mmol_l": ParameterSpec("mmol/L", 0.0, 40.0, "lactate"),
    # --- patient -------------------------------------------------------------------------------------------
    "arterial_po2_mmhg": ParameterSpec("mmHg", 0.0, 800.0, "arterial PO2"),
    "arterial_pco2_mmhg": ParameterSpec("mmHg", 0.0, 250.0, "arterial PCO2"),
    # Survivable pH 6.5–8.0 is a generous analyser-and-physiology bound. [○]
    "arterial_ph": ParameterSpec("pH", 6.5, 8.0, "arterial pH"),
    "arterial_so2": ParameterSpec(FRACTION, 0.0, 1.0, "arterial SO2"),
    "right_radial_po2_mmhg": ParameterSpec("mmHg", 0.0, 800.0, "right radial PO2"),
    "spo2": ParameterSpec(FRACTION, 0.0, 1.0, "SpO2"),
    "mean_arterial_pressure_mmhg": ParameterSpec("mmHg", 0.0, 300.0, "mean arterial pressure"),
    "pulse_pressure_mmhg": ParameterSpec("mmHg", 0.0, 250.0, "pulse pressure"),
    # Monitors count 15–300 beats per minute; a ventricular rate outside it is asystole or an artefact. [○]
    "heart_rate_per_min": ParameterSpec("/min", 0.0, 300.0, "heart rate"),
    # Regional oximeters report 15–95 %; codes are named _pct, so these are percentages, not fractions. [○]
    "cerebral_nirs_left_pct": ParameterSpec("%", 0.0, 100.0, "left cerebral NIRS"),
    "cerebral_nirs_right_pct": ParameterSpec("%", 0.0, 100.0, "right cerebral NIRS"),
    "limb_nirs_pct": ParameterSpec("%", 0.0, 100.0, "limb NIRS"),
    # --- mechanical circulatory support ---------------------------------------------------------------
    # Impella performance levels P0–P9 (demo-scenarios §2 [○]).
    "impella_p_level": ParameterSpec("P-level", 0.0, 9.0, "Impella P-level"),
    # Impella 5.5 delivers up to about 6 L/min. [○]
    "impella_flow_l_min": ParameterSpec("L/min", 0.0, 7.0, "Impella flow"),
    # IABP assist ratio as the denominator n of 1:n (1:1, 1:2, 1:3, 1:4, 1:8). [○]
    "iabp_ratio": ParameterSpec("1:n", 1.0, 8.0, "IABP assist ratio"),
    "vad_flow_l_min": ParameterSpec("L/min", 0.0, 12.0, "VAD flow"),
    "vad_speed_rpm": ParameterSpec("rpm", 0.0, 10000.0, "VAD speed"),
}

PARAMETERS: MappingProxyType[str, ParameterSpec] = MappingProxyType(_SPECS)
"""Every parameter code of core-api §4 → :class:`ParameterSpec` (read-only)."""


def label(parameter: str) -> str:
    """Short plain-words name used in messages ("access (pre-pump) pressure")."""
    return PARAMETERS[parameter].description


def check_value(parameter: str, value: object, *, field: str | None = None) -> float:
    """Return ``value`` as a float if it is plausible for ``parameter``; else raise :class:`InputError`.

    ``field`` names the offending input in the error (default: the parameter code). Fractions above 1 get a
    message that says "fraction"; the bubble detector accepts 0 or 1 only.
    """
    spec = PARAMETERS[check_parameter(parameter)]
    name = field or parameter
    if spec.unit == FRACTION:
        validate.fraction(name, value)
    if spec.unit == FLAG:
        result = validate.number(name, value)
        if result not in (0.0, 1.0):
            raise InputError(name, f"must be 0 (no bubble) or 1 (bubble detected), got {result:g}")
        return result
    unit = "" if spec.unit == FRACTION else spec.unit
    return validate.number(name, value, minimum=spec.minimum, maximum=spec.maximum, unit=unit)


def check_parameter(parameter: object, *, field: str = "parameter") -> str:
    """Return ``parameter`` if it is a known code; else raise :class:`InputError` naming ``field``."""
    if not isinstance(parameter, str) or parameter not in PARAMETERS:
        raise InputError(
            field, f"unknown parameter code {parameter!r}; see core-api §4 for the accepted codes"
        )
    return parameter
