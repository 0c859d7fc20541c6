"""Shared input checks (ecmo_core.validate).

- numbers: type, finiteness, inclusive and exclusive bounds, messages name the field and the range
- integers: whole numbers only
- fractions: a percentage is refused with the word "fraction"
- booleans: only real bools
- choices: only the listed strings
"""

from __future__ import annotations

import math

import pytest

from ecmo_core import validate as v
from ecmo_core.errors import InfeasibleError, InputError


def test_it_returns_floats_within_inclusive_bounds() -> None:
    assert v.number("x", 0, minimum=0, maximum=1) == 0.0
    assert v.number("x", 1, minimum=0, maximum=1) == 1.0


@pytest.mark.parametrize(
    ("kwargs", "value", "text"),
    [
        ({"minimum": 0, "maximum": 1}, 1.5, "[0, 1]"),
        ({"minimum": 0, "maximum": 1, "min_exclusive": True, "max_exclusive": True}, 0, "(0, 1)"),
        ({"minimum": 0, "maximum": 1, "max_exclusive": True}, 1, "[0, 1)"),
        ({"minimum": 5, "unit": "kg"}, 4, "≥ 5 kg"),
        ({"minimum": 5, "min_exclusive": True}, 5, "> 5"),
        ({"maximum": 5}, 6, "≤ 5"),
        ({"maximum": 5, "max_exclusive": True}, 5, "< 5"),
    ],
)
def test_it_names_the_field_and_range_when_out_of_range(
    kwargs: dict[str, object], value: float, text: str
) -> None:
    with pytest.raises(InputError) as err:
        v.number("weight_kg", value, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == "weight_kg"
    assert text in str(err.value)


@pytest.mark.parametrize("value", [True, "3", None, [1]])
def test_it_refuses_non_numbers(value: object) -> None:
    with pytest.raises(InputError, match="must be a number"):
        v.number("x", value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_it_refuses_non_finite_numbers(value: float) -> None:
    with pytest.raises(InputError, match="finite"):
        v.number("x", value)


def test_it_reports_no_range_when_unbounded() -> None:
    with pytest.raises(InputError) as err:
        v.number("x", "a")
    assert "accepted range" not in str(err.value)


def test_it_accepts_whole_numbers_only() -> None:
    assert v.integer("age_years", 40.0, minimum=18, maximum=100) == 40
    for bad in (40.5, True, "40", math.nan):
        with pytest.raises(InputError):
            v.integer("age_years", bad)
    with pytest.raises(InputError, match="accepted range"):
        v.integer("age_years", 17, minimum=18, maximum=100)


def test_it_calls_a_percentage_not_a_fraction() -> None:
    with pytest.raises(InputError, match="fraction") as err:
        v.fraction("so2", 95)
    assert "0.95" in str(err.value)
    assert v.fraction("so2", 0) == 0.0
    assert v.fraction("so2", 1) == 1.0


@pytest.mark.parametrize("value", [-0.1, math.nan, "0.9", True])
def test_it_refuses_bad_fractions(value: object) -> None:
    with pytest.raises(InputError, match="fraction"):
        v.fraction("so2", value)


def test_it_can_refuse_a_zero_fraction() -> None:
    with pytest.raises(InputError, match="above 0"):
        v.fraction("fio2", 0, allow_zero=False)


def test_it_accepts_only_real_booleans() -> None:
    assert v.boolean("flag", False) is False
    for bad in (0, 1, "true", None):
        with pytest.raises(InputError, match="true or false"):
            v.boolean("flag", bad)


def test_it_accepts_only_listed_choices() -> None:
    assert v.choice("sex", "male", ["male", "female"]) == "male"
    with pytest.raises(InputError, match="one of male, female"):
        v.choice("sex", "Male", ["male", "female"])


def test_errors_are_value_errors_with_fields() -> None:
    err = InfeasibleError("impossible", field="x")
    assert isinstance(err, ValueError) and err.field == "x" and str(err) == "impossible"
    assert isinstance(InputError("y", "bad"), ValueError)
