"""Engine of ``ecmo calc NAME --json '{...}'``: one registry of every public calculator in the core.

The registry is built from the ``CALCULATORS`` tuple (public function names) of each module in
:data:`CALCULATOR_MODULES`. Modules are imported lazily, on first use, and a module that does not exist yet
is skipped, so the command works while the core grows; a module that exists but fails to import is an error,
never silently skipped.

Command line (``ecmo calc`` forwards its arguments to :func:`main`; ``python -m ecmo_core.calc`` works too)::

    ecmo calc --list                               # one calculator name a line
    ecmo calc NAME --describe                      # its keywords, as JSON
    ecmo calc NAME --json '{"keyword": value}'     # run it, print its result as JSON
    ecmo calc NAME --json - < arguments.json       # read the JSON object from stdin

Exit status 0 on success, 2 on bad input (one line on stderr naming the field). See
``docs/calculators/cli.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import enum
import importlib
import inspect
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

from ecmo_core.errors import InfeasibleError, InputError

__all__ = [
    "CALCULATOR_MODULES",
    "calculator_names",
    "describe",
    "get_calculator",
    "main",
    "run_calculator",
    "to_jsonable",
]

#: Modules whose ``CALCULATORS`` tuples make up the registry (core-api §1–3 and the anticoagulation module).
CALCULATOR_MODULES: tuple[str, ...] = (
    "ecmo_core.physiology",
    "ecmo_core.oxygenation",
    "ecmo_core.scores",
    "ecmo_core.anticoagulation",
)

Calculator = Callable[..., object]

_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _registry() -> dict[str, Calculator]:
    # Rebuilt on each call: importlib caches modules, so this is cheap, and a module that lands while a
    # process runs (or that a test substitutes) is picked up without a cache to clear.
    registry: dict[str, Calculator] = {}
    origin: dict[str, str] = {}
    for module_name in CALCULATOR_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise  # the module exists but one of its own imports is missing: a bug to surface
            continue
        for name in getattr(module, "CALCULATORS", ()):
            function = getattr(module, name, None)
            if not callable(function):
                raise LookupError(f"{module_name}.CALCULATORS lists {name!r}, which is not a function there")
            if name in registry:
                raise LookupError(f"calculator {name!r} is defined by both {origin[name]} and {module_name}")
            registry[name] = function
            origin[name] = module_name
    return registry


def calculator_names() -> list[str]:
    """Return the names of every available calculator, sorted."""
    return sorted(_registry())


def get_calculator(name: str) -> Calculator:
    """Return the calculator called ``name``.

    Raises
    ------
    InputError
        ``field="name"`` when no calculator has that name; the message lists the names there are.
    """
    registry = _registry()
    if not isinstance(name, str) or name not in registry:
        raise InputError("name", f"unknown calculator {name!r}; use one of: {', '.join(sorted(registry))}")
    return registry[name]


def _keywords(function: Calculator) -> list[inspect.Parameter]:
    # Calculators take keyword-only arguments (core-api); *args/**kwargs are never part of a form.
    return [p for p in inspect.signature(function).parameters.values() if p.kind not in _VARIADIC]


def _annotation_text(annotation: object) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, str):  # modules use `from __future__ import annotations`
        return annotation
    return inspect.formatannotation(annotation)


def describe(name: str) -> list[dict[str, object]]:
    """Describe a calculator's keywords so that a form can be built for it.

    Returns
    -------
    list of dict
        One entry per keyword, in signature order: ``name``, ``annotation`` (the type as written, e.g.
        ``"float"``, ``"str"``, ``"Nomogram | Mapping[str, object] | None"``; ``""`` if unannotated),
        ``required`` (bool) and ``default`` (JSON-ready; ``None`` when required).
    """
    entries: list[dict[str, object]] = []
    for parameter in _keywords(get_calculator(name)):
        required = parameter.default is inspect.Parameter.empty
        entries.append(
            {
                "name": parameter.name,
                "annotation": _annotation_text(parameter.annotation),
                "required": required,
                "default": None if required else to_jsonable(parameter.default),
            }
        )
    return entries


def to_jsonable(value: object) -> object:
    """Convert a calculator result to plain JSON types.

    Dataclasses become dicts (field order kept), mappings (including ``MappingProxyType``) dicts with string
    keys, tuples and lists lists, sets sorted lists, enums their value, dates and datetimes ISO 8601 strings.
    Numbers, strings, booleans and ``None`` are returned as they are.

    Raises
    ------
    TypeError
        For any other type (a calculator returning one is a bug to fix there).
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [to_jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return [to_jsonable(item) for item in sorted(value, key=repr)]
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


def run_calculator(name: str, arguments: Mapping[str, object]) -> dict[str, object]:
    """Run a calculator with keyword ``arguments`` and return its result as a JSON-ready dict.

    The result is ``{"calculator": name, "result": ...}``: ``result`` is the converted return value (a
    number, a dict for a dataclass, a list for a tuple of them; see :func:`to_jsonable`).

    Raises
    ------
    InputError
        Unknown ``name`` (field ``"name"``); ``arguments`` not a mapping (field ``"arguments"``); a keyword
        the calculator does not take or a required keyword missing (field = that keyword); or any bad value
        the calculator itself refuses.
    InfeasibleError
        Valid inputs that together describe an impossible state.
    """
    function = get_calculator(name)
    if not isinstance(arguments, Mapping):
        raise InputError(
            "arguments", f"must be a mapping of keyword to value, got {type(arguments).__name__}"
        )
    parameters = {p.name: p for p in _keywords(function)}
    for key in arguments:
        if not isinstance(key, str):
            raise InputError(str(key), "keyword names must be strings")
        if key not in parameters:
            raise InputError(key, f"is not an input of {name}; its inputs are: {', '.join(parameters)}")
    for parameter in parameters.values():
        if parameter.default is inspect.Parameter.empty and parameter.name not in arguments:
            raise InputError(parameter.name, f"is required by {name}")
    return {"calculator": name, "result": to_jsonable(function(**arguments))}


class _ParserExit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors become one-line :class:`InputError` and ``--help`` returns from main."""

    def error(self, message: str) -> NoReturn:
        raise InputError("arguments", message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        # Only --help reaches here (error() is overridden above), and it prints before exiting.
        raise _ParserExit(status)


def _parser() -> _Parser:
    parser = _Parser(
        prog="ecmo calc",
        description="Run an ECMO Steward calculator and print its result as JSON.",
        epilog="Exit status: 0 on success, 2 on bad input (the error names the field).",
    )
    parser.add_argument("name", nargs="?", help="calculator name, e.g. titrate (see --list)")
    parser.add_argument(
        "--json",
        dest="arguments",
        metavar="JSON",
        default=None,
        help="keyword arguments as a JSON object, or - to read it from stdin",
    )
    parser.add_argument("--list", action="store_true", help="list the calculator names and exit")
    parser.add_argument("--describe", action="store_true", help="print the calculator's keywords as JSON")
    return parser


def _parse_arguments(text: str | None) -> dict[str, object]:
    if text is None:
        return {}
    if text == "-":
        text = sys.stdin.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(
            "json", f"is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}"
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            "json", f"must be a JSON object of keyword arguments, got a JSON {type(data).__name__}"
        )
    return data


def _error_line(err: InputError | InfeasibleError) -> str:
    text = f"{err.field}: {err.message}" if err.field else err.message
    return "ecmo calc: error: " + " ".join(text.split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ecmo calc``; ``argv`` are the arguments after ``calc`` (a leading ``"calc"`` is also accepted).

    Returns
    -------
    int
        0 on success; 2 on bad input, bad JSON or a usage error, with one line on stderr naming the field.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["calc"]:
        args = args[1:]
    try:
        options = _parser().parse_args(args)
        if options.list:
            for calculator in calculator_names():
                print(calculator)
            return 0
        if options.name is None:
            raise InputError("name", "give a calculator name (ecmo calc --list shows them)")
        if options.describe:
            output: object = describe(options.name)
        else:
            output = run_calculator(options.name, _parse_arguments(options.arguments))["result"]
    except _ParserExit as exit_:
        return exit_.status
    except (InputError, InfeasibleError) as err:
        print(_error_line(err), file=sys.stderr)
        return 2
    print(json.dumps(output, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
