"""Input checks shared by every calculator, model and rule.

Each check returns the value as a plain Python type or raises :class:`InputError` naming the field and the
accepted range. Nothing is clamped. ``bool`` is rejected where a number is due (``True`` is an ``int`` in
Python, and a form that sends a checkbox into a pressure field is a bug worth hearing about).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TypeVar

from ecmo_core.errors import InputError

T = TypeVar("T", bound=str)


def _fmt(x: float) -> str:
    return f"{x:g}"


def number(
    field: str,
    value: object,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_exclusive: bool = False,
    max_exclusive: bool = False,
    unit: str = "",
) -> float:
    """Return ``value`` as a finite float within [minimum, maximum] (bounds optional, inclusive by default)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(
            field,
            f"must be a number{_range_text(minimum, maximum, min_exclusive, max_exclusive, unit)}"
            f", got {value!r}",
        )
    result = float(value)
    if not math.isfinite(result):
        raise InputError(field, f"must be a finite number, got {value!r}")
    too_low = minimum is not None and (result <= minimum if min_exclusive else result < minimum)
    too_high = maximum is not None and (result >= maximum if max_exclusive else result > maximum)
    if too_low or too_high:
        raise InputError(
            field,
            f"{_fmt(result)}{(' ' + unit) if unit else ''} is outside the accepted range"
            f"{_range_text(minimum, maximum, min_exclusive, max_exclusive, unit)}",
        )
    return result


def integer(
    field: str, value: object, *, minimum: int | None = None, maximum: int | None = None, unit: str = ""
) -> int:
    """Return ``value`` as an int within [minimum, maximum]; a float with a fractional part is refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(
            field, f"must be a whole number{_range_text(minimum, maximum, False, False, unit)}, got {value!r}"
        )
    if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
        raise InputError(field, f"must be a whole number, got {value!r}")
    result = int(value)
    number(field, result, minimum=minimum, maximum=maximum, unit=unit)
    return result


def fraction(field: str, value: object, *, allow_zero: bool = True) -> float:
    """Return a fraction 0–1. A value above 1 is almost always a percentage passed by mistake, so say so."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field, f"must be a fraction between 0 and 1, got {value!r}")
    result = float(value)
    if math.isfinite(result) and result > 1.0:
        raise InputError(
            field,
            f"{_fmt(result)} is not a fraction: give a fraction between 0 and 1 "
            f"(e.g. {_fmt(result / 100.0)} rather than {_fmt(result)} %)",
        )
    if not math.isfinite(result) or result < 0.0 or (result == 0.0 and not allow_zero):
        lower = "0" if allow_zero else "above 0"
        raise InputError(field, f"must be a fraction from {lower} to 1, got {_fmt(result)}")
    return result


def boolean(field: str, value: object) -> bool:
    """Return a real bool; 0/1 and strings are refused so that a mistyped field is not read as True."""
    if not isinstance(value, bool):
        raise InputError(field, f"must be true or false, got {value!r}")
    return value


def choice(field: str, value: object, choices: Iterable[T]) -> T:
    """Return ``value`` if it is one of ``choices`` (lower-case strings)."""
    options = tuple(choices)
    for option in options:
        if value == option:
            return option
    raise InputError(field, f"must be one of {', '.join(options)}; got {value!r}")


def _range_text(
    minimum: float | None, maximum: float | None, min_exclusive: bool, max_exclusive: bool, unit: str
) -> str:
    u = f" {unit}" if unit else ""
    if minimum is not None and maximum is not None:
        lo = "(" if min_exclusive else "["
        hi = ")" if max_exclusive else "]"
        return f" (accepted range {lo}{_fmt(minimum)}, {_fmt(maximum)}{hi}{u})"
    if minimum is not None:
        return f" (accepted range {'>' if min_exclusive else '≥'} {_fmt(minimum)}{u})"
    if maximum is not None:
        return f" (accepted range {'<' if max_exclusive else '≤'} {_fmt(maximum)}{u})"
    return ""
