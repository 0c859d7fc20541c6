"""Spec checklist — site settings (core-api §4 "every default is a site setting"; STYLE.md; reference intro):

- [x] every rule has a section with defaults; every setting declares a range, a unit and a source
- [x] a value outside its site range raises InputError naming the dotted setting and the accepted range
      (e.g. ``oxygenator.post_po2_low.threshold_mmhg`` 150–200; ``recirculation.high.threshold_fraction``
      0.2–0.3); wrong types (a string, a boolean for a number, a float for a whole number) are refused
- [x] ``config_from_mapping`` reads nested (TOML) or flat sections, keeps defaults for what is missing, and
      names unknown sections and settings
- [x] docs/rules/<rule>.md lists every setting of its rule
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecmo_core.errors import InputError
from ecmo_core.surveillance import (
    RULES,
    SECTIONS,
    DeltaPRiseConfig,
    EngineConfig,
    PostPo2LowConfig,
    RecirculationHighConfig,
    SurveillanceConfig,
    config_from_mapping,
)
from ecmo_core.surveillance.config import RuleConfig, Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"


def test_it_has_a_section_for_the_engine_and_every_rule() -> None:
    assert SECTIONS == ("engine", *SECTIONS[1:])
    assert sorted(SECTIONS[1:]) == sorted(RULES)
    config = SurveillanceConfig()
    for rule_id in RULES:
        assert isinstance(config.section(rule_id), RuleConfig)
        assert config.enabled(rule_id)
    assert isinstance(config.section("engine"), EngineConfig)


def test_it_declares_a_range_unit_and_source_for_every_setting() -> None:
    config = SurveillanceConfig()
    for section in SECTIONS:
        for setting in type(config.section(section)).describe():
            assert setting["source"], setting
            if isinstance(setting["default"], bool):  # on/off settings (enabled, resolve_on_next_check)
                assert setting["minimum"] is None and setting["maximum"] is None, setting
            else:
                assert setting["minimum"] <= setting["default"] <= setting["maximum"], setting


def test_it_documents_every_setting() -> None:
    config = SurveillanceConfig()
    for rule_id in RULES:
        text = (DOCS / f"{rule_id}.md").read_text(encoding="utf-8")
        for setting in type(config.section(rule_id)).describe():
            assert f"`{setting['name']}`" in text, (rule_id, setting["name"])
    readme = (DOCS / "README.md").read_text(encoding="utf-8")
    for setting in EngineConfig.describe():
        assert f"`{setting['name']}`" in readme, setting["name"]


def test_it_has_the_core_api_defaults() -> None:
    config = SurveillanceConfig()
    assert config.engine.median_window_min == 10.0
    assert config.delta_p_rise.rise_fraction == 0.5 and config.delta_p_rise.baseline_hours == 6.0
    assert config.post_po2_low.threshold_mmhg == 150.0 and config.post_po2_low.min_fdo2 == 0.95
    assert config.flow_per_rpm_fall.fall_fraction == 0.2
    assert config.access_pressure_low.threshold_mmhg == -100.0
    assert (config.pfhb_high.warning_mg_dl, config.pfhb_high.critical_mg_dl) == (10.0, 50.0)
    assert config.recirculation_high.threshold_fraction == 0.30
    assert config.check_overdue.overdue_min == 75.0


@pytest.mark.parametrize(
    ("make", "field", "range_text"),
    [
        (
            lambda: PostPo2LowConfig(threshold_mmhg=120),
            "oxygenator.post_po2_low.threshold_mmhg",
            "[150, 200] mmHg",
        ),
        (
            lambda: RecirculationHighConfig(threshold_fraction=0.35),
            "recirculation.high.threshold_fraction",
            "[0.2, 0.3]",
        ),
        (lambda: DeltaPRiseConfig(rise_fraction="0.5"), "oxygenator.delta_p_rise.rise_fraction", "[0.2, 1]"),
        (lambda: DeltaPRiseConfig(enabled=1), "oxygenator.delta_p_rise.enabled", "true or false"),
        (lambda: EngineConfig(min_window_samples=2.5), "engine.min_window_samples", "whole number"),
        (lambda: EngineConfig(median_window_min=True), "engine.median_window_min", "[1, 60] min"),
    ],
)
def test_it_refuses_values_outside_the_site_range(make: Any, field: str, range_text: str) -> None:
    with pytest.raises(InputError) as error:
        make()
    assert error.value.field == field
    assert range_text in str(error.value)


def test_it_normalises_whole_numbers_given_for_settings() -> None:
    assert PostPo2LowConfig(threshold_mmhg=180).threshold_mmhg == 180.0
    assert isinstance(EngineConfig(min_window_samples=5.0).min_window_samples, int)


def test_it_refuses_a_section_of_the_wrong_type() -> None:
    with pytest.raises(InputError) as error:
        SurveillanceConfig(post_po2_low=DeltaPRiseConfig())  # type: ignore[arg-type]
    assert error.value.field == "post_po2_low"


def test_it_reads_nested_sections_as_toml_gives_them() -> None:
    config = config_from_mapping(
        {
            "engine": {"median_window_min": 15},
            "oxygenator": {"post_po2_low": {"threshold_mmhg": 180}, "delta_p_rise": {"enabled": False}},
            "recirculation.high": {"threshold_fraction": 0.2},
        }
    )
    assert config.engine.median_window_min == 15.0
    assert config.post_po2_low.threshold_mmhg == 180.0
    assert not config.enabled("oxygenator.delta_p_rise")
    assert config.recirculation_high.threshold_fraction == 0.2
    assert config.pfhb_high == SurveillanceConfig().pfhb_high


@pytest.mark.parametrize(
    ("mapping", "field", "text"),
    [
        (
            {"oxygenator": {"post_po2_low": {"threshold_mmhg": 120}}},
            "oxygenator.post_po2_low.threshold_mmhg",
            "150",
        ),
        ({"oxygenator": {"post_po2": {}}}, "oxygenator.post_po2", "unknown section"),
        ({"pumps": 3}, "pumps", "unknown section"),
        ({"engine": {"window": 3}}, "engine.window", "unknown setting; accepted: median_window_min"),
        ({"engine": 3}, "engine", "must be a table of settings"),
        ({"oxygenator": {"delta_p_rise": [1]}}, "oxygenator.delta_p_rise", "must be a table of settings"),
    ],
)
def test_it_names_what_is_wrong_in_a_mapping(mapping: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(InputError) as error:
        config_from_mapping(mapping)
    assert error.value.field == field
    assert text in str(error.value)


def test_it_refuses_a_mapping_that_is_not_one() -> None:
    with pytest.raises(InputError) as error:
        config_from_mapping([("engine", {})])  # type: ignore[arg-type]
    assert error.value.field == "config"


def test_it_describes_settings_for_forms() -> None:
    described = {s["name"]: s for s in PostPo2LowConfig.describe()}
    assert described["threshold_mmhg"] == {
        "name": "threshold_mmhg",
        "default": 150.0,
        "minimum": 150,
        "maximum": 200,
        "unit": "mmHg",
        "source": "reference §1.2 [○]",
    }
    assert Settings.describe() == []
