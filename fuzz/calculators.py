"""Harness: every calculator with fuzzer-chosen keyword values → a result, or ``InputError``/``InfeasibleError``.

The bytes choose a calculator and, for each of its keywords, a value of any JSON type (what ``ecmo calc`` and
the web calculators pass in): finite and non-finite numbers, strings, booleans, None, lists.
"""

from __future__ import annotations

import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    from ecmo_core import calc
    from ecmo_core.errors import InfeasibleError, InputError

NAMES = calc.calculator_names()


def _value(fdp: Any) -> object:
    kind = fdp.ConsumeIntInRange(0, 7)
    if kind == 0:
        return fdp.ConsumeFloat()
    if kind == 1:
        return fdp.ConsumeIntInRange(-1000, 100000)
    if kind == 2:
        return fdp.ConsumeBool()
    if kind == 3:
        return None
    if kind == 4:
        return fdp.ConsumeUnicodeNoSurrogates(12)
    if kind == 5:
        return [fdp.ConsumeUnicodeNoSurrogates(8) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    if kind == 6:
        return fdp.ConsumeFloatInRange(0.0, 1.0)
    return fdp.ConsumeFloatInRange(0.0, 300.0)


def test_one(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    name = NAMES[fdp.ConsumeIntInRange(0, len(NAMES) - 1)]
    keywords = [str(k["name"]) for k in calc.describe(name)]
    arguments = {k: _value(fdp) for k in keywords if fdp.ConsumeIntInRange(0, 9) > 0}
    try:
        calc.run_calculator(name, arguments)
    except (InputError, InfeasibleError) as exc:
        assert str(exc)


def main() -> None:
    atheris.instrument_all()  # every loaded module, including calculators imported lazily
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
