"""Oxygenation models for VV and VA ECMO.

VV: a steady-state oxygen mass balance with recirculation and a native-lung shunt (scores-and-models
§13.1–13.2, the structure of Spinelli & Bartlett 2014 and Zanella et al. 2016), its exact inverse (the ECMO
blood flow needed for a target arterial saturation), and VA: flow-weighted mixing and the watershed model of
differential hypoxia (§14).

All saturations are fractions 0–1. By default dissolved oxygen is ignored (the models follow Spinelli &
Bartlett and Zanella), so contents are proportional to saturations at a given haemoglobin. The VV models take
an optional ``post_oxygenator_po2_mmhg``: then the O2 dissolved in the ECMO return (α·PO2, 1.2–1.5 mL/dL at
400–500 mmHg) is added to the balance as Hb-equivalent saturation, as Messai 2016 does; None keeps the
results of the models without it unchanged. Inputs are validated against the
plausibility ranges of :mod:`ecmo_core.physiology`; physiologically impossible combinations raise
:class:`~ecmo_core.errors.InfeasibleError`. The readings chosen where the sources are silent are written
down in ``docs/calculators/oxygenation-models.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecmo_core import validate
from ecmo_core.errors import InfeasibleError
from ecmo_core.physiology import (
    BLOOD_FLOW_L_MIN,
    CARDIAC_OUTPUT_L_MIN,
    DISSOLVED_ML_DL_MMHG,
    DL_PER_L,
    HB_G_DL,
    HUFNER_ML_G,
    PO2_MMHG,
    PlausibleRange,
)

#: Public calculators, exposed by the CLI as ``ecmo calc NAME`` (core-api §2).
CALCULATORS: tuple[str, ...] = (
    "vv_steady_state",
    "vv_required_blood_flow",
    "va_mixed_so2",
    "va_upper_body_so2",
)

__all__ = [*CALCULATORS, "RequiredFlow", "VVState"]

#: VO2: an adult at rest consumes ≈ 3 mL/kg/min (≈ 250 mL/min, reference.md §4.1); fever, sepsis and
#: shivering raise it, rarely beyond 600. 1,000 mL/min is a plausibility ceiling (local choice). Zero is
#: refused: a patient consumes oxygen.
VO2_ML_MIN = PlausibleRange(0.0, 1000.0, "mL/min", min_exclusive=True)
#: The VV model divides by the cardiac output, so it must be above zero.
POSITIVE_CARDIAC_OUTPUT_L_MIN = PlausibleRange(0.0, 20.0, "L/min", min_exclusive=True)
#: Upper-body (coronary + aortic-arch) flow in the watershed model: above 0, at most a cardiac output.
UPPER_BODY_FLOW_L_MIN = PlausibleRange(0.0, 20.0, "L/min", min_exclusive=True)

#: Floating-point slack when comparing an effective flow with the cardiac output (a flow returned by
#: ``vv_required_blood_flow`` at effective flow = CO must be accepted by ``vv_steady_state``). It is
#: rounding, not a clinical tolerance.
_ROUNDING_REL_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class VVState:
    """Steady state of the VV model. Saturations are fractions 0–1; flows L/min; DO2 and transfer mL/min.

    ``ecmo_to_cardiac_output_ratio`` is ECMO *blood* flow over cardiac output (as in Schmidt 2013, where
    > 0.6 went with SaO2 > 0.90); with recirculation it can exceed 1. ``pre_oxygenator_so2`` is the drainage
    saturation the model predicts, ``R·Spost + (1 − R)·Sv``. ``oxygenator_o2_transfer_ml_min`` is the net O2
    the membrane adds (it equals VO2 when there is no native lung function; it is negative if the oxygenator
    returns blood less saturated than it receives).
    """

    arterial_so2: float
    mixed_venous_so2: float
    pulmonary_artery_so2: float
    effective_flow_l_min: float
    ecmo_to_cardiac_output_ratio: float
    do2_ml_min: float
    pre_oxygenator_so2: float
    oxygenator_o2_transfer_ml_min: float


@dataclass(frozen=True, slots=True)
class RequiredFlow:
    """ECMO flow needed for a target arterial saturation in the VV model.

    ``arterial_so2`` is what the model gives at that flow: equal to the target, or above it when the native
    lung alone already reaches the target (then both flows are 0).
    """

    effective_flow_l_min: float
    ecmo_blood_flow_l_min: float
    arterial_so2: float
    ecmo_to_cardiac_output_ratio: float


@dataclass(frozen=True, slots=True)
class _VVModel:
    """Validated VV inputs, in saturation units: ``v`` is the arteriovenous saturation difference
    VO2/(Q·cap) that Fick requires."""

    vo2_ml_min: float
    capacity_ml_l: float  # O2 carried by 1 L of fully saturated blood: k·Hb·10
    cardiac_output_l_min: float
    recirculation: float
    shunt: float
    end_capillary_so2: float
    # Post-oxygenator O2 content over cap: the saturation plus the dissolved O2 expressed as Hb-equivalent
    # saturation (α·PO2 / (k·Hb)); it can exceed 1. Equal to the saturation when the PO2 is not given.
    post_oxygenator_so2: float

    @property
    def v(self) -> float:
        return self.vo2_ml_min / (self.cardiac_output_l_min * self.capacity_ml_l)


def _vv_model(
    *,
    vo2_ml_min: object,
    hb_g_dl: object,
    cardiac_output_l_min: object,
    recirculation_fraction: object,
    shunt_fraction: object,
    end_capillary_so2: object,
    post_oxygenator_so2: object,
    hufner_ml_g: object,
    post_oxygenator_po2_mmhg: object,
    dissolved_ml_dl_mmhg: object,
) -> _VVModel:
    vo2 = VO2_ML_MIN.check("vo2_ml_min", vo2_ml_min)
    hb = HB_G_DL.check("hb_g_dl", hb_g_dl)
    q = POSITIVE_CARDIAC_OUTPUT_L_MIN.check("cardiac_output_l_min", cardiac_output_l_min)
    r = validate.fraction("recirculation_fraction", recirculation_fraction)
    s = validate.fraction("shunt_fraction", shunt_fraction)
    sc = validate.fraction("end_capillary_so2", end_capillary_so2)
    sp = validate.fraction("post_oxygenator_so2", post_oxygenator_so2)
    k = HUFNER_ML_G.check("hufner_ml_g", hufner_ml_g)
    alpha = DISSOLVED_ML_DL_MMHG.check("dissolved_ml_dl_mmhg", dissolved_ml_dl_mmhg)
    if post_oxygenator_po2_mmhg is not None:
        po2 = PO2_MMHG.check("post_oxygenator_po2_mmhg", post_oxygenator_po2_mmhg)
        # mL/dL dissolved over mL/dL carried by fully saturated Hb: the same units as a saturation.
        sp = sp + alpha * po2 / (k * hb)
    return _VVModel(vo2, k * hb * DL_PER_L, q, r, s, sc, sp)


def _vv_state(m: _VVModel, f: float, ecmo_blood_flow_l_min: float) -> VVState:
    """Solve the mass balance at ``f`` = effective flow / cardiac output (0 ≤ f ≤ 1)."""
    s, sc, sp, v = m.shunt, m.end_capillary_so2, m.post_oxygenator_so2, m.v
    # Cv = [(1 − s)·Cc' + s·f·Cp − VO2/Q] / [1 − s·(1 − f)]  (scores-and-models §13.2, in saturation units)
    denominator = 1.0 - s * (1.0 - f)
    if denominator <= 0.0:  # s == 1 and f == 0: neither lung nor membrane takes up oxygen
        raise InfeasibleError(
            "no oxygen uptake: the shunt fraction is 1 (no native-lung gas exchange) and there is no "
            "effective ECMO flow, so no steady state meets the oxygen consumption",
            field="ecmo_blood_flow_l_min",
        )
    sv = ((1.0 - s) * sc + s * f * sp - v) / denominator
    if sv < 0.0:
        raise InfeasibleError(
            f"the computed mixed-venous saturation is {sv:.3f} (below zero): oxygen delivery cannot meet a "
            f"VO2 of {m.vo2_ml_min:g} mL/min with these settings (raise flow, Hb or cardiac output, or check "
            "VO2)",
        )
    # Sa, Spa and Spre are weighted means of saturations ≤ 1, so ≤ 1 in exact arithmetic unless the return
    # carries dissolved O2 (Spost' > 1); min() caps the Hb at full saturation (the excess stays dissolved)
    # and otherwise only removes a last-bit rounding excess.
    sa = min(sv + v, 1.0)
    spa = min((1.0 - f) * sv + f * sp, 1.0)
    r = m.recirculation
    spre = min(r * sp + (1.0 - r) * sv, 1.0)
    q = m.cardiac_output_l_min
    effective = f * q
    return VVState(
        arterial_so2=sa,
        mixed_venous_so2=sv,
        pulmonary_artery_so2=spa,
        effective_flow_l_min=effective,
        ecmo_to_cardiac_output_ratio=ecmo_blood_flow_l_min / q,
        do2_ml_min=q * sa * m.capacity_ml_l,
        pre_oxygenator_so2=spre,
        oxygenator_o2_transfer_ml_min=effective * (sp - sv) * m.capacity_ml_l,
    )


def vv_steady_state(
    *,
    vo2_ml_min: float,
    hb_g_dl: float,
    cardiac_output_l_min: float,
    ecmo_blood_flow_l_min: float,
    recirculation_fraction: float = 0.0,
    shunt_fraction: float = 1.0,
    end_capillary_so2: float = 1.0,
    post_oxygenator_so2: float = 1.0,
    hufner_ml_g: float = 1.34,  # scores-and-models §12/§13 (reference values use 1.34)
    post_oxygenator_po2_mmhg: float | None = None,
    dissolved_ml_dl_mmhg: float = 0.003,  # reference.md §4.1 (0.0031 also used)
) -> VVState:
    """Steady-state oxygenation on VV ECMO (O2 mass balance with recirculation and native-lung shunt).

    With ``cap = k·Hb·10`` (mL O2/L at full saturation), ``Qeff = Qb·(1 − R)``, ``f = Qeff/Q`` and
    ``v = VO2/(Q·cap)``::

        Sv  = [(1 − s)·Sc' + s·f·Spost − v] / [1 − s·(1 − f)]
        Sa  = Sv + v                       (Fick)
        Spa = (1 − f)·Sv + f·Spost         (pulmonary artery: venous blood mixed with effective return)

    With ``s = 1`` (the default: no native-lung gas exchange) and ``Spost = 1`` this is the closed form
    ``Sa = 1 − (VO2/cap)·(1/Qeff − 1/Q)`` of scores-and-models §13.1.

    Parameters
    ----------
    vo2_ml_min : float
        Whole-body O2 consumption, mL/min, in (0, 1000].
    hb_g_dl : float
        Haemoglobin, g/dL, in (0, 25].
    cardiac_output_l_min : float
        Native cardiac output, L/min, in (0, 20].
    ecmo_blood_flow_l_min : float
        ECMO pump flow, L/min, in [0, 10].
    recirculation_fraction : float, default 0
        R, fraction 0–1 of the pump flow that is returned blood drained again.
    shunt_fraction : float, default 1
        s, fraction 0–1 of pulmonary blood flow that does not exchange gas (1 = no lung function).
    end_capillary_so2 : float, default 1
        Saturation of blood leaving ventilated alveoli, fraction 0–1.
    post_oxygenator_so2 : float, default 1
        Saturation of the ECMO return, fraction 0–1.
    hufner_ml_g : float, default 1.34
        mL O2/g Hb, in [1.30, 1.40].
    post_oxygenator_po2_mmhg : float or None, default None
        PO2 of the ECMO return, mmHg, in (0, 800]. When given, the O2 dissolved in it (``α·PO2`` mL/dL) is
        added to the return's content as Hb-equivalent saturation ``α·PO2/(k·Hb)``, so ``Spost`` in the
        equations becomes ``Spost + α·PO2/(k·Hb)`` (it may exceed 1; the mixtures it feeds are capped at a
        saturation of 1). None (the default) leaves the results unchanged. Without the term the model
        predicts an arterial saturation 7–11 points lower than observed near Qb/CO 0.6 (Schmidt 2013).
    dissolved_ml_dl_mmhg : float, default 0.003
        α, O2 solubility in blood, mL/dL/mmHg, in [0, 0.005]; used only with ``post_oxygenator_po2_mmhg``.

    Returns
    -------
    VVState

    Raises
    ------
    InputError
        An input is outside its range (``field`` names it).
    InfeasibleError
        The effective flow ``Qb·(1 − R)`` exceeds the cardiac output (``field="ecmo_blood_flow_l_min"``:
        more blood cannot pass through the oxygenator once than returns to the right heart; the excess
        would be recirculation); no oxygen uptake at all (``s = 1`` and no effective flow); or the computed
        mixed-venous saturation is below zero (delivery cannot meet VO2; ``field`` is None because no
        single input is at fault).

    References
    ----------
    Spinelli E, Bartlett RH. ASAIO J 2014;60(6):688–93. doi:10.1097/MAT.0000000000000125.
    Zanella A et al. J Crit Care 2016;36:178–86. Equations as written in scores-and-models §13.1–13.2
    (the shunt generalisation is derived there from the same mass balance). The dissolved term: Messai E
    et al. J Clin Monit Comput 2016;30:327–32 (includes the return's dissolved O2); Schmidt M et al. Crit Care Med 2013 (observed
    SaO2 against Qb/CO).
    """
    m = _vv_model(
        vo2_ml_min=vo2_ml_min,
        hb_g_dl=hb_g_dl,
        cardiac_output_l_min=cardiac_output_l_min,
        recirculation_fraction=recirculation_fraction,
        shunt_fraction=shunt_fraction,
        end_capillary_so2=end_capillary_so2,
        post_oxygenator_so2=post_oxygenator_so2,
        hufner_ml_g=hufner_ml_g,
        post_oxygenator_po2_mmhg=post_oxygenator_po2_mmhg,
        dissolved_ml_dl_mmhg=dissolved_ml_dl_mmhg,
    )
    ecbf = BLOOD_FLOW_L_MIN.check("ecmo_blood_flow_l_min", ecmo_blood_flow_l_min)
    effective = ecbf * (1.0 - m.recirculation)
    q = m.cardiac_output_l_min
    if effective > q * (1.0 + _ROUNDING_REL_TOL):
        raise InfeasibleError(
            f"effective ECMO flow {effective:g} L/min (blood flow {ecbf:g} × (1 − R {m.recirculation:g})) "
            f"exceeds the cardiac output {q:g} L/min: the excess would be recirculation, so R is too low "
            "or the cardiac output too low",
            field="ecmo_blood_flow_l_min",
        )
    return _vv_state(m, min(effective / q, 1.0), ecbf)


def _zero_flow_arterial_so2(m: _VVModel) -> float | None:
    """Arterial saturation with no ECMO flow, or None if that state does not exist."""
    s = m.shunt
    if s == 1.0:
        return None
    sv = ((1.0 - s) * m.end_capillary_so2 - m.v) / (1.0 - s)
    if sv < 0.0:
        return None
    return sv + m.v


def _required_flow_fraction(m: _VVModel, target: float) -> float:
    """Smallest f = Qeff/Q in [0, 1] whose state is feasible with Sa ≥ target; Sa = target unless f = 0."""
    s, sc, sp, v = m.shunt, m.end_capillary_so2, m.post_oxygenator_so2, m.v
    at_zero = _zero_flow_arterial_so2(m)
    if at_zero is not None and at_zero >= target:
        return 0.0
    # Sa(f) is a linear-fractional function of f whose derivative has the sign of s·D, with
    # D = (1 − s)·(Spost − Sc') + v. If s·D ≤ 0, flow cannot raise Sa (no shunt to bypass, or a membrane
    # returning blood less saturated than the lung does).
    slope_sign = s * ((1.0 - s) * (sp - sc) + v)
    if slope_sign <= 0.0:
        without = "no feasible state" if at_zero is None else f"arterial SO2 {at_zero:.3f}"
        raise InfeasibleError(
            f"more ECMO flow cannot raise arterial SO2 here (shunt fraction {s:g}, post-oxygenator SO2 "
            f"{sp:g}, end-capillary SO2 {sc:g}); without ECMO flow the model gives {without}, short of the "
            f"target {target:g}",
            field="target_arterial_so2",
        )
    if target <= v:
        raise InfeasibleError(
            f"a target arterial SO2 of {target:g} would need a mixed-venous saturation of {target - v:.3f} "
            f"(Fick: Sa − Sv = VO2/(Q·cap) = {v:.3f}); no steady state has it",
            field="target_arterial_so2",
        )
    at_full = (1.0 - s) * sc + s * sp  # all venous return passes the oxygenator once: Qeff = Q
    if at_full < target:
        raise InfeasibleError(
            f"the target arterial SO2 {target:g} is unreachable: with an effective ECMO flow equal to the "
            f"cardiac output the model gives {at_full:.3f}",
            field="target_arterial_so2",
        )
    w = target - v  # the mixed-venous saturation at the target (Fick)
    # Solve Sv(f) = w for f (closed form; the denominator is positive because D > 0 ⇒ Spost > Sv(1) ≥ w).
    f = (v - (1.0 - s) * (sc - w)) / (s * (sp - w))
    # Rounding only: Sa(1) ≥ target ⇒ f ≤ 1 exactly, and Sa(0) < target ⇒ f > 0 exactly; with a vanishing shunt
    # fraction the two sides can differ by an ulp and the quotient cancels catastrophically (hypothesis found
    # shunt 3e-117 with the target equal to Sc'), so keep f in [0, 1].
    return min(max(f, 0.0), 1.0)


def vv_required_blood_flow(
    *,
    target_arterial_so2: float,
    vo2_ml_min: float,
    hb_g_dl: float,
    cardiac_output_l_min: float,
    recirculation_fraction: float = 0.0,
    shunt_fraction: float = 1.0,
    end_capillary_so2: float = 1.0,
    post_oxygenator_so2: float = 1.0,
    hufner_ml_g: float = 1.34,  # scores-and-models §12/§13
    post_oxygenator_po2_mmhg: float | None = None,
    dissolved_ml_dl_mmhg: float = 0.003,  # reference.md §4.1 (0.0031 also used)
) -> RequiredFlow:
    """ECMO blood flow at which the VV model of :func:`vv_steady_state` gives the target arterial SO2.

    Exact closed-form inverse of the mass balance (no iteration): with ``w = target − v`` the mixed-venous
    saturation at the target, ``f = Qeff/Q = [v − (1 − s)·(Sc' − w)] / [s·(Spost − w)]``, then
    ``Qb = Qeff/(1 − R)``. With ``s = 1`` and ``Spost = 1`` this is ``1/Qeff = 1/Q + (1 − Sa*)·cap/VO2``
    (scores-and-models §13.1). If the native lung alone already gives at least the target, the answer is
    zero flow. The result is the smallest flow that reaches the target.

    Parameters
    ----------
    target_arterial_so2 : float
        Target SaO2, fraction in (0, 1].
    vo2_ml_min, hb_g_dl, cardiac_output_l_min, recirculation_fraction, shunt_fraction, end_capillary_so2,
    post_oxygenator_so2, hufner_ml_g, post_oxygenator_po2_mmhg, dissolved_ml_dl_mmhg
        As in :func:`vv_steady_state` (None for the PO2 keeps the results without dissolved O2).

    Returns
    -------
    RequiredFlow

    Raises
    ------
    InputError
        An input is outside its range.
    InfeasibleError
        (``field="target_arterial_so2"``) no flow with an effective flow up to the cardiac output reaches the
        target; more flow cannot raise SaO2 and the native lung does not reach the target; or the target
        would need a mixed-venous saturation ≤ 0. (``field="ecmo_blood_flow_l_min"``) the needed pump flow
        ``Qeff/(1 − R)`` exceeds the 10 L/min ceiling (``BLOOD_FLOW_L_MIN``), including R = 1.

    References
    ----------
    As :func:`vv_steady_state`; inverse derived from scores-and-models §13.1–13.2.
    """
    target = validate.fraction("target_arterial_so2", target_arterial_so2, allow_zero=False)
    m = _vv_model(
        vo2_ml_min=vo2_ml_min,
        hb_g_dl=hb_g_dl,
        cardiac_output_l_min=cardiac_output_l_min,
        recirculation_fraction=recirculation_fraction,
        shunt_fraction=shunt_fraction,
        end_capillary_so2=end_capillary_so2,
        post_oxygenator_so2=post_oxygenator_so2,
        hufner_ml_g=hufner_ml_g,
        post_oxygenator_po2_mmhg=post_oxygenator_po2_mmhg,
        dissolved_ml_dl_mmhg=dissolved_ml_dl_mmhg,
    )
    f = _required_flow_fraction(m, target)
    q = m.cardiac_output_l_min
    effective = f * q
    ceiling = BLOOD_FLOW_L_MIN.maximum
    if effective == 0.0:
        ecbf = 0.0
    elif effective > ceiling * (1.0 - m.recirculation):  # also catches R = 1 (every drop recirculates)
        raise InfeasibleError(
            f"the target needs an effective flow of {effective:.2f} L/min, i.e. a pump flow above the "
            f"{ceiling:g} L/min ceiling at a recirculation fraction of {m.recirculation:g}",
            field="ecmo_blood_flow_l_min",
        )
    else:
        ecbf = min(effective / (1.0 - m.recirculation), ceiling)  # min(): last-bit rounding only
    state = _vv_state(m, f, ecbf)
    return RequiredFlow(
        effective_flow_l_min=effective,
        ecmo_blood_flow_l_min=ecbf,
        arterial_so2=state.arterial_so2,
        ecmo_to_cardiac_output_ratio=ecbf / q,
    )


def va_mixed_so2(
    *, native_flow_l_min: float, native_so2: float, ecmo_flow_l_min: float, post_oxygenator_so2: float
) -> float:
    """Saturation of fully mixed native and ECMO blood on VA ECMO, ``(Qn·Sn + Qe·Spost)/(Qn + Qe)``.

    This is the content mix ``Cmix = (Qn·Cn + Qe·Cpost)/(Qn + Qe)`` of scores-and-models §14 divided by
    ``k·Hb`` (same blood on both sides, dissolved O2 ignored), e.g. the descending aorta when mixing is
    complete.

    Parameters
    ----------
    native_flow_l_min : float
        Native left-ventricular output, L/min, in [0, 20].
    native_so2 : float
        Saturation of native output (pulmonary-venous blood), fraction 0–1.
    ecmo_flow_l_min : float
        ECMO (arterial return) flow, L/min, in [0, 10].
    post_oxygenator_so2 : float
        Fraction 0–1.

    Returns
    -------
    float
        Fraction 0–1, between ``native_so2`` and ``post_oxygenator_so2``.

    Raises
    ------
    InfeasibleError
        Both flows are zero (nothing to mix; ``field="ecmo_flow_l_min"``).

    References
    ----------
    Winiszewski H et al. Crit Care 2022;26:226 (PMC9316319); scores-and-models §14.
    """
    qn = CARDIAC_OUTPUT_L_MIN.check("native_flow_l_min", native_flow_l_min)
    sn = validate.fraction("native_so2", native_so2)
    qe = BLOOD_FLOW_L_MIN.check("ecmo_flow_l_min", ecmo_flow_l_min)
    sp = validate.fraction("post_oxygenator_so2", post_oxygenator_so2)
    total = qn + qe
    if total == 0.0:
        raise InfeasibleError(
            "native and ECMO flow are both zero: there is no blood to mix", field="ecmo_flow_l_min"
        )
    # (Qn·Sn + Qe·Spost)/(Qn + Qe) written as Sn + (Spost − Sn)·share, so that vanishingly small flows
    # (subnormal floats) cannot round the products into a value outside the two inputs.
    return _between(sn, sp, qe / total)


def va_upper_body_so2(
    *, native_flow_l_min: float, native_so2: float, upper_body_flow_l_min: float, post_oxygenator_so2: float
) -> float:
    """Upper-body (coronary, arch, right radial) saturation on peripheral VA ECMO: watershed model.

    Native output perfuses the coronary and arch vessels first. If ``Qn ≥ Qub`` the upper body receives only
    native blood (``Sn``: differential hypoxia when Sn is low); otherwise ECMO return fills the deficit,
    ``(Qn·Sn + (Qub − Qn)·Spost)/Qub``.

    Parameters
    ----------
    native_flow_l_min : float
        Native left-ventricular output, L/min, in [0, 20].
    native_so2 : float
        Fraction 0–1.
    upper_body_flow_l_min : float
        Coronary + aortic-arch flow, L/min, in (0, 20].
    post_oxygenator_so2 : float
        Fraction 0–1.

    Returns
    -------
    float
        Fraction 0–1. Assumes the retrograde ECMO flow is at least ``Qub − Qn`` (the arch is filled).

    References
    ----------
    Watershed simplification derived in scores-and-models §14 (label: derived, not published as such);
    reference.md §2.7 (right radial samples the upper body).
    """
    qn = CARDIAC_OUTPUT_L_MIN.check("native_flow_l_min", native_flow_l_min)
    sn = validate.fraction("native_so2", native_so2)
    qub = UPPER_BODY_FLOW_L_MIN.check("upper_body_flow_l_min", upper_body_flow_l_min)
    sp = validate.fraction("post_oxygenator_so2", post_oxygenator_so2)
    if qn >= qub:
        return sn
    # (Qn·Sn + (Qub − Qn)·Spost)/Qub, written as a share of ECMO blood in the upper-body flow.
    return _between(sn, sp, (qub - qn) / qub)


def _between(first: float, second: float, share_of_second: float) -> float:
    """The flow-weighted mean of two saturations. It lies between them in exact arithmetic; min/max only
    remove a last-bit rounding excess at the ends (never a clinical clamp)."""
    mean = first + (second - first) * share_of_second
    return min(max(mean, min(first, second)), max(first, second))
