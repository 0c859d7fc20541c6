"""Shared fixtures for the perfusion tests: the illustrative demo catalogue, loaded through the CSV import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecmo_web.kernel import SystemActor
from ecmo_web.perfusion.actions.catalogue import import_catalogue
from ecmo_web.runs.models import CatalogueItem

OPERATOR = SystemActor("system:test-operator")
DEMO_CSV = Path(__file__).resolve().parents[2] / "src/ecmo_web/perfusion/data/demo_catalogue.csv"


@pytest.fixture
def catalogue(db: Any) -> dict[str, CatalogueItem]:
    """Items by model name (Generic maker), from the same CSV the demo loads."""
    import_catalogue(actor=OPERATOR, text=DEMO_CSV.read_text(encoding="utf-8"))
    CatalogueItem.objects.get_or_create(kind="console", maker="Generic", model="Console C")
    return {i.model: i for i in CatalogueItem.objects.all()}
