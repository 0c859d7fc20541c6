"""Bedside physiology formulas for ECMO: oxygen content and transport, oxygenator gas transfer,
recirculation, body size and ventilator mechanics.

Every function is keyword-only, takes units in its argument names, validates each input against a named
plausibility range (below) and returns a plain ``float``. Saturations and FiO2 are fractions 0–1.
Bad input raises :class:`~ecmo_core.errors.InputError` naming the keyword; inputs that are each valid but
describe an impossible state together raise :class:`~ecmo_core.errors.InfeasibleError`. Nothing is
clamped.

Formulas: ``/work/shared/clinical/scores-and-models.md`` §12 and ``reference.md`` §4.1; the readings chosen
where they are ambiguous are written down in ``docs/calculators/physiology.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ecmo_core import validate
from ecmo_core.errors import InfeasibleError, InputError

#: Public calculators, exposed by the CLI as ``ecmo calc NAME`` (core-api §1).
CALCULATORS: tuple[str, ...] = (
    "oxygen_content_ml_dl",
    "oxygen_delivery_ml_min",
    "oxygen_consumption_ml_min",
    "oxygen_extraction_ratio",
    "oxygenator_o2_transfer_ml_min",
    "oxygenator_co2_removal_ml_min",
    "recirculation_fraction",
    "ecmo_fick_cardiac_output_l_min",
    "body_surface_area_m2",
    "cardiac_index_l_min_m2",
    "predicted_body_weight_kg",
    "pf_ratio_mmhg",
    "oxygenation_index",
    "driving_pressure_cmh2o",
    "static_compliance_ml_cmh2o",
    "mechanical_power_j_min",
    "so2_from_po2",
)

__all__ = [*CALCULATORS, "PlausibleRange"]


@dataclass(frozen=True, slots=True)
class PlausibleRange:
    """The accepted range of one input: ``[minimum, maximum]``, or ``(minimum, maximum]`` if
    ``min_exclusive``. A value outside is an :class:`InputError`, never clamped."""

    minimum: float
    maximum: float
    unit: str
    min_exclusive: bool = False

    def check(self, field: str, value: object) -> float:
        """Return ``value`` as a float, or raise :class:`InputError` naming ``field`` and this range."""
        return validate.number(
            field,
            value,
            minimum=self.minimum,
            maximum=self.maximum,
            min_exclusive=self.min_exclusive,
            unit=self.unit,
        )


# --- Plausibility ranges (adult). They catch unit and typing mistakes; they are not clinical targets. ---
# Provenance: ECMO Steward core team (local choice), reasoning given beside each one and in
# docs/calculators/physiology.md. A value outside is refused rather than clamped (core-api conventions).

#: Hb: profound anaemia can reach 2–3 g/dL; the most extreme polycythaemia reported stays below ~25 g/dL.
#: Zero is refused: blood without haemoglobin is not a patient value (and 0 in this field is a missing value).
HB_G_DL = PlausibleRange(0.0, 25.0, "g/dL", min_exclusive=True)
#: PO2: ≤ 800 mmHg covers post-oxygenator blood at FdO2 1.0 at sea level (PAO2 max ≈ 760 − 47 = 713 mmHg);
#: hyperbaric conditions are out of scope. PO2 0 is not a value living blood can have.
PO2_MMHG = PlausibleRange(0.0, 800.0, "mmHg", min_exclusive=True)
#: O2 content: the largest content the ranges above allow is 1.40·25 + 0.005·800 = 39 mL/dL, hence ≤ 40.
O2_CONTENT_ML_DL = PlausibleRange(0.0, 40.0, "mL/dL")
#: Arterial content must be above zero wherever it is a divisor or the reference of a difference.
ARTERIAL_O2_CONTENT_ML_DL = PlausibleRange(0.0, 40.0, "mL/dL", min_exclusive=True)
#: Hüfner-type constant: 1.306 (Gregory 1974, in vivo) to 1.39 (theoretical); 1.34, 1.36 in common use
#: (scores-and-models §12, reference.md §4.1).
HUFNER_ML_G = PlausibleRange(1.30, 1.40, "mL/g")
#: O2 solubility in blood: 0.003 (0.0031 also used) mL/dL/mmHg (reference.md §4.1); 0 excludes dissolved O2.
DISSOLVED_ML_DL_MMHG = PlausibleRange(0.0, 0.005, "mL/dL/mmHg")
#: Cardiac output: adult hyperdynamic states rarely exceed 15 L/min; 20 is a ceiling. 0 is possible
#: (arrest, or a fully unloaded heart on V-A ECMO).
CARDIAC_OUTPUT_L_MIN = PlausibleRange(0.0, 20.0, "L/min")
#: ECMO blood flow: adult oxygenators are rated to ~7–8 L/min; 10 L/min is the ceiling (core team brief).
BLOOD_FLOW_L_MIN = PlausibleRange(0.0, 10.0, "L/min")
#: The ECMO-Fick method divides the ECMO contribution out, so it needs some ECMO flow.
POSITIVE_BLOOD_FLOW_L_MIN = PlausibleRange(0.0, 10.0, "L/min", min_exclusive=True)
#: Sweep gas: adult oxygenator gas blenders/flowmeters read up to 10–15 L/min.
SWEEP_GAS_L_MIN = PlausibleRange(0.0, 15.0, "L/min")
#: Exhaust PCO2: below any plausible venous PCO2 entering the membrane (≤ 150 mmHg); 0 = no CO2 removed.
EXHAUST_PCO2_MMHG = PlausibleRange(0.0, 150.0, "mmHg")
#: Barometric pressure: 450 mmHg ≈ 4,300 m (above the highest permanent hospitals); 820 mmHg is above the
#: highest surface pressure on land (Dead Sea shore ≈ 800 mmHg). Hyperbaric chambers are out of scope.
BAROMETRIC_MMHG = PlausibleRange(450.0, 820.0, "mmHg")
#: Water vapour pressure: 47 mmHg at 37 °C; 100 mmHg (~52 °C) is above any blood or exhaust temperature.
WATER_VAPOUR_MMHG = PlausibleRange(0.0, 100.0, "mmHg")
#: Height: adult range; the 120 cm floor keeps the ARDSNet female PBW positive (45.5 + 0.91·(120 − 152.4)
#: = 16.0 kg; it reaches zero at 102.4 cm) and is below the height of adults with achondroplasia.
HEIGHT_CM = PlausibleRange(120.0, 250.0, "cm")
#: Weight: adult range, 20–350 kg.
WEIGHT_KG = PlausibleRange(20.0, 350.0, "kg")
#: BSA: the height and weight ranges above give ≈ 0.8–4.9 m² by Mosteller; 0.5–5.0 m² accepted.
BSA_M2 = PlausibleRange(0.5, 5.0, "m²")
#: FiO2: 0.21 (room air; a ventilator cannot deliver less) to 1.0. Hypoxic gas mixtures are out of scope.
FIO2_MIN = 0.21
#: Airway pressures (peak, plateau, PEEP, mean): 0–80 cmH2O covers every ventilator's pressure limit.
AIRWAY_PRESSURE_CMH2O = PlausibleRange(0.0, 80.0, "cmH2O")
#: Tidal volume: above 0 (a compliance needs a breath) to 2,000 mL (≈ 20 mL/kg PBW of a 100-kg PBW adult).
TIDAL_VOLUME_ML = PlausibleRange(0.0, 2000.0, "mL", min_exclusive=True)
TIDAL_VOLUME_L = PlausibleRange(0.0, 2.0, "L", min_exclusive=True)
#: Respiratory rate: 0 (apnoeic lung rest) to 80 /min (above any conventional adult ventilation).
RESPIRATORY_RATE_MIN = PlausibleRange(0.0, 80.0, "/min")
#: The J/(L·cmH2O) conversion: 1 cmH2O·L = 0.0980665 J; the range only catches a mistyped factor.
POWER_CONVERSION_J_L_CMH2O = PlausibleRange(0.09, 0.11, "J/(L·cmH2O)")

# --- Fixed equation coefficients (changing them makes a different, un-cited equation) ---
#: Severinghaus JW. J Appl Physiol 1979;46(3):599–602. doi:10.1152/jappl.1979.46.3.599, equation 1.
SEVERINGHAUS_A = 23400.0
SEVERINGHAUS_B = 150.0
#: Mosteller RD. N Engl J Med 1987;317:1098: BSA = √(height_cm·weight_kg/3600).
MOSTELLER_DIVISOR = 3600.0
#: DuBois D, DuBois EF. Arch Intern Med 1916;17:863: BSA = 0.007184·W^0.425·H^0.725.
DUBOIS_COEFFICIENT = 0.007184
DUBOIS_WEIGHT_EXPONENT = 0.425
DUBOIS_HEIGHT_EXPONENT = 0.725
#: ARDSNet (NEJM 2000;342:1301) predicted body weight: 50 (male) / 45.5 (female) + 0.91·(height_cm − 152.4).
PBW_BASE_KG = {"male": 50.0, "female": 45.5}
PBW_KG_PER_CM = 0.91
PBW_REFERENCE_HEIGHT_CM = 152.4

#: mL O2 per dL → per L of blood, and L → dL bookkeeping: DO2 = CO (L/min) · CaO2 (mL/dL) · 10.
DL_PER_L = 10.0
ML_PER_L = 1000.0


def _fio2(value: object) -> float:
    fio2 = validate.fraction("fio2", value)
    if fio2 < FIO2_MIN:
        raise InputError("fio2", f"{fio2:g} is outside the accepted range [{FIO2_MIN:g}, 1] (fraction)")
    return fio2


# ---------------------------------------------------------------------------------------------------------
# Oxygen content and transport
# ---------------------------------------------------------------------------------------------------------


def oxygen_content_ml_dl(
    *,
    hb_g_dl: float,
    so2: float,
    po2_mmhg: float,
    hufner_ml_g: float = 1.34,  # scores-and-models §12 / reference.md §4.1 (1.36, 1.39 also used)
    dissolved_ml_dl_mmhg: float = 0.003,  # reference.md §4.1 (0.0031 also used)
) -> float:
    """Oxygen content of blood, ``C = k·Hb·SO2 + α·PO2``.

    Parameters
    ----------
    hb_g_dl : float
        Haemoglobin, g/dL, in (0, 25].
    so2 : float
        Oxyhaemoglobin saturation as a fraction, 0–1 (not percent).
    po2_mmhg : float
        Partial pressure of O2, mmHg, in (0, 800].
    hufner_ml_g : float, default 1.34
        mL O2 bound per g Hb, in [1.30, 1.40].
    dissolved_ml_dl_mmhg : float, default 0.003
        O2 solubility, mL O2/dL/mmHg, in [0, 0.005]; 0 ignores dissolved O2.

    Returns
    -------
    float
        O2 content, mL O2 per dL blood.

    References
    ----------
    scores-and-models §12; reference.md §4.1 (Bartlett, J Intensive Care Med 2017,
    doi:10.1177/0885066616641383, for the dissolved coefficient).
    """
    hb = HB_G_DL.check("hb_g_dl", hb_g_dl)
    s = validate.fraction("so2", so2)
    po2 = PO2_MMHG.check("po2_mmhg", po2_mmhg)
    k = HUFNER_ML_G.check("hufner_ml_g", hufner_ml_g)
    alpha = DISSOLVED_ML_DL_MMHG.check("dissolved_ml_dl_mmhg", dissolved_ml_dl_mmhg)
    return k * hb * s + alpha * po2


def oxygen_delivery_ml_min(*, cardiac_output_l_min: float, cao2_ml_dl: float) -> float:
    """Systemic oxygen delivery, ``DO2 = CO·CaO2·10``.

    Parameters
    ----------
    cardiac_output_l_min : float
        Cardiac output (or total systemic flow), L/min, in [0, 20].
    cao2_ml_dl : float
        Arterial O2 content, mL/dL, in [0, 40].

    Returns
    -------
    float
        DO2, mL O2/min. Index it by dividing by BSA (DO2I, normal ≈ 500–600 mL/min/m²).

    References
    ----------
    scores-and-models §12; reference.md §4.1.
    """
    co = CARDIAC_OUTPUT_L_MIN.check("cardiac_output_l_min", cardiac_output_l_min)
    ca = O2_CONTENT_ML_DL.check("cao2_ml_dl", cao2_ml_dl)
    return co * ca * DL_PER_L


def oxygen_consumption_ml_min(*, cardiac_output_l_min: float, cao2_ml_dl: float, cvo2_ml_dl: float) -> float:
    """Oxygen consumption by the reverse Fick principle, ``VO2 = CO·(CaO2 − CvO2)·10``.

    Parameters
    ----------
    cardiac_output_l_min : float
        L/min, in [0, 20].
    cao2_ml_dl, cvo2_ml_dl : float
        Arterial and mixed-venous O2 content, mL/dL, in [0, 40].

    Returns
    -------
    float
        VO2, mL O2/min (≈ 3 mL/kg/min in an adult at rest).

    Raises
    ------
    InfeasibleError
        If the venous content exceeds the arterial content (negative consumption: the samples are probably
        swapped), ``field="cvo2_ml_dl"``.

    References
    ----------
    scores-and-models §12; reference.md §4.1.
    """
    co = CARDIAC_OUTPUT_L_MIN.check("cardiac_output_l_min", cardiac_output_l_min)
    ca = O2_CONTENT_ML_DL.check("cao2_ml_dl", cao2_ml_dl)
    cv = O2_CONTENT_ML_DL.check("cvo2_ml_dl", cvo2_ml_dl)
    if cv > ca:
        raise InfeasibleError(
            f"mixed-venous O2 content {cv:g} mL/dL exceeds arterial {ca:g} mL/dL: consumption would be "
            "negative (are the samples swapped?)",
            field="cvo2_ml_dl",
        )
    return co * (ca - cv) * DL_PER_L


def oxygen_extraction_ratio(*, cao2_ml_dl: float, cvo2_ml_dl: float) -> float:
    """Oxygen extraction ratio, ``O2ER = (CaO2 − CvO2)/CaO2``.

    Parameters
    ----------
    cao2_ml_dl : float
        Arterial O2 content, mL/dL, in (0, 40].
    cvo2_ml_dl : float
        Mixed-venous O2 content, mL/dL, in [0, 40], not above ``cao2_ml_dl``.

    Returns
    -------
    float
        Fraction 0–1 (normal ≈ 0.25).

    Raises
    ------
    InfeasibleError
        If ``cvo2_ml_dl > cao2_ml_dl`` (the ratio would be negative), ``field="cvo2_ml_dl"``.

    References
    ----------
    scores-and-models §12.
    """
    ca = ARTERIAL_O2_CONTENT_ML_DL.check("cao2_ml_dl", cao2_ml_dl)
    cv = O2_CONTENT_ML_DL.check("cvo2_ml_dl", cvo2_ml_dl)
    if cv > ca:
        raise InfeasibleError(
            f"mixed-venous O2 content {cv:g} mL/dL exceeds arterial {ca:g} mL/dL: extraction would be "
            "negative (are the samples swapped?)",
            field="cvo2_ml_dl",
        )
    return (ca - cv) / ca


# ---------------------------------------------------------------------------------------------------------
# Oxygenator (membrane lung)
# ---------------------------------------------------------------------------------------------------------


def oxygenator_o2_transfer_ml_min(
    *, blood_flow_l_min: float, post_content_ml_dl: float, pre_content_ml_dl: float
) -> float:
    """Oxygen transferred by the membrane lung (blood side), ``V'O2ML = Qb·(Cpost − Cpre)·10``.

    Parameters
    ----------
    blood_flow_l_min : float
        ECMO blood flow, L/min, in [0, 10].
    post_content_ml_dl, pre_content_ml_dl : float
        O2 content after and before the oxygenator, mL/dL, in [0, 40].

    Returns
    -------
    float
        mL O2/min, ≥ 0.

    Raises
    ------
    InfeasibleError
        If ``post_content_ml_dl < pre_content_ml_dl``: an oxygenator ventilated with oxygen does not remove
        it, so the samples are probably swapped (``field="post_content_ml_dl"``).

    References
    ----------
    scores-and-models §12; reference.md §4.1 (Epis & Belliato, J Thorac Dis 2018).
    """
    qb = BLOOD_FLOW_L_MIN.check("blood_flow_l_min", blood_flow_l_min)
    post = O2_CONTENT_ML_DL.check("post_content_ml_dl", post_content_ml_dl)
    pre = O2_CONTENT_ML_DL.check("pre_content_ml_dl", pre_content_ml_dl)
    if post < pre:
        raise InfeasibleError(
            f"post-oxygenator O2 content {post:g} mL/dL is below pre-oxygenator {pre:g} mL/dL "
            "(are the samples swapped?)",
            field="post_content_ml_dl",
        )
    return qb * (post - pre) * DL_PER_L


def oxygenator_co2_removal_ml_min(
    *,
    sweep_gas_l_min: float,
    exhaust_pco2_mmhg: float,
    barometric_mmhg: float = 760.0,  # standard sea-level pressure
    saturated_exhaust: bool = True,
    water_vapour_mmhg: float = 47.0,  # saturated water vapour pressure at 37 °C (scores-and-models §12)
) -> float:
    """CO2 removed by the membrane lung (gas side), ``V'CO2ML = V'sweep·FeCO2``.

    ``FeCO2 = PeCO2/(Pb − PH2O)`` if the exhaust gas is treated as saturated with water vapour at 37 °C
    (``saturated_exhaust=True``, the default), else ``PeCO2/Pb`` (dry gas, e.g. a capnometer sampling
    through a water trap that reports a dry-gas fraction).

    Parameters
    ----------
    sweep_gas_l_min : float
        Sweep gas flow as set on the flowmeter, L/min, in [0, 15].
    exhaust_pco2_mmhg : float
        PCO2 at the oxygenator exhaust, mmHg, in [0, 150].
    barometric_mmhg : float, default 760
        Barometric pressure, mmHg, in [450, 820].
    saturated_exhaust : bool, default True
        Whether the exhaust PCO2 is a partial pressure in gas saturated with water vapour.
    water_vapour_mmhg : float, default 47
        Water vapour pressure, mmHg, in [0, 100]; used only if ``saturated_exhaust``.

    Returns
    -------
    float
        mL CO2/min at the conditions of the sweep flowmeter (no STPD correction).

    References
    ----------
    scores-and-models §12; reference.md §4.1 (Bioengineering 2021;8:33 for exhaust-gas measurement).
    """
    sweep = SWEEP_GAS_L_MIN.check("sweep_gas_l_min", sweep_gas_l_min)
    peco2 = EXHAUST_PCO2_MMHG.check("exhaust_pco2_mmhg", exhaust_pco2_mmhg)
    pb = BAROMETRIC_MMHG.check("barometric_mmhg", barometric_mmhg)
    saturated = validate.boolean("saturated_exhaust", saturated_exhaust)
    ph2o = WATER_VAPOUR_MMHG.check("water_vapour_mmhg", water_vapour_mmhg)
    # Pb − PH2O ≥ 450 − 100 = 350 mmHg > the 150 mmHg PeCO2 ceiling, so FeCO2 stays below 1.
    dry_pressure = pb - ph2o if saturated else pb
    return sweep * ML_PER_L * peco2 / dry_pressure


def recirculation_fraction(
    *, pre_oxygenator_so2: float, post_oxygenator_so2: float, mixed_venous_so2: float
) -> float:
    """VV recirculation fraction, ``R = (Spre − Sv)/(Spost − Sv)``.

    Parameters
    ----------
    pre_oxygenator_so2 : float
        Drainage-line (pre-oxygenator) saturation, fraction 0–1.
    post_oxygenator_so2 : float
        Return-line (post-oxygenator) saturation, fraction 0–1.
    mixed_venous_so2 : float
        True mixed-venous saturation (not sampleable on VV ECMO; a central venous sample is only a proxy),
        fraction 0–1.

    Returns
    -------
    float
        R, fraction 0–1. Effective flow is ``Qb·(1 − R)``.

    Raises
    ------
    InfeasibleError
        The drainage blood is a mixture of venous and returned blood, so Sv ≤ Spre ≤ Spost must hold:
        ``post_oxygenator_so2 ≤ mixed_venous_so2`` (R undefined, the oxygenator adds no oxygen;
        ``field="post_oxygenator_so2"``); ``pre_oxygenator_so2 < mixed_venous_so2`` (R < 0) or
        ``pre_oxygenator_so2 > post_oxygenator_so2`` (R > 1) (``field="pre_oxygenator_so2"``).

    References
    ----------
    scores-and-models §12; reference.md §2.6; Walker JL et al., Perfusion 2009;24:333–9 (without their
    empirical dissolved-O2 corrections).
    """
    pre = validate.fraction("pre_oxygenator_so2", pre_oxygenator_so2)
    post = validate.fraction("post_oxygenator_so2", post_oxygenator_so2)
    sv = validate.fraction("mixed_venous_so2", mixed_venous_so2)
    if post <= sv:
        raise InfeasibleError(
            f"post-oxygenator SO2 {post:g} is not above mixed-venous SO2 {sv:g}: the oxygenator adds no "
            "oxygen, so recirculation cannot be computed",
            field="post_oxygenator_so2",
        )
    if pre < sv:
        raise InfeasibleError(
            f"pre-oxygenator SO2 {pre:g} is below mixed-venous SO2 {sv:g} (R would be negative): drainage "
            "blood cannot be less saturated than the venous blood it comes from; check mixed-venous SO2",
            field="pre_oxygenator_so2",
        )
    if pre > post:
        raise InfeasibleError(
            f"pre-oxygenator SO2 {pre:g} is above post-oxygenator SO2 {post:g} (R would exceed 1): are the "
            "samples swapped?",
            field="pre_oxygenator_so2",
        )
    return (pre - sv) / (post - sv)


def ecmo_fick_cardiac_output_l_min(
    *, blood_flow_l_min: float, post_content_ml_dl: float, cao2_ml_dl: float, cvo2_ml_dl: float
) -> float:
    """Cardiac output on VV ECMO by an oxygen mass balance, ``CO = Qb·(Cpost − Cv)/(Ca − Cv)``.

    Assumes negligible native-lung O2 uptake and no recirculation, so that arterial blood is the
    flow-weighted mix of ECMO return and venous blood.

    Parameters
    ----------
    blood_flow_l_min : float
        ECMO blood flow, L/min, in (0, 10].
    post_content_ml_dl : float
        Post-oxygenator O2 content, mL/dL, in [0, 40].
    cao2_ml_dl : float
        Arterial O2 content, mL/dL, in (0, 40].
    cvo2_ml_dl : float
        Mixed-venous O2 content, mL/dL, in [0, 40].

    Returns
    -------
    float
        Cardiac output, L/min, ≥ ``blood_flow_l_min``.

    Raises
    ------
    InfeasibleError
        If ``cao2 ≤ cvo2`` (no arteriovenous difference: ``field="cvo2_ml_dl"``), or ``cao2 > post`` (the
        native lung must be adding O2, which the method assumes away: ``field="post_content_ml_dl"``).

    References
    ----------
    scores-and-models §12.
    """
    qb = POSITIVE_BLOOD_FLOW_L_MIN.check("blood_flow_l_min", blood_flow_l_min)
    post = O2_CONTENT_ML_DL.check("post_content_ml_dl", post_content_ml_dl)
    ca = ARTERIAL_O2_CONTENT_ML_DL.check("cao2_ml_dl", cao2_ml_dl)
    cv = O2_CONTENT_ML_DL.check("cvo2_ml_dl", cvo2_ml_dl)
    if ca <= cv:
        raise InfeasibleError(
            f"arterial O2 content {ca:g} mL/dL is not above mixed-venous {cv:g} mL/dL: no arteriovenous "
            "difference to divide by",
            field="cvo2_ml_dl",
        )
    if ca > post:
        raise InfeasibleError(
            f"arterial O2 content {ca:g} mL/dL exceeds post-oxygenator {post:g} mL/dL: the native lung is "
            "adding oxygen, which the ECMO-Fick method assumes away",
            field="post_content_ml_dl",
        )
    return qb * (post - cv) / (ca - cv)


# ---------------------------------------------------------------------------------------------------------
# Body size
# ---------------------------------------------------------------------------------------------------------


def body_surface_area_m2(*, height_cm: float, weight_kg: float, method: str = "mosteller") -> float:
    """Body surface area.

    ``mosteller``: ``√(H·W/3600)``; ``dubois``: ``0.007184·W^0.425·H^0.725`` (H cm, W kg).

    Parameters
    ----------
    height_cm : float
        Height, cm, in [120, 250].
    weight_kg : float
        Actual body weight, kg, in [20, 350].
    method : {"mosteller", "dubois"}, default "mosteller"

    Returns
    -------
    float
        BSA, m².

    References
    ----------
    Mosteller RD, N Engl J Med 1987;317:1098; DuBois D, DuBois EF, Arch Intern Med 1916;17:863
    (reference.md §4.1; scores-and-models §12).
    """
    height = HEIGHT_CM.check("height_cm", height_cm)
    weight = WEIGHT_KG.check("weight_kg", weight_kg)
    chosen = validate.choice("method", method, ("mosteller", "dubois"))
    if chosen == "mosteller":
        return math.sqrt(height * weight / MOSTELLER_DIVISOR)
    return (
        DUBOIS_COEFFICIENT
        * math.pow(weight, DUBOIS_WEIGHT_EXPONENT)
        * math.pow(height, DUBOIS_HEIGHT_EXPONENT)
    )


def cardiac_index_l_min_m2(*, cardiac_output_l_min: float, bsa_m2: float) -> float:
    """Cardiac index, ``CI = CO/BSA``.

    Parameters
    ----------
    cardiac_output_l_min : float
        L/min, in [0, 20]. On V-A ECMO pass the total systemic flow if that is what is meant.
    bsa_m2 : float
        Body surface area, m², in [0.5, 5.0].

    Returns
    -------
    float
        L/min/m² (V-A flow goal ≈ 2.2–2.5, reference.md §4.3).
    """
    co = CARDIAC_OUTPUT_L_MIN.check("cardiac_output_l_min", cardiac_output_l_min)
    bsa = BSA_M2.check("bsa_m2", bsa_m2)
    return co / bsa


def predicted_body_weight_kg(*, sex: str, height_cm: float) -> float:
    """ARDSNet predicted body weight: male ``50 + 0.91·(H − 152.4)``, female ``45.5 + 0.91·(H − 152.4)``.

    Parameters
    ----------
    sex : {"male", "female"}
        Sex used by the ARDSNet formula.
    height_cm : float
        Height, cm, in [120, 250].

    Returns
    -------
    float
        PBW, kg (tidal volumes are set per kg PBW).

    References
    ----------
    ARDS Network, N Engl J Med 2000;342:1301–8 (Devine form; scores-and-models §12).
    """
    chosen = validate.choice("sex", sex, ("male", "female"))
    height = HEIGHT_CM.check("height_cm", height_cm)
    return PBW_BASE_KG[chosen] + PBW_KG_PER_CM * (height - PBW_REFERENCE_HEIGHT_CM)


# ---------------------------------------------------------------------------------------------------------
# Gas exchange and ventilator mechanics
# ---------------------------------------------------------------------------------------------------------


def pf_ratio_mmhg(*, pao2_mmhg: float, fio2: float) -> float:
    """PaO2/FiO2 ratio.

    Parameters
    ----------
    pao2_mmhg : float
        Arterial PO2, mmHg, in (0, 800].
    fio2 : float
        Inspired O2 as a fraction, in [0.21, 1] (a percentage is refused: scores-and-models §15 pitfall 6).

    Returns
    -------
    float
        mmHg.
    """
    pao2 = PO2_MMHG.check("pao2_mmhg", pao2_mmhg)
    fio2_value = _fio2(fio2)
    return pao2 / fio2_value


def oxygenation_index(*, fio2: float, mean_airway_pressure_cmh2o: float, pao2_mmhg: float) -> float:
    """Oxygenation index, ``OI = FiO2·mPaw·100/PaO2`` (FiO2 as a fraction, hence the ×100).

    Parameters
    ----------
    fio2 : float
        Fraction, in [0.21, 1].
    mean_airway_pressure_cmh2o : float
        cmH2O, in [0, 80].
    pao2_mmhg : float
        mmHg, in (0, 800].

    Returns
    -------
    float
        Dimensionless (cmH2O/mmHg·100).
    """
    fio2_value = _fio2(fio2)
    mpaw = AIRWAY_PRESSURE_CMH2O.check("mean_airway_pressure_cmh2o", mean_airway_pressure_cmh2o)
    pao2 = PO2_MMHG.check("pao2_mmhg", pao2_mmhg)
    return fio2_value * mpaw * 100.0 / pao2


def _plateau_and_peep(plateau_cmh2o: object, peep_cmh2o: object) -> tuple[float, float]:
    plateau = AIRWAY_PRESSURE_CMH2O.check("plateau_cmh2o", plateau_cmh2o)
    peep = AIRWAY_PRESSURE_CMH2O.check("peep_cmh2o", peep_cmh2o)
    if plateau < peep:
        raise InfeasibleError(
            f"plateau pressure {plateau:g} cmH2O is below PEEP {peep:g} cmH2O", field="plateau_cmh2o"
        )
    return plateau, peep


def driving_pressure_cmh2o(*, plateau_cmh2o: float, peep_cmh2o: float) -> float:
    """Driving pressure, ``ΔP = Pplat − PEEP``.

    Parameters
    ----------
    plateau_cmh2o, peep_cmh2o : float
        cmH2O, in [0, 80]; the plateau may not be below PEEP.

    Returns
    -------
    float
        cmH2O, ≥ 0.

    Raises
    ------
    InfeasibleError
        If the plateau is below PEEP (``field="plateau_cmh2o"``).
    """
    plateau, peep = _plateau_and_peep(plateau_cmh2o, peep_cmh2o)
    return plateau - peep


def static_compliance_ml_cmh2o(*, tidal_volume_ml: float, plateau_cmh2o: float, peep_cmh2o: float) -> float:
    """Static compliance of the respiratory system, ``Crs = VT/(Pplat − PEEP)``.

    Parameters
    ----------
    tidal_volume_ml : float
        mL, in (0, 2000].
    plateau_cmh2o, peep_cmh2o : float
        cmH2O, in [0, 80]; the plateau must be above PEEP.

    Returns
    -------
    float
        mL/cmH2O.

    Raises
    ------
    InfeasibleError
        If the plateau is not above PEEP (no driving pressure to divide by; ``field="plateau_cmh2o"``).
    """
    vt = TIDAL_VOLUME_ML.check("tidal_volume_ml", tidal_volume_ml)
    plateau, peep = _plateau_and_peep(plateau_cmh2o, peep_cmh2o)
    if plateau == peep:
        raise InfeasibleError(
            f"plateau pressure equals PEEP ({peep:g} cmH2O): a tidal volume without driving pressure",
            field="plateau_cmh2o",
        )
    return vt / (plateau - peep)


def mechanical_power_j_min(
    *,
    respiratory_rate_min: float,
    tidal_volume_l: float,
    peak_cmh2o: float,
    plateau_cmh2o: float,
    peep_cmh2o: float,
    conversion_j_per_l_cmh2o: float = 0.098,  # 1 L·cmH2O = 0.0980665 J, rounded as by Gattinoni 2016
) -> float:
    """Simplified mechanical power (volume control): ``MP = 0.098·RR·VT·(Ppeak − ΔP/2)``, ΔP = Pplat − PEEP.

    This is the surrogate written in scores-and-models §12 ("Gattinoni surrogate"), not the comprehensive
    equation (which needs elastance, resistance and I:E) and not the Giosa 2019 surrogate.

    Parameters
    ----------
    respiratory_rate_min : float
        Breaths/min, in [0, 80].
    tidal_volume_l : float
        Litres (not mL), in (0, 2].
    peak_cmh2o, plateau_cmh2o, peep_cmh2o : float
        cmH2O, in [0, 80], with PEEP ≤ plateau ≤ peak.
    conversion_j_per_l_cmh2o : float, default 0.098
        J per L·cmH2O, in [0.09, 0.11].

    Returns
    -------
    float
        J/min.

    Raises
    ------
    InfeasibleError
        If the plateau is below PEEP or the peak is below the plateau (``field`` names the lower pressure
        that should be higher: ``plateau_cmh2o`` or ``peak_cmh2o``).

    References
    ----------
    Gattinoni L et al. Ventilator-related causes of lung injury: the mechanical power. Intensive Care Med
    2016;42:1567–75. doi:10.1007/s00134-016-4505-2 (concept and 0.098 factor); surrogate as given in
    scores-and-models §12.
    """
    rr = RESPIRATORY_RATE_MIN.check("respiratory_rate_min", respiratory_rate_min)
    vt = TIDAL_VOLUME_L.check("tidal_volume_l", tidal_volume_l)
    peak = AIRWAY_PRESSURE_CMH2O.check("peak_cmh2o", peak_cmh2o)
    plateau, peep = _plateau_and_peep(plateau_cmh2o, peep_cmh2o)
    factor = POWER_CONVERSION_J_L_CMH2O.check("conversion_j_per_l_cmh2o", conversion_j_per_l_cmh2o)
    if peak < plateau:
        raise InfeasibleError(
            f"peak pressure {peak:g} cmH2O is below plateau {plateau:g} cmH2O", field="peak_cmh2o"
        )
    driving = plateau - peep
    return factor * rr * vt * (peak - driving / 2.0)


def so2_from_po2(*, po2_mmhg: float) -> float:
    """Oxyhaemoglobin saturation from PO2 on the standard dissociation curve (Severinghaus 1979, eq. 1):
    ``SO2 = 1/(23400/(PO2³ + 150·PO2) + 1)``.

    Standard conditions: pH 7.40, 37 °C, PCO2 40 mmHg, P50 ≈ 26.8 mmHg; fits the standard curve within
    ±0.0055 saturation. No correction for temperature, pH, 2,3-DPG or abnormal haemoglobins.

    Parameters
    ----------
    po2_mmhg : float
        mmHg, in (0, 800].

    Returns
    -------
    float
        Saturation, fraction strictly between 0 and 1.

    References
    ----------
    Severinghaus JW. Simple, accurate equations for human blood O2 dissociation computations.
    J Appl Physiol 1979;46(3):599–602. doi:10.1152/jappl.1979.46.3.599.
    """
    po2 = PO2_MMHG.check("po2_mmhg", po2_mmhg)
    return 1.0 / (SEVERINGHAUS_A / (po2**3 + SEVERINGHAUS_B * po2) + 1.0)
