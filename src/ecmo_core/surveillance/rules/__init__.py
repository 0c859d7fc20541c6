"""The rule plugins, one small module each (STYLE.md lesson 10). Order here is the order of findings."""

from __future__ import annotations

from types import MappingProxyType

from ecmo_core.surveillance.base import Rule
from ecmo_core.surveillance.rules import (
    access_pressure,
    air,
    anticoagulation,
    documentation,
    hemolysis,
    oxygenator_delta_p,
    oxygenator_post_po2,
    pump_flow_per_rpm,
    recirculation,
)

_ALL: tuple[Rule, ...] = (
    air.RULE,
    oxygenator_post_po2.RULE,
    oxygenator_delta_p.RULE,
    pump_flow_per_rpm.RULE,
    access_pressure.RULE,
    hemolysis.RULE,
    recirculation.RULE,
    anticoagulation.RULE,
    documentation.RULE,
)

RULES: MappingProxyType[str, Rule] = MappingProxyType({rule.id: rule for rule in _ALL})
"""Every rule by id (read-only, in evaluation order)."""
