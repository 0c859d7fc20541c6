"""Source keys become citations (ecmo_core.citations).

- [x] a group of keys becomes its citations, in order, each once; text without keys is unchanged
- [x] the reference notes' section numbers ("ref §5.1") are taken out
- [x] evidence marks: ✔ and ◐ dropped, ○ said in words; a key without a citation is dropped, never shown
- [x] every key in a string the core can put on a page (any string constant that is not a docstring) has a
  citation, so no page ever loses a source silently
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ecmo_core import citations
from ecmo_core.citations import CITATIONS, PRACTICE, in_words, keys

CORE = Path(citations.__file__).resolve().parent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "EOLIA / ELSO 2021 [S31, S2]",
            "EOLIA / ELSO 2021 (EOLIA trial, NCT01470703; ELSO VV ECMO guideline, Tonna 2021)",
        ),
        (
            "Aissaoui ≥ 6 [S27]; review > 10 [S28]: configurable",
            f"Aissaoui ≥ 6 ({CITATIONS['S27']}); review > 10 ({CITATIONS['S28']}): configurable",
        ),
        ("table [✔ S14 Walker 2009, S2]", f"table ({CITATIONS['S2']})"),
        ("bolus [✔ S25b, S25c]", f"bolus ({CITATIONS['S25']})"),
        ("site protocol [○]", f"site protocol ({PRACTICE})"),
        ("weak [✔ S52, weak / ○]", f"weak ({PRACTICE})"),
        ("unknown only [S999]", "unknown only"),
        ("no keys here [see below]", "no keys here [see below]"),
        ("ref §5.1 Pplat < 30 [S29]", f"Pplat < 30 ({CITATIONS['S29']})"),
        ("site default [○]; ref §5.1: stable", f"site default ({PRACTICE}) stable"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_it_turns_keys_into_citations(text: str, expected: str) -> None:
    assert in_words(text) == expected


def test_it_lists_the_keys_of_a_text() -> None:
    assert keys("A [S31, S2]; B [✔ S25b] C [○] D [note]") == {"S31", "S2", "S25"}
    assert keys("none") == set()


def _page_strings() -> list[tuple[str, str]]:
    """(module, text) of every string constant in the core that is not a docstring."""
    found: list[tuple[str, str]] = []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                found.append((path.name, node.value))
    return found


def test_every_key_the_core_can_show_has_a_citation() -> None:
    strings = _page_strings()
    used = {key for _, text in strings for key in keys(text)}
    assert used, "the scan found no keys: it is not reading the core"
    missing = sorted(used - set(CITATIONS), key=lambda k: int(k[1:]))
    assert not missing, f"keys without a citation in ecmo_core.citations: {missing}"
    key = re.compile(r"\[[✔◐○]?\s*S\d")
    for module, text in strings:
        assert not key.search(in_words(text)), (module, text)
