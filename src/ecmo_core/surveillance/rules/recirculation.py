"""``recirculation.high`` — V-V only: recirculation fraction > 0.30.

Rationale
    In V-V ECMO part of the oxygenated return blood is drained again without reaching the patient; effective
    flow is (1 − R) × pump flow [✔ S14, S15]. No guideline cut-off exists; many centres treat R above
    20–30 % as clinically significant [○ reference §2.6], so ``threshold_fraction`` is a site setting within
    0.2–0.3. Cannula distance, flow, cardiac output, hypovolaemia and PEEP drive it [✔ S16, S60, S70].

Data
    ``recirculation_fraction`` measured directly (ultrasound dilution, the reference method [✔ S14, S17]),
    or computed from saturations: R = (S_pre − S_v) / (S_post − S_v) [✔ S14, S15], with pre- and post-
    oxygenator saturations taken within ``pairing_min`` of each other and a mixed-venous value (on V-V only
    an estimate or a central-venous proxy [✔ S14]) within ``max_age_h``. When both are available the newer
    one is judged. A computed R outside 0–1, or a post/mixed-venous gap below ``min_saturation_gap`` (sweep
    off, a failing membrane), is ``indeterminate``: the formula then divides by almost nothing.

Applies to
    V-V only (core-api §4); other configurations get no finding; an unrecorded configuration is
    ``indeterminate``.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from ecmo_core.surveillance.base import (
    Reporter,
    Rule,
    RuleInput,
    evidence_of,
    hours,
    num,
    pct,
    windowed_lookback,
)
from ecmo_core.surveillance.columnar import (
    INDETERMINATE,
    INFO,
    WARNING,
    Codes,
    Frame,
    judged,
    not_applicable_where,
)
from ecmo_core.surveillance.config import RecirculationHighConfig, SurveillanceConfig
from ecmo_core.surveillance.model import EvidenceValue, Finding
from ecmo_core.surveillance.timeline import NoReading, Reading, stamp

RULE_ID = "recirculation.high"
RULE_VERSION = 1
_report = Reporter(RULE_ID, RULE_VERSION)


def recirculation_fraction(
    *, pre_oxygenator_so2: float, post_oxygenator_so2: float, mixed_venous_so2: float
) -> float:
    """R = (S_pre − S_v) / (S_post − S_v) [✔ S14 Walker 2009, S15].

    Computed locally on purpose: ``ecmo_core.physiology.recirculation_fraction`` is being written alongside
    and the lead will dedupe. The caller guarantees S_post > S_v.
    """
    return (pre_oxygenator_so2 - mixed_venous_so2) / (post_oxygenator_so2 - mixed_venous_so2)


def _computed(
    inp: RuleInput, cfg: RecirculationHighConfig
) -> tuple[Reading, dict[str, EvidenceValue]] | NoReading:
    timeline = inp.timeline
    pre = inp.windowed(timeline.pair("pre_oxygenator_so2"), manual_max_age_h=cfg.max_age_h)
    post = inp.windowed(timeline.pair("post_oxygenator_so2"), manual_max_age_h=cfg.max_age_h)
    mixed = inp.latest(timeline.pair("mixed_venous_so2"), max_age_h=cfg.max_age_h)
    for reading in (pre, post, mixed):
        if isinstance(reading, NoReading):
            return reading
    assert isinstance(pre, Reading) and isinstance(post, Reading) and isinstance(mixed, Reading)  # narrowed
    if abs((pre.at - post.at).total_seconds()) > cfg.pairing_min * 60.0:
        return NoReading(
            f"the pre-oxygenator ({stamp(pre.at)}) and post-oxygenator ({stamp(post.at)}) saturations "
            f"were not taken within {num(cfg.pairing_min)} min of each other"
        )
    gap = post.value - mixed.value
    if gap < cfg.min_saturation_gap:
        return NoReading(
            f"post-oxygenator SO2 {num(post.value)} is within {num(cfg.min_saturation_gap)} of the "
            f"mixed-venous SO2 {num(mixed.value)} (sweep off or membrane failing?), "
            "so the formula is meaningless"
        )
    value = recirculation_fraction(
        pre_oxygenator_so2=pre.value, post_oxygenator_so2=post.value, mixed_venous_so2=mixed.value
    )
    if not 0.0 <= value <= 1.0:
        return NoReading(
            f"the saturations (pre {num(pre.value)}, post {num(post.value)}, "
            f"mixed venous {num(mixed.value)}) "
            f"give R = {num(value)}, outside 0–1: check the samples"
        )
    evidence: dict[str, EvidenceValue] = {
        **evidence_of("pre_oxygenator_so2", pre),
        **evidence_of("post_oxygenator_so2", post),
        **evidence_of("mixed_venous_so2", mixed),
    }
    words = f"pre {num(pre.value)}, post {num(post.value)}, mixed venous {num(mixed.value)} ({mixed.source})"
    return Reading(value, max(pre.at, post.at), words, 1), evidence


def evaluate(inp: RuleInput) -> Finding | None:
    """Judge the newest measured or computed recirculation fraction on a V-V run."""
    configuration = inp.context.configuration_at(inp.now)
    if configuration is None:
        return _report.indeterminate(
            "Cannot judge recirculation: the run's configuration is not recorded "
            "(the rule applies to V-V only)."
        )
    if configuration != "vv":
        return None
    cfg = inp.config.recirculation_high
    measured = inp.latest(inp.timeline.pair("recirculation_fraction"), max_age_h=cfg.max_age_h)
    computed = _computed(inp, cfg)
    if isinstance(measured, NoReading) and isinstance(computed, NoReading):
        return _report.indeterminate(
            f"Cannot judge recirculation: {measured.reason}, and it cannot be computed: {computed.reason}."
        )
    evidence: dict[str, EvidenceValue] = {"threshold_fraction": cfg.threshold_fraction}
    if isinstance(computed, NoReading) or (isinstance(measured, Reading) and measured.at >= computed[0].at):
        assert isinstance(measured, Reading)  # both missing was handled above
        evidence.update(evidence_of("recirculation_fraction", measured), basis="measured")
        what = f"Measured recirculation {pct(measured.value)} ({stamp(measured.at)})"
        value = measured.value
    else:
        reading, parts = computed
        evidence.update(parts, recirculation_fraction=reading.value, basis="computed from saturations")
        what = f"Recirculation {pct(reading.value)} from saturations ({reading.source})"
        value = reading.value
    if value > cfg.threshold_fraction:
        return _report.firing(
            "warning",
            f"{what} is above {pct(cfg.threshold_fraction)}. Check the cannula positions and tip-to-tip "
            "distance, the flow and the volume state.",
            evidence,
        )
    return _report.clear(f"{what}; alert above {pct(cfg.threshold_fraction)}.", evidence)


def columns(frame: Frame) -> Codes:
    """``evaluate`` at every moment of ``frame``: status and severity only."""
    cfg = frame.config.recirculation_high
    timeline = frame.timeline
    measured = frame.latest(timeline.pair("recirculation_fraction"), max_age_h=cfg.max_age_h)
    pre = frame.windowed(timeline.pair("pre_oxygenator_so2"), manual_max_age_h=cfg.max_age_h)
    post = frame.windowed(timeline.pair("post_oxygenator_so2"), manual_max_age_h=cfg.max_age_h)
    mixed = frame.latest(timeline.pair("mixed_venous_so2"), max_age_h=cfg.max_age_h)
    paired = np.abs(pre.at - post.at).astype(np.float64) / 1e6 <= cfg.pairing_min * 60.0
    gap = post.value - mixed.value
    computed_ok = pre.ok & post.ok & mixed.ok & paired & (gap >= cfg.min_saturation_gap)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = (pre.value - mixed.value) / (post.value - mixed.value)
    computed_ok &= (fraction >= 0.0) & (fraction <= 1.0)
    use_measured = ~computed_ok | (measured.ok & (measured.at >= np.maximum(pre.at, post.at)))
    value = np.where(use_measured, measured.value, fraction)
    codes = judged(measured.ok | computed_ok, value > cfg.threshold_fraction, WARNING)
    configuration = frame.configuration()
    unknown = np.array([c is None for c in configuration], dtype=np.bool_)
    other = np.array([c is not None and c != "vv" for c in configuration], dtype=np.bool_)
    codes = Codes(
        np.where(unknown, INDETERMINATE, codes.status).astype(np.int8),
        np.where(unknown, INFO, codes.severity).astype(np.int8),
    )
    return not_applicable_where(codes, other)


def lookback(config: SurveillanceConfig) -> timedelta:
    """Measured and computed recirculation count for ``max_age_h``."""
    return max(windowed_lookback(config), hours(config.recirculation_high.max_age_h))


RULE = Rule(
    id=RULE_ID,
    version=RULE_VERSION,
    severity="warning",
    title="Recirculation (V-V)",
    evaluate=evaluate,
    columns=columns,
    lookback=lookback,
    scope="V-V runs only",
)
