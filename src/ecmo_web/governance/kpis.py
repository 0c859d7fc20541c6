"""The bridge to the program KPIs (``ecmo_core.quality.KPIS``, built by the quality app).

A QI measure stores a KPI's key. While the KPI registry is not installed, :func:`keys` returns None and measures
hold only the data points entered by hand.
"""

from __future__ import annotations

import importlib
from typing import Any


def _registry() -> Any:
    try:
        return importlib.import_module("ecmo_core.quality")
    except ImportError:
        return None


def keys() -> frozenset[str] | None:
    """The known KPI keys, or None when no KPI registry is installed (any well-formed key is then accepted)."""
    module = _registry()
    if module is None:
        return None
    return frozenset(d.key for d in module.KPIS)


def label(key: str) -> str:
    module = _registry()
    if module is not None:
        for d in module.KPIS:
            if d.key == key:
                return str(d.label)
    return key.replace("_", " ").replace(".", " ").capitalize()
