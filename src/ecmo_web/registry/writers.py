"""Write each export kind to a file, run by run (flat memory), reporting progress.

Each writer takes the runs queryset, an output path and a ``progress(done, total)`` callback, writes the file
and returns the row counts per table. The mappings themselves are pure (``ecmo_core.exports``); this module only
loads, streams and packs.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet

from ecmo_core.exports import ecls_cdm, elso, research
from ecmo_core.exports.records import RunRecord
from ecmo_web.registry.loaders import iter_runs
from ecmo_web.runs.models import EcmoRun

Progress = Callable[[int, int], None]


def _tracked(records: Iterator[RunRecord], total: int, progress: Progress) -> Iterator[RunRecord]:
    done = 0
    progress(0, total)
    for record in records:
        yield record
        done += 1
        if done == total or done % 25 == 0:
            progress(done, total)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _write_csv(handle: IO[str], columns: Iterable[str], rows: Iterable[dict[str, Any]]) -> int:
    writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
        count += 1
    return count


def write_elso(
    runs: QuerySet[EcmoRun], out: Path, progress: Progress, *, fmt: str = "json", now: dt.datetime
) -> dict[str, int]:
    """ELSO registry records: ``json`` (the structured form, with each run's completeness) or ``csv``."""
    total = runs.count()
    records = _tracked(iter_runs(runs, identified=False), total, progress)
    if fmt == "csv":
        with out.open("w", encoding="utf-8", newline="") as handle:
            count = _write_csv(handle, elso.FIELD_KEYS, (elso.csv_row(elso.elso_record(r)) for r in records))
        return {"runs": count}
    count = 0
    incomplete = 0
    with out.open("w", encoding="utf-8") as handle:
        handle.write('{"format": "ecmo-steward/elso-registry", "version": 1, ')
        handle.write(f'"generated_at": {json.dumps(now.isoformat())}, ')
        fields = [f._asdict() for f in elso.ELSO_FIELDS]
        handle.write(f'"fields": {json.dumps(fields)}, "runs": [')
        for record in records:
            item = {"record": elso.elso_record(record), "completeness": elso.completeness(record)}
            incomplete += 0 if item["completeness"]["complete"] else 1
            handle.write(("," if count else "") + "\n" + json.dumps(item, default=str))
            count += 1
        handle.write("\n]}\n")
    return {"runs": count, "incomplete": incomplete}


def _zip_tables(
    out: Path,
    tables: Iterable[str],
    columns: dict[str, tuple[str, ...]],
    rows: Iterator[tuple[str, dict[str, Any]]],
    extra: dict[str, str] | None = None,
) -> dict[str, int]:
    """Spool each table to its own temporary CSV as rows arrive, then pack them into one ZIP."""
    counts = dict.fromkeys(tables, 0)
    with tempfile.TemporaryDirectory(dir=out.parent) as spool:
        handles = {t: (Path(spool) / f"{t}.csv").open("w", encoding="utf-8", newline="") for t in tables}
        try:
            writers = {}
            for table, handle in handles.items():
                writers[table] = csv.DictWriter(handle, fieldnames=list(columns[table]), lineterminator="\n")
                writers[table].writeheader()
            for table, row in rows:
                writers[table].writerow({k: _csv_value(v) for k, v in row.items()})
                counts[table] += 1
        finally:
            for handle in handles.values():
                handle.close()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for table in tables:
                archive.write(Path(spool) / f"{table}.csv", arcname=f"{table}.csv")
            for name, text in (extra or {}).items():
                archive.writestr(name, text)
    return counts


def write_ecls_cdm(
    runs: QuerySet[EcmoRun], out: Path, progress: Progress, *, now: dt.datetime
) -> dict[str, int]:
    """The ECLS CDM tables as one CSV per table in a ZIP."""
    total = runs.count()
    builder = ecls_cdm.EclsCdmBuilder(tubing_size_in_inches=settings.ECMO_TUBING_SIZE_IN_INCHES)

    def rows() -> Iterator[tuple[str, dict[str, Any]]]:
        for record in _tracked(iter_runs(runs, identified=False), total, progress):
            yield from builder.run_rows(record)
        yield from builder.material_rows()

    readme = (
        "ECLS CDM (OMOP extension) export from ECMO Steward\n"
        f"Generated {now.isoformat()}. One CSV per table; columns follow github.com/ecls-cdm/cdm "
        "ddl/postgres/01_add_tables.sql. Concept id 0 means no matching standard concept.\n"
    )
    return _zip_tables(out, ecls_cdm.TABLES, ecls_cdm.COLUMNS, rows(), {"README.txt": readme})


def research_key(program_id: int) -> bytes:
    """The program's pseudonym key: derived from the site secret, so pseudonyms are stable between exports."""
    secret = (settings.ECMO_RESEARCH_KEY or settings.SECRET_KEY).encode()
    return hmac.new(secret, f"research-pseudonyms:{program_id}".encode(), hashlib.sha256).digest()


def data_dictionary_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "column", "type", "unit", "description"])
    writer.writerows(research.DATA_DICTIONARY)
    return buffer.getvalue()


def write_research(
    runs: QuerySet[EcmoRun], out: Path, progress: Progress, *, key: bytes, now: dt.datetime
) -> dict[str, int]:
    """The de-identified research dataset: one CSV per table, the data dictionary and a README, in a ZIP."""
    total = runs.count()
    seen: set[str] = set()

    def rows() -> Iterator[tuple[str, dict[str, Any]]]:
        for record in _tracked(iter_runs(runs, identified=False), total, progress):
            for table, row in research.research_rows(record, key=key):
                if table == "patients":
                    if row["patient_id"] in seen:
                        continue
                    seen.add(row["patient_id"])
                yield table, row

    lines = [
        "De-identified research dataset (HIPAA Safe Harbor) from ECMO Steward",
        "",
        f"Exported in {now.year}. Times are hours from cannulation; no dates, names or record numbers.",
        "",
        "Safe Harbor identifier classes and their handling:",
    ]
    lines += [f"- {name}: {how}" for name, how in research.SAFE_HARBOR]
    extra = {"data_dictionary.csv": data_dictionary_csv(), "README.txt": "\n".join(lines) + "\n"}
    return _zip_tables(out, research.TABLES, research.COLUMNS, rows(), extra)
