"""CSV files of samples: preview with errors by row and column, then import through ``ingest_samples``."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from ecmo_core.replay import CsvInputError, read_wide_csv
from ecmo_core.surveillance import (
    PARAMETERS,
)
from ecmo_core.surveillance import (
    Sample as CoreSample,
)
from ecmo_web.kernel import require
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.actions.ingest import MAX_ERRORS, IngestResult, ingest_samples, validate_samples
from ecmo_web.surveillance.models import (
    IngestBatch,
    Sample,
)

MAX_CSV_BYTES = 20 * 1024 * 1024
PREVIEW_ROWS = 12


@dataclass(frozen=True)
class CsvError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


class CsvImportError(ValidationError):
    """Every bad cell of a CSV: ``errors`` lists (row, column, message); nothing was imported."""

    def __init__(self, errors: list[CsvError]) -> None:
        self.errors = errors
        super().__init__({"csv": [str(e) for e in errors]})


@dataclass
class CsvPreview:
    rows: int
    samples: int
    new: int
    duplicates: int
    parameters: list[tuple[str, str, int]]  # (code, unit, count)
    first_at: dt.datetime | None
    last_at: dt.datetime | None
    header: list[str]
    table: list[list[str]]
    sha256: str
    result: IngestResult | None = None


def _csv_errors(text: str) -> list[CsvError]:
    """All bad rows and cells of a CSV that ``read_wide_csv`` refused (it stops at the first)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None) or []
    header_line = _csv_line(header)
    try:
        read_wide_csv(header_line)
    except CsvInputError as error:
        return [CsvError(error.row, error.column, error.message)]
    names = [c.strip() for c in header]
    names[0] = names[0].lstrip("\ufeff")
    time_index = names.index("observed_at")
    errors: list[CsvError] = []
    for cells in reader:
        row = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        try:
            read_wide_csv(header_line + _csv_line(cells))
            continue
        except CsvInputError as error:
            first = CsvError(row, error.column, error.message)
        if len(cells) != len(names) or first.column == "observed_at":
            errors.append(first)
        else:
            for i, name in enumerate(names):
                if i == time_index or not cells[i].strip():
                    continue
                try:
                    read_wide_csv(_csv_line(["observed_at", name]) + _csv_line([cells[time_index], cells[i]]))
                except CsvInputError as error:
                    errors.append(CsvError(row, name, error.message))
        if len(errors) >= MAX_ERRORS:
            break
    return errors


def _csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cells)
    return out.getvalue()


def import_csv(
    run: EcmoRun,
    text: str,
    *,
    actor: Any,
    preview: bool = False,
    source: str | None = None,
    now: dt.datetime | None = None,
) -> CsvPreview:
    """Import a wide CSV of console export (core-api §5) into a run, or preview it.

    All or nothing: any bad header, time or value raises ``CsvImportError`` listing every bad row and column.
    Re-importing the same file (same SHA-256) or overlapping rows adds nothing. ``source`` names the samples of
    columns without an ``@source`` suffix (default ``"device"``).
    """
    require(actor, "sample.ingest", run)
    now = now or timezone.now()
    if len(text.encode("utf-8")) > MAX_CSV_BYTES:
        raise CsvImportError(
            [CsvError(1, "observed_at", f"the file is larger than {MAX_CSV_BYTES // 2**20} MB")]
        )
    text = text.lstrip("\ufeff")
    try:
        parsed = read_wide_csv(text)
    except CsvInputError:
        raise CsvImportError(_csv_errors(text)) from None
    try:
        samples = validate_samples(run, parsed, source=source, now=now)
    except ValidationError as exc:
        rows = _sample_rows(text)
        errors = []
        for key, messages in exc.message_dict.items():
            index = int(key.split("[", 1)[1].split("]", 1)[0])
            errors.append(CsvError(rows[index] if index < len(rows) else 0, "observed_at", messages[0]))
        raise CsvImportError(sorted(errors, key=lambda e: e.row)) from None
    # The file's identity: the same export imported twice (by the page or the command) is the same batch.
    digest = hashlib.sha256(text.replace("\r\n", "\n").strip().encode("utf-8")).hexdigest()
    reader = list(csv.reader(io.StringIO(text, newline="")))
    header = [c.strip() for c in reader[0]]
    body = [r for r in reader[1:] if any(c.strip() for c in r)]
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.parameter] = counts.get(s.parameter, 0) + 1
    existing = _existing_count(run, samples)
    result = CsvPreview(
        rows=len(body),
        samples=len(samples),
        new=len(samples) - existing,
        duplicates=existing,
        parameters=[(p, PARAMETERS[p].unit, n) for p, n in sorted(counts.items())],
        first_at=min((s.observed_at for s in samples), default=None),
        last_at=max((s.observed_at for s in samples), default=None),
        header=header,
        table=body[:PREVIEW_ROWS],
        sha256=digest,
    )
    if not preview:
        result.result = ingest_samples(
            actor_or_system=actor,
            run=run,
            samples=samples,
            batch_ref=digest,
            kind=IngestBatch.Kind.CSV,
            now=now,
        )
    return result


def _sample_rows(text: str) -> list[int]:
    """The CSV row number of each sample ``read_wide_csv`` returns, in the same order."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    time_index = [c.strip().lstrip("\ufeff") for c in header].index("observed_at")
    rows: list[int] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        rows.extend(reader.line_num for i, c in enumerate(cells) if i != time_index and c.strip())
    return rows


def _existing_count(run: EcmoRun, samples: Sequence[CoreSample]) -> int:
    if not samples:
        return 0
    keys = {(s.parameter, s.observed_at, s.source) for s in samples}
    times = [k[1] for k in keys]
    stored = Sample.objects.filter(
        run=run,
        parameter__in={k[0] for k in keys},
        source__in={k[2] for k in keys},
        observed_at__gte=min(times),
        observed_at__lte=max(times),
    )
    return sum(1 for key in stored.values_list("parameter", "observed_at", "source") if key in keys)
