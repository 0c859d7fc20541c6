"""Spec checklist — ``read_wide_csv_file``: a wide CSV straight into columns, the same as the careful reader:

- [x] a plain file takes the fast path (no per-cell Python objects) and gives the very timeline
      ``read_wide_csv`` gives: offsets, fractions of a second, unsorted rows, gaps, blank and empty rows,
      several hand-entered sources of one parameter, no final line end, any chunk size
- [x] anything unusual — quotes, a short or long row, an impossible or naive time, a repeated time, a
      value out of range, a cell with spaces — goes through ``read_wide_csv``: the same result, or the same
      error naming the row and the column
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ecmo_core import replay as replay_module
from ecmo_core.replay import CsvInputError, read_wide_csv, read_wide_csv_file
from ecmo_core.surveillance import Timeline

PLAIN = (
    "observed_at,blood_flow_l_min,blood_flow_l_min@check,blood_flow_l_min@lab,fdo2\n"
    "2025-01-01T10:02:00.5Z,4.7,,4.6,1.0\n"
    "2025-01-01T10:00:00Z,4.8,4.9,,\n"
    ",,,,\n"
    "2025-01-01T11:01:00+01:00,,4.5,,0.9\n"
    "\n"
    "2025-01-01T10:03:00Z,4.75,,,"
)


def columns(timeline: Timeline) -> dict[tuple[str, bool], tuple[list[int], list[float], list[str]]]:
    series = timeline._series  # comparing the two readers column by column
    return {
        key: (s.us.tolist(), s.values.tolist(), [s.source(i) for i in range(len(s))])
        for key, s in series.items()
    }


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "telemetry.csv"
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize("chunk", [3, 7, 1 << 23])
def test_it_reads_a_plain_file_in_columns_like_the_careful_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    path = write(tmp_path, PLAIN)
    expected = columns(Timeline(read_wide_csv(PLAIN)))
    monkeypatch.setattr(replay_module, "_CHUNK", chunk)
    monkeypatch.setattr(replay_module, "_READ", chunk)  # parsed in pieces: a line may span several reads
    monkeypatch.setattr(replay_module, "_TIME_BATCH", 2)  # and the times converted two at a time
    monkeypatch.setattr(replay_module, "read_wide_csv", None)  # the fast path must not need it
    timeline = read_wide_csv_file(path)
    assert columns(timeline) == expected and len(timeline) == 8
    assert expected[("blood_flow_l_min", False)][2] == ["check", "check", "lab"]


def test_it_reads_sorted_rows_sharing_one_time_array(tmp_path: Path) -> None:
    text = (
        "observed_at,blood_flow_l_min,pump_speed_rpm,bubble_detected\n"
        "2025-01-01T10:00:00Z,4.8,3400,0\n2025-01-01T10:01:00Z,4.9,3410,1\n"
    )
    timeline = read_wide_csv_file(write(tmp_path, text))
    assert columns(timeline) == columns(Timeline(read_wide_csv(text)))
    assert timeline.pair("blood_flow_l_min").device.us is timeline.pair("pump_speed_rpm").device.us


@pytest.mark.parametrize(
    "body",
    [
        '2025-01-01T10:00:00Z,"4.8",1.0\n',  # quoted
        "2025-01-01T10:00:00Z, 4.8 ,1.0\n",  # spaces around a number: Python reads it, Polars does not
        "2025-01-01T10:00:00Z,4.8,1.0\n2025-01-01T10:00:00Z,4.9,1.0\n",  # a repeated time: the last one counts
        "2025-01-01T10:01:00Z,4.8,1.0\n2025-01-01T10:00:00Z,4.9,1.0\n2025-01-01T10:01:00Z,5.0,1.0\n",
        "2025-01-01 10:00:00+00:00,4.8,1.0\n",  # a space for the T: ISO 8601 all the same
        "\n2025-01-01T10:00:00Z,4.8,1.0\n",  # a blank first row (Polars would take it for the width)
    ],
)
def test_it_leaves_anything_unusual_to_the_careful_reader(tmp_path: Path, body: str) -> None:
    text = "observed_at,blood_flow_l_min,fdo2\n" + body
    assert columns(read_wide_csv_file(write(tmp_path, text))) == columns(Timeline(read_wide_csv(text)))


@pytest.mark.parametrize(
    ("body", "row", "column"),
    [
        ("2025-01-01T10:00:00Z,4.8\n", 2, "observed_at"),  # too few cells
        ("2025-01-01T10:00:00Z,4.8,1.0\n2025-01-01T10:01:00Z,4.8\n", 3, "observed_at"),
        ("2025-01-01T10:00:00Z,4.8,1.0\n2025-01-01T10:01:00Z,4.8,1.0,7\n", 3, "observed_at"),  # too many
        ("2025-02-30T10:00:00Z,4.8,1.0\n", 2, "observed_at"),  # no such day
        ("2025-01-01T10:00:00,4.8,1.0\n", 2, "observed_at"),  # no offset
        ("2025-01-01T10:00:00Z,4.8,100\n", 2, "fdo2"),  # a percentage, not a fraction
        ("2025-01-01T10:00:00Z,4.8,abc\n", 2, "fdo2"),
    ],
)
def test_it_names_the_row_and_column_as_the_careful_reader_does(
    tmp_path: Path, body: str, row: int, column: str
) -> None:
    with pytest.raises(CsvInputError) as error:
        read_wide_csv_file(write(tmp_path, "observed_at,blood_flow_l_min,fdo2\n" + body))
    assert (error.value.row, error.value.column) == (row, column)


def test_it_checks_the_header_first(tmp_path: Path) -> None:
    with pytest.raises(CsvInputError, match="unknown column"):
        read_wide_csv_file(write(tmp_path, "observed_at,flow\n2025-01-01T10:00:00Z,4.8\n"))
    with pytest.raises(CsvInputError, match="empty"):
        read_wide_csv_file(write(tmp_path, ""))
