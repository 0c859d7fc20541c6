"""The multi-row inserts of the write paths (``surveillance.sqlrows``) store exactly what they are given.

- numbers of mixed Python types in one float column (a reading of 3400 beside one of 4.8), and NULLs
- text with every character HL7 and SQL make special (separators, escapes, quotes, braces, commas, CR, non-ASCII)
- RETURNING gives each inserted row back; ON CONFLICT applies row by row
- more rows than one statement may bind (SQLite's parameter limit) go in several statements
"""

from __future__ import annotations

import datetime as dt

from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import sqlrows
from ecmo_web.surveillance.models import InboundMessage, IngestBatch, Sample
from tests.web.conftest import T0

AWKWARD = 'MSH|^~\\&|GW\r{"a": [1, 2]}, \'quoted\', back\\slash, "dq", NULL, é→µ\n'


def test_it_stores_mixed_numbers_nulls_and_awkward_text_exactly(run: EcmoRun) -> None:
    adapt = sqlrows.datetime_adapter()
    rows = [
        (run.pk, "pump_speed_rpm", adapt(T0), 3400, "hl7:A{1}", adapt(T0), None, None),
        (run.pk, "blood_flow_l_min", adapt(T0), 4.8, 'hl7:"B",\\', adapt(T0), None, None),
    ]
    columns = (
        "run_id", "parameter", "observed_at", "value", "source", "received_at", "batch_id", "check_record_id"
    )  # fmt: skip
    sqlrows.insert(Sample, columns, rows, "ON CONFLICT DO NOTHING")
    sqlrows.insert(Sample, columns, rows, "ON CONFLICT DO NOTHING")  # both already held: nothing added
    stored = sorted(Sample.objects.filter(run=run).values_list("parameter", "value", "source", "observed_at"))
    assert stored == [
        ("blood_flow_l_min", 4.8, 'hl7:"B",\\', T0),
        ("pump_speed_rpm", 3400.0, "hl7:A{1}", T0),
    ]
    columns = (
        "program_id", "run_id", "received_at", "sending_application", "control_id", "peer", "outcome", "ack_code",
        "ack", "detail", "raw_message", "dead_letter_id",
    )  # fmt: skip
    sqlrows.insert(
        InboundMessage,
        columns,
        [
            (None, run.pk, adapt(T0), "GW", "C1", "", "stored", "CA", "", "", AWKWARD, None),
            (run.program_id, None, adapt(T0), "", "", "10.0.0.1:5", "error", "", "x", AWKWARD, "", None),
        ],
    )
    assert sorted(InboundMessage.objects.values_list("raw_message", flat=True)) == ["", AWKWARD]


def test_it_returns_each_inserted_row_and_cuts_long_inserts_into_several_statements(run: EcmoRun) -> None:
    adapt = sqlrows.datetime_adapter()
    many = sqlrows.max_parameters() // 8 * 3 + 5  # more rows than three statements of 8 columns can bind
    columns = (
        "run_id", "kind", "ref", "actor_name", "received_at", "created_count", "duplicate_count", "identity_unverified"
    )  # fmt: skip
    returned = sqlrows.insert(
        IngestBatch,
        columns,
        [
            (run.pk, "hl7", f"GW|{n}", "listener", adapt(T0 + dt.timedelta(seconds=n)), n, 0, n % 2 == 0)
            for n in range(many)
        ],
        "RETURNING id, ref",
        fetch=True,
    )
    assert len(returned) == many
    by_ref = {ref: pk for pk, ref in returned}
    batch = IngestBatch.objects.get(pk=by_ref["GW|7"])
    assert (batch.created_count, batch.identity_unverified, batch.received_at) == (
        7,
        False,
        T0 + dt.timedelta(seconds=7),
    )
    assert sqlrows.insert(IngestBatch, columns, []) == []
