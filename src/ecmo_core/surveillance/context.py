"""Build a :class:`RunContext` from a mapping, such as the ``[run]`` table of a replay TOML file.

Times are TOML offset date-times (``2025-01-01T10:05:00Z``) or ISO 8601 strings with an offset; a time
without an offset is an :class:`InputError`. Errors name the key as ``run.<key>`` (``run.check_times[2]``).

Keys (all optional)::

    configuration = "vv"                                   # vv, va, vav, vva ("V-V" accepted)
    configuration_history = [[2025-01-03T10:00:00Z, "vav"]]
    run_started_at = 2025-01-01T10:05:00Z
    oxygenator_installed_at = [2025-01-01T10:05:00Z, 2025-01-07T14:21:10Z]   # one time or a list
    pump_head_installed_at = 2025-01-01T10:05:00Z
    weaning_trial_active = false
    weaning_trials = [[2025-01-13T08:00:00Z, 2025-01-13T16:30:00Z], [2025-01-14T08:00:00Z]]  # open = running
    last_check_at = 2025-01-01T11:40:00Z
    check_times = [2025-01-01T11:40:00Z, 2025-01-01T13:50:00Z]
    [run.anticoagulation_targets]
    anti_xa_iu_ml = [0.30, 0.50]
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ecmo_core import validate
from ecmo_core.errors import InputError
from ecmo_core.surveillance.model import RunContext, utc

_KEYS = (
    "configuration",
    "configuration_history",
    "run_started_at",
    "oxygenator_installed_at",
    "pump_head_installed_at",
    "weaning_trial_active",
    "weaning_trials",
    "anticoagulation_targets",
    "last_check_at",
    "check_times",
)


def parse_time(field_name: str, value: object) -> datetime:
    """A TOML date-time or an ISO 8601 string, with a UTC offset, as an aware UTC datetime."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(field_name, f"{value!r} is not an ISO 8601 date and time") from None
    return utc(field_name, value)


def _list(field_name: str, value: object) -> list[object]:
    if not isinstance(value, list | tuple):
        raise InputError(field_name, f"must be a list, got {value!r}")
    return list(value)


def _times(field_name: str, value: object) -> list[datetime]:
    if isinstance(value, list | tuple):
        return [parse_time(f"{field_name}[{i}]", item) for i, item in enumerate(value)]
    return [parse_time(field_name, value)]


def context_from_mapping(mapping: Mapping[str, object], *, prefix: str = "run") -> RunContext:
    """Build a :class:`RunContext` from a mapping (see the module docstring for keys and formats)."""
    if not isinstance(mapping, Mapping):
        raise InputError(prefix, f"must be a table, got {mapping!r}")
    kwargs: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}.{key}"
        if key not in _KEYS:
            raise InputError(name, f"unknown key; accepted: {', '.join(_KEYS)}")
        if key in ("run_started_at", "last_check_at"):
            kwargs[key] = parse_time(name, value)
        elif key in ("oxygenator_installed_at", "pump_head_installed_at"):
            times = _times(name, value)
            kwargs[key.replace("installed_at", "install_times")] = tuple(times)
        elif key == "check_times":
            kwargs[key] = tuple(_times(name, value))
        elif key == "configuration_history":
            history = []
            for i, item in enumerate(_list(name, value)):
                pair = _list(f"{name}[{i}]", item)
                if len(pair) != 2:
                    raise InputError(f"{name}[{i}]", f"must be [since, configuration], got {item!r}")
                history.append((parse_time(f"{name}[{i}]", pair[0]), pair[1]))
            kwargs[key] = tuple(history)
        elif key == "weaning_trials":
            trials = []
            for i, item in enumerate(_list(name, value)):
                pair = _list(f"{name}[{i}]", item)
                if len(pair) not in (1, 2):
                    raise InputError(f"{name}[{i}]", f"must be [start] or [start, end], got {item!r}")
                end = parse_time(f"{name}[{i}]", pair[1]) if len(pair) == 2 else None
                trials.append((parse_time(f"{name}[{i}]", pair[0]), end))
            kwargs[key] = tuple(trials)
        elif key == "weaning_trial_active":
            kwargs[key] = validate.boolean(name, value)
        elif key == "anticoagulation_targets":
            if not isinstance(value, Mapping):
                raise InputError(name, f"must be a table of test = [low, high], got {value!r}")
            kwargs[key] = dict(value)
        else:  # configuration
            kwargs[key] = value
    try:
        return RunContext(**kwargs)
    except InputError as error:
        raise InputError(f"{prefix}.{error.field}", error.message) from None
