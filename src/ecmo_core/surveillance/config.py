"""Site settings for the surveillance rules: one frozen dataclass per rule, every default with its source.

Thresholds are data, not code (STYLE.md, reference.md "Design rule"). Each setting declares its default, the
range a site may choose from, its unit and its source (a guideline, a paper or "local practice"); the same
metadata drives validation here and the tables in ``docs/rules/``. Constructing a config validates it, so a
bad value raises :class:`InputError` naming e.g. ``oxygenator.post_po2_low.threshold_mmhg`` and the accepted
(site) range, whether it came from Python, TOML or a settings form.

TOML / mapping layout (``config_from_mapping``) mirrors the rule ids::

    [engine]
    median_window_min = 10
    [oxygenator.post_po2_low]
    threshold_mmhg = 180
    [recirculation.high]
    enabled = false
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

from ecmo_core import validate
from ecmo_core.errors import InputError

T = TypeVar("T")


def setting(
    default: T,
    *,
    source: str,
    minimum: float | None = None,
    maximum: float | None = None,
    unit: str = "",
) -> T:
    """Declare one site setting: default, accepted (site) range, unit and source (for docs and errors)."""
    kind = "boolean" if isinstance(default, bool) else "integer" if isinstance(default, int) else "number"
    meta = {"kind": kind, "minimum": minimum, "maximum": maximum, "unit": unit, "source": source}
    result: T = field(default=default, metadata=meta)
    return result


@dataclass(frozen=True)
class Settings:
    """Base: validates every field against its declared range on construction."""

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            meta = f.metadata
            name = f"{self.SECTION}.{f.name}"
            value = getattr(self, f.name)
            checked: object
            if meta["kind"] == "boolean":
                checked = validate.boolean(name, value)
            elif meta["kind"] == "integer":
                checked = validate.integer(
                    name, value, minimum=int(meta["minimum"]), maximum=int(meta["maximum"]), unit=meta["unit"]
                )
            else:
                checked = validate.number(
                    name, value, minimum=meta["minimum"], maximum=meta["maximum"], unit=meta["unit"]
                )
            object.__setattr__(self, f.name, checked)

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Every setting: name, default, minimum, maximum, unit and source (for docs and settings forms)."""
        return [
            {"name": f.name, "default": f.default, **{k: v for k, v in f.metadata.items() if k != "kind"}}
            for f in fields(cls)
        ]


@dataclass(frozen=True)
class EngineConfig(Settings):
    """Settings shared by every rule: windows, freshness and baselines."""

    SECTION: ClassVar[str] = "engine"
    # core-api §4: rules judge noisy signals on windowed medians, default 10 min.
    median_window_min: float = setting(10.0, minimum=1, maximum=60, unit="min", source="core-api §4")
    # Local practice: a median of 3 or more readings cannot be moved by a single spike.
    min_window_samples: int = setting(3, minimum=2, maximum=30, source="local practice")
    # Local practice: gateways send numerics about once a minute (device-data §2 [○]); 5 missed = stale.
    device_fresh_min: float = setting(5.0, minimum=1, maximum=30, unit="min", source="local practice")
    # Local practice: an hourly check value stays usable until the next check is overdue (75 min).
    check_max_age_min: float = setting(75.0, minimum=30, maximum=240, unit="min", source="local practice")
    # Local practice: a baseline needs at least this many readings in its window.
    min_baseline_samples: int = setting(3, minimum=3, maximum=360, source="local practice")
    # Local practice: pre and post pressures from one console message or one check share a time stamp.
    pairing_tolerance_s: float = setting(30.0, minimum=0, maximum=300, unit="s", source="local practice")
    # demo-scenarios §9 (disconnected probe reads 0.0): flow below this is a probe dropout, i.e. missing.
    min_valid_flow_l_min: float = setting(
        0.1, minimum=0.01, maximum=1, unit="L/min", source="demo-scenarios §9; local practice"
    )


@dataclass(frozen=True)
class RuleConfig(Settings):
    """Base of every rule's settings: each rule can be switched off per site."""

    enabled: bool = setting(True, source="local practice: every rule on unless a site turns it off")


@dataclass(frozen=True)
class DeltaPRiseConfig(RuleConfig):
    SECTION: ClassVar[str] = "oxygenator.delta_p_rise"
    # reference §1.2: alert on a trend, e.g. ≥ 50 % rise over baseline [○]; rising ΔP = ML thrombosis [✔ S18].
    rise_fraction: float = setting(0.5, minimum=0.2, maximum=1.0, source="reference §1.2 [○]; core-api §4")
    # Local practice: flow "changed" when the current median differs from the baseline flow by more than
    # this fraction; then resistance ΔP/flow is judged instead of raw ΔP (reference §1.1 [✔ S13]).
    flow_change_fraction: float = setting(0.05, minimum=0.02, maximum=0.25, source="local practice")
    # core-api §4: baseline = median over the first 6 h after the oxygenator was installed.
    baseline_hours: float = setting(6.0, minimum=1, maximum=24, unit="h", source="core-api §4")
    # Local practice: a baseline this small cannot carry a relative threshold (zeroing offsets dominate).
    min_baseline_delta_p_mmhg: float = setting(
        2.0, minimum=0.5, maximum=20, unit="mmHg", source="local practice"
    )


@dataclass(frozen=True)
class PostPo2LowConfig(RuleConfig):
    SECTION: ClassVar[str] = "oxygenator.post_po2_low"
    # reference §1.2: post-ML PO2 below about 150–200 mmHg at FdO2 1.0 = ML dysfunction [○, no primary text].
    threshold_mmhg: float = setting(150.0, minimum=150, maximum=200, unit="mmHg", source="reference §1.2 [○]")
    # core-api §4: the test condition is FdO2 ≥ 0.95 (reference §1.2 "test condition: FdO2 1.0").
    min_fdo2: float = setting(0.95, minimum=0.9, maximum=1.0, source="core-api §4; reference §1.2")
    # Local practice: a hand-entered post-oxygenator gas counts for a day (daily post-ML gas).
    gas_max_age_h: float = setting(24.0, minimum=1, maximum=48, unit="h", source="local practice")


@dataclass(frozen=True)
class FlowPerRpmFallConfig(RuleConfig):
    SECTION: ClassVar[str] = "pump.flow_per_rpm_fall"
    # core-api §4: ≥ 20 % below baseline (demo-scenarios §3: −21 % fires, −16 % must not) [○].
    fall_fraction: float = setting(0.2, minimum=0.1, maximum=0.4, source="core-api §4 [○]")
    # core-api §4: baseline = median over the first 6 h after the pump head was installed.
    baseline_hours: float = setting(6.0, minimum=1, maximum=24, unit="h", source="core-api §4")
    # Local practice: speeds within this of the baseline speed count as "at the baseline speed" (console
    # readings jitter by about ±20 rpm, demo-scenarios conventions).
    speed_tolerance_rpm: float = setting(50.0, minimum=0, maximum=300, unit="rpm", source="local practice")


@dataclass(frozen=True)
class AccessPressureLowConfig(RuleConfig):
    SECTION: ClassVar[str] = "access.pressure_low"
    # reference §1.2: common alert at more negative than −100 mmHg [○, site default].
    threshold_mmhg: float = setting(
        -100.0, minimum=-200, maximum=-50, unit="mmHg", source="reference §1.2 [○]"
    )


@dataclass(frozen=True)
class PfhbHighConfig(RuleConfig):
    SECTION: ClassVar[str] = "hemolysis.pfhb_high"
    # reference §2.3: < 10 mg/dL expected on ECMO [✔ S52, weak / ○].
    warning_mg_dl: float = setting(10.0, minimum=5, maximum=50, unit="mg/dL", source="reference §2.3 [○]")
    # reference §2.3: > 50 mg/dL severe haemolysis; ELSO Registry definition [✔ S19, S20, S24; ◐ S9a].
    critical_mg_dl: float = setting(50.0, minimum=20, maximum=150, unit="mg/dL", source="reference §2.3 [✔]")
    # Local practice: pfHb is a daily lab (reference §3.2 "pfHb / LDH: daily"); 30 h allows a late draw.
    max_age_h: float = setting(30.0, minimum=6, maximum=72, unit="h", source="reference §3.2; local practice")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.warning_mg_dl < self.critical_mg_dl:
            raise InputError(
                f"{self.SECTION}.warning_mg_dl",
                f"{self.warning_mg_dl:g} mg/dL must be below critical_mg_dl ({self.critical_mg_dl:g} mg/dL)",
            )


@dataclass(frozen=True)
class RecirculationHighConfig(RuleConfig):
    SECTION: ClassVar[str] = "recirculation.high"
    # reference §2.6: no guideline cut-off; many centres treat R > 20–30 % as significant [○].
    threshold_fraction: float = setting(0.30, minimum=0.2, maximum=0.3, source="reference §2.6 [○]")
    # Local practice: saturations for the calculation count for 12 h.
    max_age_h: float = setting(12.0, minimum=1, maximum=48, unit="h", source="local practice")
    # Local practice: pre- and post-oxygenator saturations must be taken within this of each other.
    pairing_min: float = setting(30.0, minimum=1, maximum=120, unit="min", source="local practice")
    # Local practice: below this gap between post-oxygenator and mixed-venous SO2 (sweep off, failing
    # membrane) the formula divides by almost nothing and its result means nothing.
    min_saturation_gap: float = setting(0.1, minimum=0.05, maximum=0.3, source="local practice")


@dataclass(frozen=True)
class AnticoagulationConfig(RuleConfig):
    SECTION: ClassVar[str] = "anticoagulation.out_of_range"
    # reference §3.3: recheck 6 h when out of range, 24 h when in range [✔ S46]; +2 h for a late draw.
    anti_xa_max_age_h: float = setting(26.0, minimum=4, maximum=48, unit="h", source="reference §3.3 [✔ S46]")
    aptt_max_age_h: float = setting(
        26.0, minimum=4, maximum=48, unit="h", source="reference §3.3; local practice"
    )
    # Local practice: ACT is a bedside test repeated every few hours (paediatric: hourly, reference §3.2).
    act_max_age_h: float = setting(6.0, minimum=1, maximum=24, unit="h", source="local practice")

    def max_age_h(self, test: str) -> float:
        """Maximum age of a result of ``test`` (a code of ``ANTICOAGULATION_TESTS``)."""
        ages = {"anti_xa_iu_ml": self.anti_xa_max_age_h, "aptt_s": self.aptt_max_age_h}
        return ages.get(test, self.act_max_age_h)


@dataclass(frozen=True)
class AirDetectedConfig(RuleConfig):
    SECTION: ClassVar[str] = "air.detected"


@dataclass(frozen=True)
class CheckOverdueConfig(RuleConfig):
    SECTION: ClassVar[str] = "documentation.check_overdue"
    # core-api §4: no hourly circuit check for more than 75 minutes (local practice).
    overdue_min: float = setting(
        75.0, minimum=60, maximum=240, unit="min", source="core-api §4; local practice"
    )
    # Local practice (issue 11 §8): the next recorded check answers an overdue check, so once the rule has
    # cleared, that check resolves the alert itself and "to resolve" lists only what needs a person.
    resolve_on_next_check: bool = setting(
        True, source="local practice: the next recorded check answers an overdue check"
    )


@dataclass(frozen=True)
class SurveillanceConfig:
    """All surveillance settings of one site: the engine's and one section per rule (defaults everywhere)."""

    engine: EngineConfig = field(default_factory=EngineConfig)
    delta_p_rise: DeltaPRiseConfig = field(default_factory=DeltaPRiseConfig)
    post_po2_low: PostPo2LowConfig = field(default_factory=PostPo2LowConfig)
    flow_per_rpm_fall: FlowPerRpmFallConfig = field(default_factory=FlowPerRpmFallConfig)
    access_pressure_low: AccessPressureLowConfig = field(default_factory=AccessPressureLowConfig)
    pfhb_high: PfhbHighConfig = field(default_factory=PfhbHighConfig)
    recirculation_high: RecirculationHighConfig = field(default_factory=RecirculationHighConfig)
    anticoagulation: AnticoagulationConfig = field(default_factory=AnticoagulationConfig)
    air_detected: AirDetectedConfig = field(default_factory=AirDetectedConfig)
    check_overdue: CheckOverdueConfig = field(default_factory=CheckOverdueConfig)

    def __post_init__(self) -> None:
        for f in fields(self):
            expected = _CLASSES[_ATTRIBUTE_SECTIONS[f.name]]
            if not isinstance(getattr(self, f.name), expected):
                raise InputError(f.name, f"must be a {expected.__name__}, got {getattr(self, f.name)!r}")

    def section(self, section: str) -> Settings:
        """The settings of ``section`` (a rule id, or ``"engine"``)."""
        result: Settings = getattr(self, _SECTION_ATTRIBUTES[section])
        return result

    def enabled(self, rule_id: str) -> bool:
        """Whether the site has the rule switched on."""
        config = self.section(rule_id)
        return isinstance(config, RuleConfig) and config.enabled


_SETTINGS_CLASSES: tuple[type[Settings], ...] = (
    EngineConfig,
    DeltaPRiseConfig,
    PostPo2LowConfig,
    FlowPerRpmFallConfig,
    AccessPressureLowConfig,
    PfhbHighConfig,
    RecirculationHighConfig,
    AnticoagulationConfig,
    AirDetectedConfig,
    CheckOverdueConfig,
)
_CLASSES: dict[str, type[Settings]] = {cls.SECTION: cls for cls in _SETTINGS_CLASSES}
_ATTRIBUTE_SECTIONS: dict[str, str] = {
    f.name: cls.SECTION for f, cls in zip(fields(SurveillanceConfig), _SETTINGS_CLASSES, strict=True)
}
_SECTION_ATTRIBUTES: dict[str, str] = {section: name for name, section in _ATTRIBUTE_SECTIONS.items()}
SECTIONS: tuple[str, ...] = tuple(_CLASSES)
"""Every section name accepted by :func:`config_from_mapping`: ``"engine"`` and the rule ids."""


def config_from_mapping(mapping: Mapping[str, object]) -> SurveillanceConfig:
    """Build a :class:`SurveillanceConfig` from nested mappings as read from TOML (or JSON).

    Sections are the rule ids, nested on the dot (``{"oxygenator": {"post_po2_low": {...}}}``, which is what
    ``[oxygenator.post_po2_low]`` gives in TOML) or flat (``{"oxygenator.post_po2_low": {...}}``), plus
    ``engine``. Missing sections and settings keep their defaults. Unknown sections or settings, and values
    outside their site range, raise :class:`InputError` naming the dotted setting.
    """
    if not isinstance(mapping, Mapping):
        raise InputError("config", f"must be a mapping of sections, got {mapping!r}")
    sections: dict[str, Mapping[str, object]] = {}
    for key, value in mapping.items():
        if key in _CLASSES:
            sections[key] = _section_table(key, value)
            continue
        if not isinstance(value, Mapping):
            raise InputError(str(key), f"unknown section; accepted: {', '.join(SECTIONS)}")
        for sub, table in value.items():
            name = f"{key}.{sub}"
            if name not in _CLASSES:
                raise InputError(name, f"unknown section; accepted: {', '.join(SECTIONS)}")
            sections[name] = _section_table(name, table)
    kwargs: dict[str, Settings] = {}
    for name, table in sections.items():
        cls = _CLASSES[name]
        accepted = [f.name for f in fields(cls)]
        for key in table:
            if key not in accepted:
                raise InputError(f"{name}.{key}", f"unknown setting; accepted: {', '.join(accepted)}")
        kwargs[_SECTION_ATTRIBUTES[name]] = cls(**table)
    return SurveillanceConfig(**kwargs)  # type: ignore[arg-type]  # each value is the class of its field


def _section_table(name: str, value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InputError(name, f"must be a table of settings, got {value!r}")
    return value
