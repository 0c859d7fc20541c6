"""Every write of circuit surveillance. Each action checks permission, validates, writes and appends an audit
event in one transaction; views, the API, the management commands, the demo seed and the HL7 listener call
these and nothing else.

``ingest_samples`` is the single way in for telemetry (API batches, CSV files, HL7 messages, labs): it validates
every value with ``ecmo_core``'s plausibility ranges, rejects the whole batch on the first bad value (nothing
half-written), stores only what is new (idempotent on run, parameter, observed_at, source), writes one audit
event per batch and then evaluates the run.

``evaluate_run`` runs the ``ecmo_core`` rules and stores alert *transitions* — only where a rule's state
changes — and never recomputes what is already stored: a run has an evaluation cursor, and moments before it
are history.
"""

from typing import Any

from ecmo_web.surveillance.actions.alerts import (
    acknowledge_alert,
    escalate_alert,
    link_alert,
    resolve_alert,
    resolve_answered_check_overdue,
)
from ecmo_web.surveillance.actions.checks import CHECK_FIELDS, CLOT_FIELDS, amend_check, record_check
from ecmo_web.surveillance.actions.common import DEMO, MLLP, WORKER
from ecmo_web.surveillance.actions.csv_import import (
    MAX_CSV_BYTES,
    PREVIEW_ROWS,
    CsvError,
    CsvImportError,
    CsvPreview,
    import_csv,
)
from ecmo_web.surveillance.actions.evaluate import NOT_APPLICABLE, evaluate_run
from ecmo_web.surveillance.actions.ingest import (
    MAX_ERRORS,
    SAMPLE_AFTER_RUN,
    SAMPLE_AHEAD_OF_NOW,
    SAMPLE_BEFORE_RUN,
    IngestResult,
    SampleColumns,
    ingest_samples,
    insert_sample_rows,
    validate_columns,
    validate_samples,
)
from ecmo_web.surveillance.actions.program_settings import save_settings

# The worker's functions live in ``surveillance.worker`` (which imports this package); these names stay
# importable from here.
_WORKER_NAMES = frozenset({"escalate_due_alerts", "evaluate_active_runs", "process_transitions"})


def __getattr__(name: str) -> Any:
    if name in _WORKER_NAMES:
        from ecmo_web.surveillance import worker

        return getattr(worker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CHECK_FIELDS",
    "CLOT_FIELDS",
    "DEMO",
    "MAX_CSV_BYTES",
    "MAX_ERRORS",
    "MLLP",
    "NOT_APPLICABLE",
    "PREVIEW_ROWS",
    "SAMPLE_AFTER_RUN",
    "SAMPLE_AHEAD_OF_NOW",
    "SAMPLE_BEFORE_RUN",
    "WORKER",
    "CsvError",
    "CsvImportError",
    "CsvPreview",
    "IngestResult",
    "SampleColumns",
    "acknowledge_alert",
    "amend_check",
    "escalate_alert",
    "evaluate_run",
    "import_csv",
    "ingest_samples",
    "insert_sample_rows",
    "link_alert",
    "record_check",
    "resolve_alert",
    "resolve_answered_check_overdue",
    "save_settings",
    "validate_columns",
    "validate_samples",
]
