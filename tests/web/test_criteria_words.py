"""Pathway criteria in clinical words (``decisions.criteria_words``).

- [x] every criterion of every default set has a clinical name (no code, no underscore)
- [x] parameter codes take the parameter registry's label; an unknown key is humanised
- [x] sources lose the clinical reference's section numbers, say "[○]" in words and read as citations
"""

from __future__ import annotations

import pytest

from ecmo_core import pathways
from ecmo_web.decisions import criteria_words
from ecmo_web.decisions.criteria import DEFAULTS


def test_every_default_criterion_has_a_clinical_name() -> None:
    for criteria in DEFAULTS.values():
        for row in pathways.criteria_table(criteria):
            name = criteria_words.label(str(row["key"]))
            assert "_" not in name and name != row["key"], row["key"]
            shown = criteria_words.source(str(row["source"]))
            assert "§" not in shown and "[S" not in shown, row["source"]


def test_parameter_codes_and_unknown_keys() -> None:
    assert criteria_words.label("blood_flow_l_min").startswith("Blood flow")
    assert criteria_words.label("pf_severe_mmhg") == "P/F ratio, severe (mmHg)"
    assert criteria_words.label("some_new_key") == "Some new key"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("ref §5.1 Pplat < 30 [S29]", "Pplat < 30 (VV ECMO weaning, textbook chapter)"),
        (
            "site default [○]; ref §5.1 'stable PaCO2'",
            "site default (local practice, no primary source) 'stable PaCO2'",
        ),
        (
            "ref §6.2: ARREST-type exclusion needs two or more findings [S54]",
            "ARREST-type exclusion needs two or more findings (ECPR trial selection criteria)",
        ),
        (
            "witnessed arrest, no-flow < 5 min [S6]",
            "witnessed arrest, no-flow < 5 min (ELSO ECPR interim guideline, Richardson 2021)",
        ),
    ],
)
def test_sources_lose_section_numbers(text: str, shown: str) -> None:
    assert criteria_words.source(text) == shown
