"""Circuit surveillance rules (core-api §4): tri-state findings over ECMO telemetry.

Pure: no Django, no I/O, no clock (``now`` is passed in). See docs/rules/README.md.

>>> from ecmo_core.surveillance import Sample, evaluate, RunContext
>>> findings = evaluate(samples, now=now, context=RunContext(configuration="vv"))  # doctest: +SKIP
"""

from __future__ import annotations

from ecmo_core.surveillance.base import Rule, RuleInput
from ecmo_core.surveillance.config import (
    SECTIONS,
    AccessPressureLowConfig,
    AirDetectedConfig,
    AnticoagulationConfig,
    CheckOverdueConfig,
    DeltaPRiseConfig,
    EngineConfig,
    FlowPerRpmFallConfig,
    PfhbHighConfig,
    PostPo2LowConfig,
    RecirculationHighConfig,
    RuleConfig,
    SurveillanceConfig,
    config_from_mapping,
)
from ecmo_core.surveillance.context import context_from_mapping
from ecmo_core.surveillance.engine import evaluate
from ecmo_core.surveillance.model import (
    ANTICOAGULATION_TESTS,
    CONFIGURATIONS,
    SEVERITIES,
    STATUSES,
    Finding,
    RunContext,
    Sample,
    Severity,
    Status,
)
from ecmo_core.surveillance.parameters import PARAMETERS, ParameterSpec, check_value
from ecmo_core.surveillance.rules import RULES
from ecmo_core.surveillance.timeline import Timeline
from ecmo_core.surveillance.trend import delta_p_points, project_delta_p_crossing

__all__ = [
    "ANTICOAGULATION_TESTS",
    "CONFIGURATIONS",
    "PARAMETERS",
    "RULES",
    "SECTIONS",
    "SEVERITIES",
    "STATUSES",
    "AccessPressureLowConfig",
    "AirDetectedConfig",
    "AnticoagulationConfig",
    "CheckOverdueConfig",
    "DeltaPRiseConfig",
    "EngineConfig",
    "Finding",
    "FlowPerRpmFallConfig",
    "ParameterSpec",
    "PfhbHighConfig",
    "PostPo2LowConfig",
    "RecirculationHighConfig",
    "Rule",
    "RuleConfig",
    "RuleInput",
    "RunContext",
    "Sample",
    "Severity",
    "Status",
    "SurveillanceConfig",
    "Timeline",
    "check_value",
    "config_from_mapping",
    "context_from_mapping",
    "delta_p_points",
    "evaluate",
    "project_delta_p_crossing",
]
