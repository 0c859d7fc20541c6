"""Sources in words a clinician can look up.

The core cites its thresholds with the keys of the project's clinical reference notes ("[S31, S2]", "[✔ S14]",
"[○]" for local practice). Those keys mean nothing on a ward. :func:`in_words` turns every bracketed group of keys
into the short citations below ("EOLIA / ELSO 2021 [S31, S2]" → "EOLIA / ELSO 2021 (EOLIA trial, NCT01470703;
ELSO VV ECMO guideline, Tonna 2021)"); the evidence marks ✔ (a primary source) and ◐ (a secondary one) are dropped
and ○ (local practice without a primary source) is said in words. A key without a citation here is left out of
the text rather than shown as a key; ``tests/core/test_citations.py`` checks every key the core uses has one.
"""

from __future__ import annotations

import re

# Short citations: enough to find the paper or guideline (first author, year, body); the full references are in
# docs/clinical-sources.md.
CITATIONS: dict[str, str] = {
    "S1": "ELSO general guidelines for all ECLS cases, 2017",
    "S2": "ELSO VV ECMO guideline, Tonna 2021",
    "S3": "ELSO VA ECMO interim guideline, Lorusso 2021",
    "S4": "ELSO anticoagulation guideline, McMichael 2022",
    "S5": "ELSO anticoagulation guideline, 2014",
    "S6": "ELSO ECPR interim guideline, Richardson 2021",
    "S12": "ELSO Maastricht nomenclature, Conrad 2018",
    "S25": "Alfred Hospital ECMO guideline",
    "S27": "Aissaoui echocardiographic weaning predictors",
    "S28": "VA ECMO weaning systematic review, Crit Care 2022",
    "S29": "VV ECMO weaning, textbook chapter",
    "S31": "EOLIA trial, NCT01470703",
    "S32": "Chung 2014, monitoring on VA ECMO",
    "S33": "Harnisch and Moerer 2021, contraindications to VV ECMO",
    "S46": "ASH protocol table, anticoagulation with extracorporeal circuits",
    "S47": "institutional laboratory target table",
    "S48": "Burstein 2019, direct thrombin inhibitors on ECMO",
    "S50": "Braune 2020, Ann Intensive Care",
    "S53": "ELSO heparin dosing compared, J Intensive Care 2015",
    "S54": "ECPR trial selection criteria",
    "S63": "Epis and Belliato 2018, oxygenator performance",
    "S75": "heparin-free VV ECMO after a bolus, case series",
    "S80": "weight-based heparin nomogram, Am Fam Physician 2004",
    "S83": "VV ECMO weaning course, after ELSO",
    "S89": "low-flow time in in-hospital ECPR, J Clin Med 2025",
    "S93": "LV distension and venting, J Thorac Dis 2019",
}

PRACTICE = "local practice, no primary source"

# A bracketed group holding at least one key or evidence mark: "[S31, S2]", "[✔ S14 Walker 2009, S15]", "[○]".
_GROUP = re.compile(r"\s*\[([^\]]*(?:\bS\d+[a-z]?\b|[✔◐○])[^\]]*)\]")
_KEY = re.compile(r"\bS(\d+)[a-z]?\b")


def _cite(group: str) -> str:
    parts: list[str] = []
    for piece in re.split(r"[;,]", group):
        key = _KEY.search(piece)
        if key is not None:
            citation = CITATIONS.get(f"S{key.group(1)}")
            if citation is not None and citation not in parts:
                parts.append(citation)
        elif "○" in piece and PRACTICE not in parts:
            parts.append(PRACTICE)
    return f" ({'; '.join(parts)})" if parts else ""


# "ref §5.1": a section of the project's reference notes, taken out with the joining punctuation before it.
_SECTION = re.compile(r"(?:;\s*)?\bref(?:erence)?\s*§\s*[0-9]+(?:\.[0-9]+)*:?\s*")


def in_words(text: str) -> str:
    """``text`` with its source keys as citations and the notes' section numbers taken out ("ref §5.1 Pplat < 30
    [S29]" → "Pplat < 30 (VV ECMO weaning, textbook chapter)"); text with neither is returned unchanged."""
    cited = _GROUP.sub(lambda match: _cite(match.group(1)), text)
    if _SECTION.search(cited) is None:
        return cited
    return re.sub(r"\s{2,}", " ", _SECTION.sub(" ", cited)).strip(" ;:")


def keys(text: str) -> set[str]:
    """The source keys cited in ``text`` ("S31", "S2" …), sub-letters dropped ("S25b" → "S25")."""
    found: set[str] = set()
    for group in _GROUP.finditer(text):
        found.update(f"S{number}" for number in _KEY.findall(group.group(1)))
    return found
