"""The complication code list (``complications.toml``): ELSO Registry categories and items with their ECLS CDM
concepts. One small loader, read once; the file is data a clinician reviews, not code."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CODE_FILE = Path(__file__).with_name("complications.toml")


@dataclass(frozen=True)
class Category:
    code: str
    label: str


@dataclass(frozen=True)
class ComplicationCode:
    code: str
    category: str
    label: str
    ecls_cdm: str = ""
    signal: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodeList:
    categories: tuple[Category, ...]
    codes: tuple[ComplicationCode, ...]

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def get(self, code: str) -> ComplicationCode | None:
        return next((c for c in self.codes if c.code == code), None)

    def in_category(self, category: str) -> list[ComplicationCode]:
        return [c for c in self.codes if c.category == category]

    def for_rule(self, rule_id: str) -> ComplicationCode | None:
        """The code an alert from ``rule_id`` suggests (the first that lists the rule as its signal)."""
        return next((c for c in self.codes if rule_id in c.signal), None)

    def category_choices(self) -> list[tuple[str, str]]:
        return [(c.code, c.label) for c in self.categories]

    def code_choices(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Grouped choices for a select: one optgroup per category."""
        return [
            (cat.label, [(c.code, c.label) for c in self.in_category(cat.code)]) for cat in self.categories
        ]


def _load(path: Path) -> CodeList:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    categories = tuple(Category(code=c["code"], label=c["label"]) for c in data["category"])
    known = {c.code for c in categories}
    codes: list[ComplicationCode] = []
    seen: set[str] = set()
    for row in data["code"]:
        if row["category"] not in known:
            raise ValueError(f"{path.name}: code {row['code']} names unknown category {row['category']}")
        if row["code"] in seen:
            raise ValueError(f"{path.name}: code {row['code']} appears twice")
        seen.add(row["code"])
        codes.append(
            ComplicationCode(
                code=row["code"],
                category=row["category"],
                label=row["label"],
                ecls_cdm=row.get("ecls_cdm", ""),
                signal=tuple(row.get("signal", ())),
            )
        )
    return CodeList(categories=categories, codes=tuple(codes))


@cache
def code_list() -> CodeList:
    return _load(CODE_FILE)
