"""Surveillance settings in clinical words (ecmo_core.surveillance.setting_words).

- [x] every setting of every section has a clinical label (a new setting must be given one here)
- [x] a pressure setting names the parameter whose local unit it takes; fractions say they are shown in %
- [x] sources read as evidence, never as a document section number
"""

from __future__ import annotations

from ecmo_core.surveillance import SECTIONS, SurveillanceConfig
from ecmo_core.surveillance.parameters import PARAMETERS
from ecmo_core.surveillance.setting_words import _WORDS, SettingWords, source_words, words


def test_every_setting_has_clinical_words() -> None:
    config = SurveillanceConfig()
    listed = set()
    for section in SECTIONS:
        for setting in type(config.section(section)).describe():
            key = f"{section}.{setting['name']}"
            assert key in _WORDS, f"{key}: add its clinical label to setting_words._WORDS"
            listed.add(key)
            found = words(section, setting["name"])
            assert found.parameter is None or found.parameter in PARAMETERS
            assert "_" not in found.label and "§" not in source_words(setting["source"])
    assert listed == set(_WORDS)  # nothing listed that is not a setting


def test_it_names_units_and_percentages() -> None:
    assert words("oxygenator.post_po2_low", "threshold_mmhg") == SettingWords(
        "Alert below", "post_oxygenator_po2_mmhg"
    )
    assert words("oxygenator.delta_p_rise", "rise_fraction").percent is True
    # a setting not (yet) listed reads as its name in words
    assert words("engine", "new_thing_min") == SettingWords("New thing min")


def test_it_spells_sources_as_evidence() -> None:
    assert source_words("reference §1.2 [○]; core-api §4") == (
        "common practice, no primary source (a site default); ECMO Steward default"
    )
    assert source_words("reference §3.3 [✔ S46]") == "published source"
    assert source_words("reference §2.3 [◐ S9]") == "secondary source (a named guideline)"
    assert source_words("reference §3.2; local practice") == "clinical literature review; local practice"
    assert source_words("demo-scenarios §9; local practice") == (
        "console behaviour (a disconnected flow probe reads 0); local practice"
    )
    assert source_words("other-doc §2") == "project documentation"
    assert source_words("core-api §4; core-api §4") == "ECMO Steward default"
