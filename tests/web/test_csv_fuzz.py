"""CSV import under generated files (hypothesis): the importer is all-or-nothing per file.

- any text — valid rows, broken times, words in number cells, fractions as percentages, unknown columns, quotes,
  blank lines, odd line endings — either imports whole or raises ``CsvImportError`` listing row and column
- a refused file stores nothing (no sample, no batch); nothing else is ever raised
- every error names a row ≥ 0 and a column: its header, ``observed_at``, or ``#N`` for a column with no name
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ecmo_web.surveillance import actions
from ecmo_web.surveillance.models import IngestBatch, Sample
from tests.web.conftest import T0

EXAMPLES = int(os.environ.get("ECMO_FUZZ_EXAMPLES", "40"))
COLUMNS = [
    "blood_flow_l_min",
    "pump_speed_rpm",
    "fdo2",
    "pre_oxygenator_pressure_mmhg",
    "post_oxygenator_pressure_mmhg",
    "bubble_detected",
    "no_such_parameter",
    "anti_xa_iu_ml@lab",
    "",
]
CELLS = st.one_of(
    st.sampled_from(
        ["", " ", "4.1", "3500", "0.6", "60", "100", "1", "0", "-40", "abc", "1e309", "nan", '"3,5"']
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)
TIMES = st.one_of(
    st.integers(min_value=-10, max_value=200).map(
        lambda m: (T0 + dt.timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ),
    st.sampled_from(["", "yesterday", "2026-13-40T99:00:00Z", "2026-11-20 10:00", "2126-01-01T00:00:00Z"]),
)


@st.composite
def csv_files(draw: Any) -> str:
    columns = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=5))
    header = ["observed_at", *columns] if draw(st.booleans()) else columns
    rows = draw(st.lists(st.tuples(TIMES, st.lists(CELLS, min_size=0, max_size=len(header))), max_size=8))
    lines = [",".join(header)]
    for time, cells in rows:
        lines.append(",".join([time, *cells]))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return ending.join(lines) + draw(st.sampled_from(["", ending, ending * 3]))


@pytest.mark.django_db
@given(text=st.one_of(csv_files(), st.text(max_size=200)))
@hypothesis_settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_it_imports_whole_or_refuses_naming_row_and_column(run: Any, perfusionist: Any, text: str) -> None:
    samples_before = Sample.objects.filter(run=run).count()
    batches_before = IngestBatch.objects.filter(run=run).count()
    now = T0 + dt.timedelta(hours=4)
    try:
        result = actions.import_csv(run, text, actor=perfusionist, now=now)
    except actions.CsvImportError as exc:
        assert exc.errors, "a refused file lists at least one error"
        header = [c.strip().split("@", 1)[0] for c in (text.splitlines() or [""])[0].split(",")]
        for error in exc.errors:
            assert error.row >= 0
            # a column is named by its header, or by its position ("#2") when its header is empty
            assert (
                error.column == "observed_at"
                or error.column.split("@", 1)[0] in header
                or (error.column.startswith("#") and error.column[1:].isdigit())
            )
        assert Sample.objects.filter(run=run).count() == samples_before
        assert IngestBatch.objects.filter(run=run).count() == batches_before
    else:
        assert result is not None
        assert Sample.objects.filter(run=run).count() >= samples_before
