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
import itertools
import json
import sys
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

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
from ecmo_core.surveillance.parameters import FLAG, FRACTION
from ecmo_core.surveillance.timeline import US, Micros, Series, micros

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


def _header(header: list[str] | None) -> tuple[list[str], int, dict[int, tuple[str, str]]]:
    """Checked header: the names, the index of ``observed_at`` and each parameter column's (code, source)."""
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
    return names, time_index, columns


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
    names, time_index, columns = _header(next(reader, None))
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


def read_wide_csv_file(path: str | Path) -> Timeline:
    """A wide CSV file (as :func:`read_wide_csv`) straight into a columnar :class:`Timeline`.

    Large files take a fast path: Polars parses the numbers in native code and the times are checked and
    converted column-wise, so a month at 1 Hz never becomes millions of Python objects. Anything the fast path
    is not sure of — quotes, an irregular row, an unusual time format, a value out of range, a repeated time —
    sends the file through :func:`read_wide_csv`, which names the row and column of any error.
    """
    with open(path, encoding="utf-8-sig", newline="") as handle:
        names, time_index, columns = _header(next(csv.reader(handle), None))
    timeline = _fast_timeline(Path(path), names, time_index, columns)
    return timeline if timeline is not None else timeline_of(read_wide_csv(_read(str(path))))


_ISO = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$"
_CHUNK = 1 << 23


def _scan(path: Path) -> tuple[int, int, bool]:
    """Commas and empty lines after the header, and whether any quote appears (read in chunks, in C)."""
    commas = empty = 0
    quoted = False
    tail = b"\n"  # the header's line end: an empty first line is a "\n\n" too
    with path.open("rb") as handle:
        handle.readline()  # the header, checked already
        while chunk := handle.read(_CHUNK):
            joined = tail + chunk
            commas += chunk.count(b",")
            quoted = quoted or b'"' in chunk
            empty += sum(joined.count(p) - tail.count(p) for p in (b"\n\n", b"\n\r\n"))
            tail = joined[-2:]
    return commas, empty, quoted


_READ = 1 << 22


def _pieces(path: Path) -> Iterable[bytes]:
    """The file after its header in pieces of about :data:`_READ` bytes, each ending at a line end."""
    with path.open("rb") as handle:
        handle.readline()
        tail = b""
        while chunk := handle.read(_READ):
            cut = chunk.rfind(b"\n") + 1
            if cut:
                yield tail + chunk[:cut]
                tail = chunk[cut:]
            else:
                tail += chunk
        if tail:
            yield tail


def _fast_timeline(
    path: Path, names: list[str], time_index: int, columns: dict[int, tuple[str, str]]
) -> Timeline | None:
    commas, empty, quoted = _scan(path)
    if quoted:
        return None
    schema = {f"c{i}": pl.String if i == time_index else pl.Float64 for i in range(len(names))}
    # Parsed a piece at a time: only one piece's text and frame exist at once besides the numbers kept.
    height = 0
    stamps: list[Micros] = []
    numbers: dict[int, list[np.ndarray]] = {i: [] for i in columns}
    for piece in _pieces(path):
        if not piece.strip():
            height += piece.count(b"\n")  # blank lines only (Polars would refuse a piece of nothing)
            continue
        try:
            frame = pl.read_csv(piece, has_header=False, schema=schema)
        except pl.exceptions.PolarsError:
            return None  # e.g. a row with too many cells, or a cell that is not a plain number
        height += frame.height
        if frame.select(pl.all_horizontal(pl.all().is_null()).any()).item():
            frame = frame.filter(~pl.all_horizontal(pl.all().is_null()))  # blank lines
        stamp = _times(frame.drop_in_place(f"c{time_index}"))
        if stamp is None:
            return None
        stamps.append(stamp)
        for i in columns:
            numbers[i].append(frame.drop_in_place(f"c{i}").to_numpy())
    if not stamps or commas != (height - empty) * (len(names) - 1):
        return None  # no rows, or a row with too few cells (Polars would fill them with nulls)
    us = np.concatenate(stamps)
    del stamps
    order = None if len(us) < 2 or bool((us[1:] > us[:-1]).all()) else np.argsort(us, kind="stable")
    if order is not None and not bool((np.diff(us[order]) > 0).all()):
        return None  # a repeated time: the careful reader collapses duplicates in file order
    if order is not None:
        us = us[order]
    series: dict[tuple[str, bool], list[Series]] = {}
    for i, (code, source) in columns.items():
        values = np.concatenate(numbers.pop(i)).astype(np.float64, copy=False)
        values = values if order is None else values[order]
        present = ~np.isnan(values)
        if not bool(present.all()):
            part = Series(us[present], values[present], source)
        else:
            part = Series(us, values, source)  # every series shares the one time array
        if not _plausible(code, part.values):
            return None
        series.setdefault((code, source == DEVICE), []).append(part)
    built: dict[tuple[str, bool], Series] = {}
    for key, parts in series.items():
        if len(parts) == 1:
            built[key] = parts[0]
            continue
        times = np.concatenate([p.us for p in parts])
        merged = np.argsort(times, kind="stable")
        sources = [p.source(0) for p in parts for _ in range(len(p))]
        values = np.concatenate([p.values for p in parts])
        built[key] = Series(times[merged], values[merged], [sources[i] for i in merged.tolist()])
    return Timeline.from_series(built)


_TIME_BATCH = 1 << 19


def _times(column: pl.Series) -> Micros | None:
    """ISO 8601 times with a ``Z`` or an offset as microseconds; None if any is not in that plain form.

    Converted half a million at a time into one array, so the text columns of each step of the conversion
    never exist for a whole month at once (they would double the replay's peak memory)."""
    result: Micros = np.empty(len(column), dtype=np.int64)
    for offset in range(0, len(column), _TIME_BATCH):
        part = _times_of(column.slice(offset, _TIME_BATCH))
        if part is None:
            return None
        result[offset : offset + len(part)] = part
    return result


def _times_of(column: pl.Series) -> Micros | None:
    time = pl.col("t").str.strip_chars()
    frame = column.alias("t").to_frame()
    if frame.select((time.is_null() | ~time.str.contains(_ISO)).any()).item():
        return None
    offset = time.str.slice(19).str.extract(r"([Z+-].*)$")
    fraction = time.str.slice(19).str.extract(r"^\.(\d+)").fill_null("0").str.pad_end(6, "0")
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    hours, minutes = offset.str.slice(1, 2).cast(pl.Int64), offset.str.slice(4, 2).cast(pl.Int64)
    offset_min = pl.when(offset == "Z").then(0).otherwise(sign * (hours * 60 + minutes))
    local = time.str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us").dt.epoch("us")
    try:
        result: Micros = (
            frame.select(local + fraction.cast(pl.Int64) - offset_min * 60 * US).to_series().to_numpy()
        )
    except pl.exceptions.PolarsError:
        return None  # e.g. 2025-02-30
    return result.astype(np.int64)


def _plausible(code: str, values: np.ndarray) -> bool:
    """True when every value passes ``check_value`` (checked column-wise)."""
    spec = PARAMETERS[code]
    ok = np.isfinite(values) & (values >= spec.minimum) & (values <= spec.maximum)
    if spec.unit == FRACTION:
        ok &= (values >= 0.0) & (values <= 1.0)
    if spec.unit == FLAG:
        ok &= (values == 0.0) | (values == 1.0)
    return bool(ok.all())


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
        if first <= times[0] and times[-1] <= last:
            return times
        return times[(times >= first) & (times <= last)]
    if not isinstance(step, timedelta) or step <= timedelta(0):
        raise InputError("step", f"must be a positive timedelta, got {step!r}")
    step_us = step // timedelta(microseconds=1)
    return np.arange(first, last + 1, max(step_us, 1), dtype=np.int64)


CHUNK = timedelta(days=1)
"""How many moments :func:`replay` judges at once: a day (the rest of the run waits as plain arrays)."""


def _chunks(moments: Micros, chunk: timedelta | None) -> list[Micros]:
    """``moments`` cut into consecutive spans of ``chunk`` from the first (views, not copies)."""
    if chunk is None or not len(moments):
        return [moments]
    if not isinstance(chunk, timedelta) or chunk <= timedelta(0):
        raise InputError("chunk", f"must be a positive timedelta, got {chunk!r}")
    width = max(chunk // timedelta(microseconds=1), 1)
    first = int(moments[0])
    edges = np.arange(first + width, int(moments[-1]) + 1, width, dtype=np.int64)
    cuts = np.searchsorted(moments, edges, side="left").tolist()
    bounds = [0, *cuts, len(moments)]
    return [moments[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def replay(
    samples: Iterable[Sample] | Timeline,
    *,
    config: SurveillanceConfig | None = None,
    context: RunContext | None = None,
    step: timedelta | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    chunk: timedelta | None = CHUNK,
) -> list[Transition]:
    """Evaluate the rules along the timeline and return every alert transition, in time order.

    Parameters
    ----------
    samples : the telemetry (or a prebuilt :class:`Timeline`).
    config, context : as for :func:`ecmo_core.surveillance.evaluate`.
    step : evaluate every ``step`` from ``start`` to ``end`` instead of at each distinct sample time (time-
        driven rules such as ``documentation.check_overdue`` then change state between samples).
    start, end : limit the replay (default: first and last sample time).
    chunk : judge the moments a ``chunk`` at a time (default a day; ``None``: all at once), each rule's state
        carried from one chunk to the next, so the transitions are the same (a property test checks it) while
        the per-moment arrays of the columnar engine stay the size of a chunk.

    Complexity: one timeline build, then every rule judges all ``T`` moments at once on the timeline's
    arrays (``O(n log w)`` for the windowed medians, ``O(T log n)`` for the look-ups), and each transition
    is worded by one call of ``evaluate`` (see :func:`ecmo_core.surveillance.engine.changes`).
    """
    timeline = timeline_of(samples)
    moments = _moments(timeline, step, start, end)
    transitions: list[Transition] = []
    state: dict[str, tuple[str, str]] = {}
    found = [
        change
        for part in _chunks(moments, chunk)
        for change in changes(timeline, moments=part, config=config, context=context, state=state)
    ]
    for change in found:
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
        timeline = read_wide_csv_file(args.file)
        config, context = SurveillanceConfig(), RunContext()
        if args.config is not None:
            stage = args.config
            config, context = load_replay_toml(_read(args.config))
        transitions = replay(timeline, config=config, context=context, step=args.step_min)
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
