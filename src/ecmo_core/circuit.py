"""Circuit and cannula selection, pressure–flow interpolation, priming and blood volume.

Pure functions over frozen dataclasses: the web layer turns its catalogue rows into :class:`Oxygenator`,
:class:`Pump`, :class:`TubingPack` and :class:`CannulaSpec`, its site settings into :class:`SelectionLimits`
and :class:`BloodVolumeBands`, and shows what comes back. How it works and why:
``docs/calculators/circuit-selection.md`` and ``docs/calculators/priming.md``.

Selection (issue 14 §2). For a flow target (cardiac index × BSA on V-A, the VV model's required flow on V-V):

- an oxygenator passes when its rated flow is at least the target × (1 + margin);
- a pump head passes when its maximum flow is at least the target × (1 + margin);
- a tubing pack passes when its rated flow (where given) is at least the target;
- a drainage cannula passes when its pressure drop at the target flow, interpolated from the maker's
  pressure–flow points, is at most the site's drainage limit (so the access pressure stays within it);
- a return cannula passes when its pressure drop at the target flow is at most the site's return limit;
- a dual-lumen cannula (V-V only) passes when both lumens pass;
- a target flow above a cannula's highest published point fails: the curve is never extrapolated.

The proposal is the passing item with the least priming volume (oxygenators, pumps, tubing) or the smallest
size in Fr, then the lowest pressure drop (cannulas): the least that does the job. When nothing passes, the
result says so and why, item by item. V-V with two cannulas carries a recirculation-risk flag when the planned
tip-to-tip distance is short (or not given).

Priming (issue 14 §3): estimated blood volume by age band, prime volume of the chosen parts, and the
haematocrit after priming ``(EBV·Hct_patient + Vprime·Hct_prime) / (EBV + Vprime)``.

No Django, no I/O, no clock.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from ecmo_core import validate
from ecmo_core.errors import InputError

__all__ = [
    "BloodVolumeBands",
    "CannulaCheck",
    "CannulaSpec",
    "ItemCheck",
    "Oxygenator",
    "Priming",
    "Pump",
    "Selection",
    "SelectionLimits",
    "TubingPack",
    "estimated_blood_volume_ml",
    "post_prime_hematocrit",
    "pressure_drop_mmhg",
    "priming",
    "select_circuit",
    "va_flow_target_l_min",
]

CONFIGURATIONS: Final = ("vv", "va", "vav", "vva", "vpa")
PURPOSES: Final = ("drainage", "return", "dual_lumen")
FLOW_L_MIN: Final = (0.0, 10.0)  # pump flow ceiling of the oxygenation models (physiology.BLOOD_FLOW_L_MIN)
PRESSURE_DROP_MMHG: Final = (0.0, 1000.0)  # plausibility of a published pressure-drop point
CARDIAC_INDEX_L_MIN_M2: Final = (0.5, 6.0)
BSA_M2: Final = (0.1, 3.5)
PRIME_ML: Final = (0.0, 5000.0)
HEMATOCRIT_MAX: Final = 0.8  # packed red cells reach about 0.55–0.80; above is not blood


def _hematocrit(name: str, value: object) -> float:
    result = validate.fraction(name, value)
    if result > HEMATOCRIT_MAX:
        raise InputError(name, f"{result:g} is above {HEMATOCRIT_MAX:g}, the highest haematocrit blood has")
    return result


# --- Site settings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectionLimits:
    """Margins and limits of the selection: site settings with these defaults (sources in the comments).

    ``drainage_pressure_drop_max_mmhg``: access (pre-pump) pressure more negative than −100 mmHg is the
    common alert (reference.md §1, site default [○]); the drainage cannula's pressure drop at the target flow
    is what the pump must pull through it, so it must stay within that.
    ``return_pressure_drop_max_mmhg``: local choice; post-oxygenator pressure is typically 100–300 mmHg
    (reference.md §1 [○]) and the return cannula takes the largest part of it.
    ``oxygenator_margin_fraction`` / ``pump_margin_fraction``: local choice (rated flow at least 20 % above
    the target leaves room to raise flow without changing the membrane).
    ``vv_min_tip_distance_cm``: tip-to-tip distance under 10 cm is a recirculation risk (reference.md §2.6).
    """

    oxygenator_margin_fraction: float = 0.2
    pump_margin_fraction: float = 0.2
    drainage_pressure_drop_max_mmhg: float = 100.0
    return_pressure_drop_max_mmhg: float = 150.0
    vv_min_tip_distance_cm: float = 10.0

    def __post_init__(self) -> None:
        for name, low, high in (
            ("oxygenator_margin_fraction", 0.0, 1.0),
            ("pump_margin_fraction", 0.0, 1.0),
            ("drainage_pressure_drop_max_mmhg", 10.0, 400.0),
            ("return_pressure_drop_max_mmhg", 10.0, 500.0),
            ("vv_min_tip_distance_cm", 0.0, 40.0),
        ):
            validate.number(name, getattr(self, name), minimum=low, maximum=high)


@dataclass(frozen=True)
class BloodVolumeBands:
    """Estimated blood volume, mL/kg, by age band: a site setting with these defaults.

    Source: average blood volumes of the anaesthesia textbooks (Morgan & Mikhail's Clinical Anesthesiology,
    "Average blood volumes": premature neonate 95, full-term neonate 85, infant 80, adult man 75, adult
    woman 65 mL/kg); children 1–12 years 75 mL/kg as commonly quoted in paediatric texts. Check against
    the local protocol: the sources round and band differently.
    """

    premature_neonate_ml_kg: float = 95.0
    neonate_ml_kg: float = 85.0  # birth to 28 days
    infant_ml_kg: float = 80.0  # 28 days to 1 year
    child_ml_kg: float = 75.0  # 1 to 12 years
    adult_male_ml_kg: float = 75.0  # from 12 years
    adult_female_ml_kg: float = 65.0
    adult_unknown_sex_ml_kg: float = 70.0  # midway, when sex is not recorded

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            validate.number(name, getattr(self, name), minimum=40.0, maximum=120.0, unit="mL/kg")


# --- Catalogue items ------------------------------------------------------------------------------------


def _points(name: str, raw: Iterable[Sequence[float]]) -> tuple[tuple[float, float], ...]:
    """Validated (flow L/min, pressure drop mmHg) points, sorted by flow, with rising flow and pressure."""
    try:
        pairs = [tuple(p) for p in raw]
    except TypeError:
        raise InputError(name, "must be a list of (flow L/min, pressure drop mmHg) pairs") from None
    if not pairs:
        raise InputError(name, "needs at least one (flow L/min, pressure drop mmHg) point")
    out: list[tuple[float, float]] = []
    for index, pair in enumerate(pairs):
        if len(pair) != 2:
            raise InputError(name, f"point {index + 1} must be a (flow L/min, pressure drop mmHg) pair")
        flow = validate.number(
            name, pair[0], minimum=0.0, maximum=FLOW_L_MIN[1], min_exclusive=True, unit="L/min"
        )
        drop = validate.number(
            name, pair[1], minimum=PRESSURE_DROP_MMHG[0], maximum=PRESSURE_DROP_MMHG[1], unit="mmHg"
        )
        out.append((flow, drop))
    out.sort()
    for (f0, p0), (f1, p1) in itertools.pairwise(out):
        if f1 == f0:
            raise InputError(name, f"gives flow {f0:g} L/min twice")
        if p1 < p0:
            raise InputError(
                name, f"pressure drop falls from {p0:g} to {p1:g} mmHg as flow rises: check the points"
            )
    return tuple(out)


def _flow(name: str, value: object) -> float:
    return validate.number(name, value, minimum=0.0, maximum=FLOW_L_MIN[1], min_exclusive=True, unit="L/min")


def _prime(name: str, value: object) -> float:
    return validate.number(name, value, minimum=PRIME_ML[0], maximum=PRIME_ML[1], unit="mL")


@dataclass(frozen=True)
class Oxygenator:
    key: str
    label: str
    rated_flow_l_min: float
    priming_volume_ml: float
    membrane_surface_m2: float | None = None
    max_duration_days: float | None = None

    def __post_init__(self) -> None:
        _flow("rated_flow_l_min", self.rated_flow_l_min)
        _prime("priming_volume_ml", self.priming_volume_ml)


@dataclass(frozen=True)
class Pump:
    key: str
    label: str
    max_flow_l_min: float
    priming_volume_ml: float = 0.0

    def __post_init__(self) -> None:
        _flow("max_flow_l_min", self.max_flow_l_min)
        _prime("priming_volume_ml", self.priming_volume_ml)


@dataclass(frozen=True)
class TubingPack:
    key: str
    label: str
    priming_volume_ml: float
    rated_flow_l_min: float | None = None

    def __post_init__(self) -> None:
        _prime("priming_volume_ml", self.priming_volume_ml)
        if self.rated_flow_l_min is not None:
            _flow("rated_flow_l_min", self.rated_flow_l_min)


@dataclass(frozen=True)
class CannulaSpec:
    """A cannula with its pressure–flow points (flow L/min, pressure drop mmHg), as entered from the IFU.

    A dual-lumen cannula has ``points`` for its drainage lumen and ``return_points`` for its return lumen.
    """

    key: str
    label: str
    purpose: str
    size_fr: int
    points: tuple[tuple[float, float], ...]
    length_cm: float | None = None
    multistage: bool = False
    return_points: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        validate.choice("purpose", self.purpose, PURPOSES)
        validate.integer("size_fr", self.size_fr, minimum=5, maximum=35, unit="Fr")
        object.__setattr__(self, "points", _points("points", self.points))
        if self.purpose == "dual_lumen":
            object.__setattr__(self, "return_points", _points("return_points", self.return_points))
        elif self.return_points:
            raise InputError("return_points", "only a dual-lumen cannula has a second (return) curve")


def pressure_drop_mmhg(*, points: Iterable[Sequence[float]], flow_l_min: float) -> float | None:
    """Pressure drop at ``flow_l_min`` by linear interpolation between the published points.

    Below the lowest point the curve runs straight from (0 L/min, 0 mmHg) to it (no flow, no drop). Above the
    highest point the result is None: the maker's data do not reach that flow, and a pressure–flow curve is
    never extrapolated (it rises faster than linearly). At a published point the published value is returned.
    """
    pts = _points("points", points)
    flow = validate.number(
        "flow_l_min", flow_l_min, minimum=FLOW_L_MIN[0], maximum=FLOW_L_MIN[1], unit="L/min"
    )
    if flow > pts[-1][0]:
        return None
    previous = (0.0, 0.0)
    for point in pts:
        if flow <= point[0]:
            f0, p0 = previous
            f1, p1 = point
            return p0 + (p1 - p0) * (flow - f0) / (f1 - f0)
        previous = point
    raise AssertionError("unreachable: flow ≤ the last point's flow")  # pragma: no cover


# --- Flow targets ---------------------------------------------------------------------------------------


def va_flow_target_l_min(*, cardiac_index_l_min_m2: float, bsa_m2: float) -> float:
    """V-A flow target = cardiac index × BSA (reference.md §4: a cardiac index of about 2.2–2.5 L/min/m²)."""
    ci = validate.number(
        "cardiac_index_l_min_m2",
        cardiac_index_l_min_m2,
        minimum=CARDIAC_INDEX_L_MIN_M2[0],
        maximum=CARDIAC_INDEX_L_MIN_M2[1],
        unit="L/min/m²",
    )
    bsa = validate.number("bsa_m2", bsa_m2, minimum=BSA_M2[0], maximum=BSA_M2[1], unit="m²")
    return ci * bsa


# --- Selection ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemCheck:
    """One catalogue item judged against the target: whether it passes and why (plain sentences)."""

    key: str
    label: str
    passes: bool
    reasons: tuple[str, ...]
    priming_volume_ml: float | None = None


@dataclass(frozen=True)
class CannulaCheck:
    key: str
    label: str
    purpose: str
    size_fr: int
    passes: bool
    reasons: tuple[str, ...]
    pressure_drop_mmhg: float | None  # drainage (or single) lumen at the target; None above the curve
    return_pressure_drop_mmhg: float | None = None  # dual-lumen return lumen


@dataclass(frozen=True)
class Selection:
    """The checks of every item, the proposal (keys, None where nothing passes) and what does not fit."""

    configuration: str
    flow_target_l_min: float
    oxygenators: tuple[ItemCheck, ...]
    pumps: tuple[ItemCheck, ...]
    tubing_packs: tuple[ItemCheck, ...]
    drainage_cannulas: tuple[CannulaCheck, ...]
    return_cannulas: tuple[CannulaCheck, ...]
    dual_lumen_cannulas: tuple[CannulaCheck, ...]
    proposal: dict[str, str | None]
    nothing_fits: tuple[str, ...]
    flags: tuple[str, ...]
    limits: SelectionLimits = field(default_factory=SelectionLimits)

    @property
    def complete(self) -> bool:
        """A proposal exists for every part the configuration needs."""
        return not self.nothing_fits


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if x != int(x) else f"{int(x)}"


def _check_rated(
    key: str, label: str, rated: float | None, needed: float, what: str, prime: float | None
) -> ItemCheck:
    if rated is None:
        return ItemCheck(key, label, True, (f"no {what} given: not limiting",), prime)
    ok = rated >= needed
    sign = "≥" if ok else "<"
    return ItemCheck(
        key, label, ok, (f"{what} {_fmt(rated)} L/min {sign} {_fmt(needed)} L/min needed",), prime
    )


def _lumen(
    points: tuple[tuple[float, float], ...], flow: float, limit: float, lumen: str
) -> tuple[bool, str, float | None]:
    drop = pressure_drop_mmhg(points=points, flow_l_min=flow)
    if drop is None:
        return (
            False,
            f"{lumen}: the maker's points stop at {_fmt(points[-1][0])} L/min, below the target {_fmt(flow)} L/min",
            None,
        )
    ok = drop <= limit
    sign = "≤" if ok else ">"
    return (
        ok,
        f"{lumen}: pressure drop {drop:.0f} mmHg at {_fmt(flow)} L/min {sign} limit {_fmt(limit)} mmHg",
        drop,
    )


def _check_cannula(c: CannulaSpec, flow: float, limits: SelectionLimits, role: str) -> CannulaCheck:
    if c.purpose == "dual_lumen":
        ok_d, why_d, drop_d = _lumen(c.points, flow, limits.drainage_pressure_drop_max_mmhg, "drainage lumen")
        ok_r, why_r, drop_r = _lumen(
            c.return_points, flow, limits.return_pressure_drop_max_mmhg, "return lumen"
        )
        return CannulaCheck(
            c.key, c.label, c.purpose, c.size_fr, ok_d and ok_r, (why_d, why_r), drop_d, drop_r
        )
    limit = (
        limits.drainage_pressure_drop_max_mmhg if role == "drainage" else limits.return_pressure_drop_max_mmhg
    )
    ok, why, drop = _lumen(c.points, flow, limit, role)
    return CannulaCheck(c.key, c.label, c.purpose, c.size_fr, ok, (why,), drop)


def _best_item(checks: Sequence[ItemCheck]) -> str | None:
    passing = [c for c in checks if c.passes]
    if not passing:
        return None
    return min(
        passing, key=lambda c: (c.priming_volume_ml if c.priming_volume_ml is not None else math.inf, c.key)
    ).key


def _best_cannula(checks: Sequence[CannulaCheck]) -> str | None:
    passing = [c for c in checks if c.passes]
    if not passing:
        return None
    return min(passing, key=lambda c: (c.size_fr, c.pressure_drop_mmhg or 0.0, c.key)).key


def _why_none(what: str, checks: Sequence[ItemCheck] | Sequence[CannulaCheck]) -> str:
    if not checks:
        return f"no {what} in the catalogue"
    return f"no {what} in the catalogue fits: " + "; ".join(
        f"{c.label} — {', '.join(c.reasons)}" for c in checks
    )


def select_circuit(
    *,
    configuration: str,
    flow_target_l_min: float,
    oxygenators: Sequence[Oxygenator],
    pumps: Sequence[Pump],
    tubing_packs: Sequence[TubingPack] = (),
    cannulas: Sequence[CannulaSpec] = (),
    limits: SelectionLimits | None = None,
    dual_lumen: bool = False,
    tip_distance_cm: float | None = None,
) -> Selection:
    """Judge every catalogue item against the flow target and propose the least that does the job.

    Parameters
    ----------
    configuration : str
        ``vv``, ``va``, ``vav``, ``vva`` or ``vpa`` (ELSO nomenclature). Dual-lumen cannulas are offered on V-V
        only.
    flow_target_l_min : float
        The blood flow the circuit must deliver, (0, 10] L/min.
    oxygenators, pumps, tubing_packs, cannulas
        The active catalogue.
    limits : SelectionLimits, optional
        The site's margins and limits (defaults and sources on the class).
    dual_lumen : bool
        V-V: propose a dual-lumen cannula instead of a drainage and a return cannula.
    tip_distance_cm : float, optional
        V-V with two cannulas: the planned tip-to-tip distance; shorter than the site's minimum (or not given)
        raises the recirculation-risk flag.

    Returns
    -------
    Selection
        ``proposal`` maps ``oxygenator``, ``pump``, ``tubing_pack``, and ``drainage_cannula`` +
        ``return_cannula`` (or ``dual_lumen_cannula``) to a key or None; ``nothing_fits`` says why for each
        None (an empty tubing list is not a failure: the tubing pack is optional).
    """
    config = validate.choice("configuration", configuration, CONFIGURATIONS)
    flow = validate.number(
        "flow_target_l_min",
        flow_target_l_min,
        minimum=FLOW_L_MIN[0],
        maximum=FLOW_L_MIN[1],
        min_exclusive=True,
        unit="L/min",
    )
    lim = limits or SelectionLimits()
    dual = validate.boolean("dual_lumen", dual_lumen)
    if dual and config != "vv":
        raise InputError("dual_lumen", "a dual-lumen cannula is offered on V-V only")
    distance = (
        None
        if tip_distance_cm is None
        else validate.number("tip_distance_cm", tip_distance_cm, minimum=0.0, maximum=100.0, unit="cm")
    )

    oxy_needed = flow * (1.0 + lim.oxygenator_margin_fraction)
    pump_needed = flow * (1.0 + lim.pump_margin_fraction)
    oxys = tuple(
        _check_rated(o.key, o.label, o.rated_flow_l_min, oxy_needed, "rated flow", o.priming_volume_ml)
        for o in oxygenators
    )
    pmps = tuple(
        _check_rated(p.key, p.label, p.max_flow_l_min, pump_needed, "maximum flow", p.priming_volume_ml)
        for p in pumps
    )
    tubes = tuple(
        _check_rated(t.key, t.label, t.rated_flow_l_min, flow, "rated flow", t.priming_volume_ml)
        for t in tubing_packs
    )
    drains = tuple(_check_cannula(c, flow, lim, "drainage") for c in cannulas if c.purpose == "drainage")
    returns = tuple(_check_cannula(c, flow, lim, "return") for c in cannulas if c.purpose == "return")
    duals = (
        tuple(_check_cannula(c, flow, lim, "dual_lumen") for c in cannulas if c.purpose == "dual_lumen")
        if config == "vv"
        else ()
    )

    proposal: dict[str, str | None] = {
        "oxygenator": _best_item(oxys),
        "pump": _best_item(pmps),
        "tubing_pack": _best_item(tubes),
    }
    missing: list[str] = []
    if proposal["oxygenator"] is None:
        missing.append(_why_none("oxygenator", oxys))
    if proposal["pump"] is None:
        missing.append(_why_none("pump", pmps))
    if tubes and proposal["tubing_pack"] is None:
        missing.append(_why_none("tubing pack", tubes))
    flags: list[str] = []
    if dual:
        proposal["dual_lumen_cannula"] = _best_cannula(duals)
        if proposal["dual_lumen_cannula"] is None:
            missing.append(_why_none("dual-lumen cannula", duals))
        flags.append(
            "dual-lumen cannula: recirculation depends on the return jet facing the tricuspid valve; "
            "confirm the position by echocardiography or fluoroscopy"
        )
    else:
        proposal["drainage_cannula"] = _best_cannula(drains)
        proposal["return_cannula"] = _best_cannula(returns)
        if proposal["drainage_cannula"] is None:
            missing.append(_why_none("drainage cannula", drains))
        if proposal["return_cannula"] is None:
            missing.append(_why_none("return cannula", returns))
        if config == "vv":
            minimum = lim.vv_min_tip_distance_cm
            if distance is None:
                flags.append(
                    f"recirculation risk not assessed: give the planned tip-to-tip distance (at least "
                    f"{_fmt(minimum)} cm)"
                )
            elif distance < minimum:
                flags.append(
                    f"recirculation risk: tip-to-tip distance {_fmt(distance)} cm is under {_fmt(minimum)} cm"
                )
    return Selection(
        configuration=config,
        flow_target_l_min=flow,
        oxygenators=oxys,
        pumps=pmps,
        tubing_packs=tubes,
        drainage_cannulas=drains,
        return_cannulas=returns,
        dual_lumen_cannulas=duals,
        proposal=proposal,
        nothing_fits=tuple(missing),
        flags=tuple(flags),
        limits=lim,
    )


# --- Blood volume and priming ---------------------------------------------------------------------------

AGE_DAYS: Final = (0.0, 365.25 * 120)
WEIGHT_KG: Final = (0.3, 350.0)  # from a very premature neonate to the adult plausibility ceiling
SEXES: Final = ("male", "female", "unknown")
DAYS_PER_YEAR: Final = 365.25


def estimated_blood_volume_ml(
    *,
    weight_kg: float,
    age_days: float,
    sex: str = "unknown",
    premature: bool = False,
    bands: BloodVolumeBands | None = None,
) -> tuple[float, float, str]:
    """Estimated blood volume: ``(mL, mL/kg used, band)``, weight × the band's mL/kg.

    Bands: premature neonate (``premature`` and under 28 days), neonate under 28 days, infant under 1 year,
    child under 12 years, then adult by sex (unknown sex: the midway value). Defaults and their source on
    :class:`BloodVolumeBands`.
    """
    weight = validate.number("weight_kg", weight_kg, minimum=WEIGHT_KG[0], maximum=WEIGHT_KG[1], unit="kg")
    age = validate.number("age_days", age_days, minimum=AGE_DAYS[0], maximum=AGE_DAYS[1], unit="days")
    who = validate.choice("sex", sex, SEXES)
    early = validate.boolean("premature", premature)
    b = bands or BloodVolumeBands()
    if age < 28 and early:
        per_kg, band = b.premature_neonate_ml_kg, "premature neonate"
    elif age < 28:
        per_kg, band = b.neonate_ml_kg, "neonate (under 28 days)"
    elif age < DAYS_PER_YEAR:
        per_kg, band = b.infant_ml_kg, "infant (under 1 year)"
    elif age < 12 * DAYS_PER_YEAR:
        per_kg, band = b.child_ml_kg, "child (1–12 years)"
    elif who == "male":
        per_kg, band = b.adult_male_ml_kg, "adult man"
    elif who == "female":
        per_kg, band = b.adult_female_ml_kg, "adult woman"
    else:
        per_kg, band = b.adult_unknown_sex_ml_kg, "adult, sex not recorded"
    return weight * per_kg, per_kg, band


def post_prime_hematocrit(
    *,
    blood_volume_ml: float,
    patient_hematocrit: float,
    prime_volume_ml: float,
    prime_hematocrit: float = 0.0,
) -> float:
    """Haematocrit once the prime mixes with the patient's blood (fraction 0–1).

    ``Hct = (EBV·Hct_patient + Vprime·Hct_prime) / (EBV + Vprime)``: red cells are conserved, volumes add.
    A crystalloid or albumin prime has ``prime_hematocrit`` 0; a blood prime has the haematocrit of the
    mixture in the circuit.
    """
    ebv = validate.number(
        "blood_volume_ml", blood_volume_ml, minimum=0.0, maximum=30000.0, min_exclusive=True, unit="mL"
    )
    hct = _hematocrit("patient_hematocrit", patient_hematocrit)
    vp = _prime("prime_volume_ml", prime_volume_ml)
    hp = _hematocrit("prime_hematocrit", prime_hematocrit)
    return (ebv * hct + vp * hp) / (ebv + vp)


@dataclass(frozen=True)
class Priming:
    """The priming plan: volumes, the haematocrit after priming and what it takes to reach the minimum."""

    prime_volume_ml: float
    blood_volume_ml: float
    blood_volume_ml_kg: float
    blood_volume_band: str
    prime_to_blood_volume_ratio: float
    post_prime_hematocrit: float
    minimum_hematocrit: float
    below_minimum: bool
    # Packed red cells to put in the prime (replacing as much crystalloid) to reach the minimum; None when not
    # needed, math.inf when even an all-red-cell prime cannot reach it.
    packed_cells_ml: float | None
    heparin_iu: float
    working: tuple[str, ...]


def priming(
    *,
    weight_kg: float,
    age_days: float,
    patient_hematocrit: float,
    prime_volume_ml: float,
    sex: str = "unknown",
    premature: bool = False,
    prime_hematocrit: float = 0.0,
    minimum_hematocrit: float = 0.25,
    packed_cells_hematocrit: float = 0.6,
    heparin_iu_per_ml_prime: float = 1.0,
    bands: BloodVolumeBands | None = None,
) -> Priming:
    """Blood volume, haematocrit after priming, and the packed cells a blood prime needs.

    ``minimum_hematocrit`` (site setting, default 0.25, local choice) is the lowest acceptable haematocrit
    after priming; below it the plan gives the packed red cells (haematocrit ``packed_cells_hematocrit``,
    default 0.6, typical of stored units) to put into the prime in place of crystalloid:
    ``V_prbc = (Hct_min·(EBV + Vprime) − EBV·Hct_patient − Vprime·Hct_prime) / (Hct_prbc − Hct_prime)``.
    ``heparin_iu_per_ml_prime`` (site setting, default 1 IU/mL, local practice) gives the heparin added.
    """
    ebv, per_kg, band = estimated_blood_volume_ml(
        weight_kg=weight_kg, age_days=age_days, sex=sex, premature=premature, bands=bands
    )
    hct_after = post_prime_hematocrit(
        blood_volume_ml=ebv,
        patient_hematocrit=patient_hematocrit,
        prime_volume_ml=prime_volume_ml,
        prime_hematocrit=prime_hematocrit,
    )
    minimum = validate.number("minimum_hematocrit", minimum_hematocrit, minimum=0.1, maximum=0.5)
    prbc = validate.number("packed_cells_hematocrit", packed_cells_hematocrit, minimum=0.4, maximum=0.8)
    heparin = validate.number(
        "heparin_iu_per_ml_prime", heparin_iu_per_ml_prime, minimum=0.0, maximum=10.0, unit="IU/mL"
    )
    hct = float(patient_hematocrit)
    vp, hp = float(prime_volume_ml), float(prime_hematocrit)
    below = hct_after < minimum
    packed: float | None = None
    working = [
        f"blood volume {_fmt(float(weight_kg))} kg × {_fmt(per_kg)} mL/kg ({band}) = {ebv:.0f} mL",
        f"prime {vp:.0f} mL = {vp / ebv:.0%} of the blood volume",
        f"haematocrit after priming = ({ebv:.0f} × {hct:.2f} + {vp:.0f} × {hp:.2f}) / ({ebv:.0f} + {vp:.0f}) "
        f"= {hct_after:.3f}",
    ]
    if below:
        needed = (minimum * (ebv + vp) - ebv * hct - vp * hp) / (prbc - hp)
        packed = needed if needed <= vp else math.inf
        working.append(
            f"below the minimum {minimum:.2f}: packed cells = ({minimum:.2f} × {ebv + vp:.0f} − {ebv:.0f} × "
            f"{hct:.2f} − {vp:.0f} × {hp:.2f}) / ({prbc:.2f} − {hp:.2f}) = {needed:.0f} mL"
            + ("" if needed <= vp else f", more than the {vp:.0f} mL prime: a prime cannot reach the minimum")
        )
    working.append(f"heparin in the prime {heparin:g} IU/mL × {vp:.0f} mL = {heparin * vp:.0f} IU")
    return Priming(
        prime_volume_ml=vp,
        blood_volume_ml=ebv,
        blood_volume_ml_kg=per_kg,
        blood_volume_band=band,
        prime_to_blood_volume_ratio=vp / ebv,
        post_prime_hematocrit=hct_after,
        minimum_hematocrit=minimum,
        below_minimum=below,
        packed_cells_ml=packed,
        heparin_iu=heparin * vp,
        working=tuple(working),
    )
