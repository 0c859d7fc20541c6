"""``ecmo replay``: evaluate the surveillance rules along a recorded timeline and list every alert transition.

A replay answers "what would the rules have said, and when?" for a wide CSV of telemetry (core-api §5):
one row per moment, ``observed_at`` plus any parameter columns, an empty cell for a missing value. The rules
are evaluated at each distinct sample time (or every ``step``) with one indexed :class:`Timeline`, so a
multi-day minute-by-minute record replays in about a second. Alerts are state transitions (STYLE.md lesson 3):
a rule appears (``None`` → status), changes status or severity, or stops applying (status → ``None``).

Everything here is pure except :func:`main`, the command-line entry, which reads the two files and prints.
The TOML format and an example are in docs/rules/replay.md.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import io
import json
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from ecmo_core.errors import InputError
from ecmo_core.surveillance import (
    PARAMETERS,
    RULES,
    RunContext,
    Sample,
    Severity,
    Status,
    SurveillanceConfig,
    Timeline,
    config_from_mapping,
    context_from_mapping,
)
from ecmo_core.surveillance.engine import changes, timeline_of
from ecmo_core.surveillance.model import DEVICE, STATUSES, iso, utc
from ecmo_core.surveillance.timeline import Micros, micros

OBSERVED_AT = "observed_at"


class CsvInputError(InputError):
    """A bad cell or header in a wide CSV: ``row`` is the 1-based line number (header = row 1)."""

    def __init__(self, row: int, column: str, message: str) -> None:
        super().__init__(column, message)
        self.row = row
        self.column = column

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class Transition:
    """One alert transition: at ``at`` rule ``rule_id`` went from ``from_status`` to ``to_status``.

    ``from_status`` is ``None`` the first time a rule gives a finding; ``to_status`` is ``None`` when it stops
    applying (e.g. a weaning trial starts). A change of severity alone (warning → critical) is a transition
    too. ``severity`` and ``message`` are those of the new finding.
    """

    at: datetime
    rule_id: str
    from_status: Status | None
    to_status: Status | None
    severity: Severity
    message: str

    def as_dict(self) -> dict[str, str | None]:
        """``{"at", "rule_id", "from", "to", "severity", "message"}`` with ``at`` in ISO 8601 UTC."""
        return {
            "at": iso(self.at),
            "rule_id": self.rule_id,
            "from": self.from_status,
            "to": self.to_status,
            "severity": self.severity,
            "message": self.message,
        }

    def as_line(self) -> str:
        """``time  rule_id  old → new  message``; a firing status carries its severity."""
        new: str = "not applicable" if self.to_status is None else self.to_status
        if self.to_status == "firing":
            new = f"firing ({self.severity})"
        return f"{iso(self.at)}  {self.rule_id}  {self.from_status or '—'} → {new}  {self.message}"


# --- CSV ------------------------------------------------------------------------------------------------


def _column(index: int, name: str, seen: set[tuple[str, str]]) -> tuple[str, str]:
    code, suffix, source = name.partition("@")
    code, source = code.strip(), (source.strip() if suffix else DEVICE)
    if not code:
        raise CsvInputError(1, f"#{index + 1}", "the column has no name")
    if code not in PARAMETERS:
        close = difflib.get_close_matches(code, [OBSERVED_AT, *PARAMETERS], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise CsvInputError(1, name, f"unknown column: not a parameter code of core-api §4{hint}")
    if not source:
        raise CsvInputError(1, name, "the source after @ is empty (e.g. blood_flow_l_min@check)")
    if (code, source) in seen:
        raise CsvInputError(1, name, "the column appears twice")
    seen.add((code, source))
    return code, source


def _time(row: int, cell: str) -> datetime:
    text = cell.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CsvInputError(
            row, OBSERVED_AT, f"{text!r} is not an ISO 8601 date and time (e.g. 2025-01-01T10:00:00Z)"
        ) from None
    if value.tzinfo is None:
        raise CsvInputError(
            row, OBSERVED_AT, f"{text!r} has no UTC offset: write e.g. {text}Z or {text}+01:00"
        )
    return utc(OBSERVED_AT, value)


def _value(row: int, column: str, code: str, cell: str, at: datetime, source: str) -> Sample:
    spec = PARAMETERS[code]
    accepted = f"accepted range [{spec.minimum:g}, {spec.maximum:g}] {spec.unit}"
    try:
        number = float(cell)
    except ValueError:
        raise CsvInputError(row, column, f"{cell!r} is not a number ({accepted})") from None
    try:
        return Sample(at, code, number, source)
    except InputError as error:
        raise CsvInputError(row, column, error.message) from None


def read_wide_csv(text_or_lines: str | Iterable[str]) -> list[Sample]:
    """Parse a wide CSV into samples; all or nothing.

    The header names ``observed_at`` (ISO 8601 with an offset or ``Z``; naive times are refused) and any
    parameter codes of core-api §4, each optionally suffixed ``@source`` (``post_oxygenator_po2_mmhg@lab``;
    default ``device``). An empty cell is a missing value; blank lines are skipped. Any unknown column,
    malformed time or implausible value raises :class:`CsvInputError` (an ``InputError``) naming the row
    (1-based line number, header = 1), the column and the accepted range; nothing is returned half-read.
    """
    lines = io.StringIO(text_or_lines, newline="") if isinstance(text_or_lines, str) else text_or_lines
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise CsvInputError(
            1, OBSERVED_AT, "the file is empty: the first row must name observed_at and parameters"
        )
    names = [cell.strip() for cell in header]
    names[0] = names[0].lstrip("\ufeff")
    if names.count(OBSERVED_AT) != 1:
        raise CsvInputError(1, OBSERVED_AT, "the header must name observed_at exactly once")
    time_index = names.index(OBSERVED_AT)
    seen: set[tuple[str, str]] = set()
    columns = {i: _column(i, name, seen) for i, name in enumerate(names) if i != time_index}
    samples: list[Sample] = []
    for cells in reader:
        row = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(names):
            raise CsvInputError(row, OBSERVED_AT, f"the row has {len(cells)} cells, the header {len(names)}")
        at = _time(row, cells[time_index])
        for i, (code, source) in columns.items():
            cell = cells[i].strip()
            if cell:
                samples.append(_value(row, names[i], code, cell, at, source))
    return samples


# --- replay ----------------------------------------------------------------------------------------------


def _moments(
    timeline: Timeline, step: timedelta | None, start: datetime | None, end: datetime | None
) -> Micros:
    times = timeline.times_us
    if not len(times):
        return times
    first = int(times[0]) if start is None else micros(utc("start", start))
    last = int(times[-1]) if end is None else micros(utc("end", end))
    if step is None:
        return times[(times >= first) & (times <= last)]
    if not isinstance(step, timedelta) or step <= timedelta(0):
        raise InputError("step", f"must be a positive timedelta, got {step!r}")
    step_us = step // timedelta(microseconds=1)
    return np.arange(first, last + 1, max(step_us, 1), dtype=np.int64)


def replay(
    samples: Iterable[Sample] | Timeline,
    *,
    config: SurveillanceConfig | None = None,
    context: RunContext | None = None,
    step: timedelta | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Transition]:
    """Evaluate the rules along the timeline and return every alert transition, in time order.

    Parameters
    ----------
    samples : the telemetry (or a prebuilt :class:`Timeline`).
    config, context : as for :func:`ecmo_core.surveillance.evaluate`.
    step : evaluate every ``step`` from ``start`` to ``end`` instead of at each distinct sample time (time-
        driven rules such as ``documentation.check_overdue`` then change state between samples).
    start, end : limit the replay (default: first and last sample time).

    Complexity: one timeline build, then every rule judges all ``T`` moments at once on the timeline's
    arrays (``O(n log w)`` for the windowed medians, ``O(T log n)`` for the look-ups), and each transition
    is worded by one call of ``evaluate`` (see :func:`ecmo_core.surveillance.engine.changes`).
    """
    timeline = timeline_of(samples)
    moments = _moments(timeline, step, start, end)
    transitions: list[Transition] = []
    for change in changes(timeline, moments=moments, config=config, context=context):
        finding = change.finding
        if finding is None:
            message = f"No longer evaluated: the rule applies to {RULES[change.rule_id].scope}."
            transitions.append(
                Transition(change.at, change.rule_id, _status(change.previous), None, "info", message)
            )
        else:
            transitions.append(
                Transition(
                    change.at,
                    change.rule_id,
                    _status(change.previous),
                    finding.status,
                    finding.severity,
                    finding.message,
                )
            )
    return transitions


def _status(name: str | None) -> Status | None:
    for status in STATUSES:
        if status == name:
            return status
    return None


def load_replay_toml(text: str) -> tuple[SurveillanceConfig, RunContext]:
    """Site settings and run context from a replay TOML document (``[run]`` + rule sections)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError("config", f"not valid TOML: {error}") from None
    run = document.pop("run", {})
    context = context_from_mapping(run)
    return config_from_mapping(document), context


# --- command line ----------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecmo replay",
        description="Evaluate the circuit rules along a wide CSV and print every alert transition.",
    )
    parser.add_argument("file", metavar="FILE.csv", help="observed_at plus parameter columns (core-api §4)")
    parser.add_argument("--config", metavar="FILE.toml", help="rule settings and [run] context")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of lines")
    parser.add_argument(
        "--step-min",
        type=_minutes,
        metavar="N",
        help="evaluate every N minutes instead of at each sample time",
    )
    return parser


def _minutes(text: str) -> timedelta:
    try:
        minutes = float(text)
    except ValueError:
        minutes = float("nan")
    if not minutes > 0 or minutes == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of minutes, got {text!r}")
    return timedelta(minutes=minutes)


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8-sig")


def main(argv: Sequence[str] | None = None) -> int:
    """``replay FILE.csv [--config FILE.toml] [--json] [--step-min N]``; 0 on success, 2 on bad input."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse has printed usage or help
        return exit_.code if isinstance(exit_.code, int) else 2
    stage = args.file
    try:
        samples = read_wide_csv(_read(args.file))
        config, context = SurveillanceConfig(), RunContext()
        if args.config is not None:
            stage = args.config
            config, context = load_replay_toml(_read(args.config))
        transitions = replay(samples, config=config, context=context, step=args.step_min)
    except (OSError, UnicodeDecodeError) as error:
        print(f"ecmo replay: cannot read {stage}: {error}", file=sys.stderr)
        return 2
    except InputError as error:
        print(f"ecmo replay: {stage}: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([t.as_dict() for t in transitions], ensure_ascii=False, indent=2))
    else:
        for transition in transitions:
            print(transition.as_line())
    return 0


if __name__ == "__main__":  # pragma: no cover - `python -m ecmo_core.replay`; the console script is `ecmo`
    raise SystemExit(main())
