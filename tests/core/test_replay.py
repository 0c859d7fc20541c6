"""Spec checklist — ``ecmo replay`` (core-api §5; ARCHITECTURE "CSV import (row and column)"):

- [x] ``read_wide_csv``: ``observed_at`` (ISO 8601 with offset or Z) plus parameter columns, optional
      ``@source`` suffix; empty cell = missing; blank lines skipped; text or lines; a BOM is tolerated
- [x] naive time, unknown or duplicate column, wrong cell count, non-number, implausible value (``fdo2`` = 100
      says "fraction") → InputError naming the row and the column; nothing half-read
- [x] ``replay`` returns every transition (appears, changes status or severity, stops applying), at each
      sample time or every ``step``, limited by ``start``/``end``
- [x] ``main``: plain lines "time  rule_id  old → new  message", ``--json`` list of
      {"at","rule_id","from","to","severity","message"}, ``--config`` TOML with rule sections and ``[run]``;
      exit 2 with the row/column (or TOML key) on stderr for bad input
- [x] the documented example (docs/rules/example-delta-p.csv + example-replay.toml) shows ΔP firing
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ecmo_core.errors import InputError
from ecmo_core.replay import CsvInputError, Transition, load_replay_toml, main, read_wide_csv, replay
from ecmo_core.surveillance import RunContext, Sample
from ecmo_core.surveillance.synthetic import steady

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"
T0 = datetime(2025, 1, 6, 14, 0, tzinfo=UTC)

O2_SUPPLY_LOST = """\
observed_at,fdo2,sweep_gas_l_min,post_oxygenator_po2_mmhg@lab,access_pressure_mmhg
2025-01-06T14:00:00Z,1.0,4.0,,-66
2025-01-06T14:20:00Z,1.0,4.0,108,-66

2025-01-06T14:40:00+00:00,1.0,4.0,472,-66
"""


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def csv_error(text: str) -> CsvInputError:
    with pytest.raises(CsvInputError) as error:
        read_wide_csv(text)
    return error.value


# --- reading ----------------------------------------------------------------------------------------------


def test_it_reads_a_wide_csv() -> None:
    samples = read_wide_csv(O2_SUPPLY_LOST)
    assert len(samples) == 11
    assert Sample(at(20), "post_oxygenator_po2_mmhg", 108.0, "lab") in samples
    assert Sample(at(0), "fdo2", 1.0) in samples
    assert not any(s.parameter == "post_oxygenator_po2_mmhg" and s.observed_at == at(0) for s in samples)


def test_it_reads_lines_and_tolerates_a_byte_order_mark() -> None:
    lines = ["\ufeffobserved_at,blood_flow_l_min\n", "2025-01-06T14:00:00Z,4.8\n"]
    assert read_wide_csv(lines) == [Sample(at(0), "blood_flow_l_min", 4.8)]


@pytest.mark.parametrize(
    ("text", "row", "column", "words"),
    [
        ("", 1, "observed_at", "the file is empty"),
        (" , \n", 1, "observed_at", "the file is empty"),
        ("time,fdo2\n", 1, "observed_at", "observed_at exactly once"),
        ("observed_at,observed_at\n", 1, "observed_at", "observed_at exactly once"),
        ("observed_at,blood_flow\n", 1, "blood_flow", "did you mean blood_flow_l_min?"),
        ("observed_at,zzz\n", 1, "zzz", "unknown column: not a parameter code of core-api §4"),
        ("observed_at,,fdo2\n", 1, "#2", "the column has no name"),
        ("observed_at,fdo2@\n", 1, "fdo2@", "the source after @ is empty"),
        ("observed_at,fdo2,fdo2@device\n", 1, "fdo2@device", "the column appears twice"),
        (
            "observed_at,fdo2\n2025-01-06T14:00Z,1.0,3\n",
            2,
            "observed_at",
            "the row has 3 cells, the header 2",
        ),
        ("observed_at,fdo2\nyesterday,1.0\n", 2, "observed_at", "'yesterday' is not an ISO 8601 date"),
        (
            "observed_at,fdo2\n2025-01-06T14:00,1.0\n",
            2,
            "observed_at",
            "no UTC offset: write e.g. 2025-01-06T14:00Z",
        ),
        (
            "observed_at,fdo2\n2025-01-06T14:00Z,high\n",
            2,
            "fdo2",
            "'high' is not a number (accepted range [0.21, 1]",
        ),
        (
            "observed_at,fdo2\n2025-01-06T14:00Z,1.0\n2025-01-06T14:01Z,100\n",
            3,
            "fdo2",
            "100 is not a fraction",
        ),
        (
            "observed_at,access_pressure_mmhg\n2025-01-06T14:00Z,-900\n",
            2,
            "access_pressure_mmhg",
            "[-500, 100] mmHg",
        ),
        ("observed_at,blood_flow_l_min\n2025-01-06T14:00Z,nan\n", 2, "blood_flow_l_min", "finite"),
    ],
)
def test_it_names_the_row_and_column_of_bad_input(text: str, row: int, column: str, words: str) -> None:
    error = csv_error(text)
    assert (error.row, error.column, error.field) == (row, column, column)
    assert words in str(error)
    assert str(error).startswith(f"row {row}, column {column}: ")
    assert isinstance(error, InputError)


# --- replaying ----------------------------------------------------------------------------------------------


def test_it_reports_every_transition_of_the_lost_o2_supply() -> None:
    transitions = [t for t in replay(read_wide_csv(O2_SUPPLY_LOST)) if t.rule_id == "oxygenator.post_po2_low"]
    assert [(t.at, t.from_status, t.to_status, t.severity) for t in transitions] == [
        (at(0), None, "indeterminate", "info"),
        (at(20), "indeterminate", "firing", "critical"),
        (at(40), "firing", "clear", "info"),
    ]


def test_it_reports_a_change_of_severity_alone() -> None:
    samples = [
        Sample(at(h * 60), "plasma_free_hb_mg_dl", v, "lab") for h, v in ((0, 16.0), (6, 48.0), (12, 62.0))
    ]
    transitions = [t for t in replay(samples) if t.rule_id == "hemolysis.pfhb_high"]
    assert [(t.from_status, t.to_status, t.severity) for t in transitions] == [
        (None, "firing", "warning"),
        ("firing", "firing", "critical"),
    ]
    assert (
        transitions[1]
        .as_line()
        .startswith("2025-01-07T02:00:00Z  hemolysis.pfhb_high  firing → firing (critical)")
    )


def test_it_reports_when_a_rule_stops_applying() -> None:
    samples = steady("blood_flow_l_min", 4.0, start=at(0), end=at(500))
    samples += steady("pump_speed_rpm", 3500.0, start=at(0), end=at(500))
    context = RunContext(weaning_trials=((at(450), at(480)),))
    transitions = [t for t in replay(samples, context=context) if t.rule_id == "pump.flow_per_rpm_fall"]
    assert [(t.at, t.from_status, t.to_status) for t in transitions] == [
        (at(0), None, "indeterminate"),
        (at(360), "indeterminate", "clear"),
        (at(450), "clear", None),
        (at(481), None, "clear"),
    ]
    stopped = transitions[2]
    assert (
        stopped.message == "No longer evaluated: the rule applies to times outside a recorded weaning trial."
    )
    assert stopped.as_dict() == {
        "at": "2025-01-06T21:30:00Z",
        "rule_id": "pump.flow_per_rpm_fall",
        "from": "clear",
        "to": None,
        "severity": "info",
        "message": stopped.message,
    }
    assert "  clear → not applicable  " in stopped.as_line()


def test_it_steps_through_time_between_samples() -> None:
    samples = [Sample(at(0), "blood_flow_l_min", 4.0), Sample(at(100), "blood_flow_l_min", 4.0)]
    context = RunContext(last_check_at=at(0))
    by_sample = [t for t in replay(samples, context=context) if t.rule_id == "documentation.check_overdue"]
    assert [(t.at, t.to_status) for t in by_sample] == [(at(0), "clear"), (at(100), "firing")]
    stepped = replay(samples, context=context, step=timedelta(minutes=5))
    overdue = [t for t in stepped if t.rule_id == "documentation.check_overdue"]
    assert [(t.at, t.to_status) for t in overdue] == [(at(0), "clear"), (at(80), "firing")]


def test_it_limits_the_replay_to_start_and_end() -> None:
    samples = read_wide_csv(O2_SUPPLY_LOST)
    transitions = replay(samples, start=at(10), end=at(30))
    assert {t.at for t in transitions} == {at(20)}
    stepped = replay(samples, start=at(10), end=at(30), step=timedelta(minutes=10))
    assert {t.at for t in stepped} == {at(10), at(20)}


def test_it_replays_nothing_from_nothing() -> None:
    assert replay([]) == []


def test_it_refuses_a_step_that_is_not_positive() -> None:
    with pytest.raises(InputError) as error:
        replay(read_wide_csv(O2_SUPPLY_LOST), step=timedelta(0))
    assert error.value.field == "step"


def test_it_formats_transitions() -> None:
    first = Transition(at(0), "air.detected", None, "indeterminate", "info", "No reading.")
    assert first.as_line() == "2025-01-06T14:00:00Z  air.detected  — → indeterminate  No reading."


# --- TOML ---------------------------------------------------------------------------------------------------


def test_it_reads_rule_settings_and_the_run_from_toml() -> None:
    config, context = load_replay_toml(
        '[run]\nconfiguration = "vv"\noxygenator_installed_at = 2025-01-01T10:05:00Z\n'
        "[oxygenator.post_po2_low]\nthreshold_mmhg = 180\n"
    )
    assert config.post_po2_low.threshold_mmhg == 180.0
    assert context.configuration == "vv" and context.oxygenator_install_times == (
        datetime(2025, 1, 1, 10, 5, tzinfo=UTC),
    )
    assert load_replay_toml("")[1] == RunContext()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[run\n", "config"),
        ("[run]\nconfiguration = 3\n", "run.configuration"),
        ("run = 3\n", "run"),
        ("[oxygenator.post_po2_low]\nthreshold_mmhg = 120\n", "oxygenator.post_po2_low.threshold_mmhg"),
    ],
)
def test_it_names_the_bad_key_of_a_toml_file(text: str, field: str) -> None:
    with pytest.raises(InputError) as error:
        load_replay_toml(text)
    assert error.value.field == field


# --- command line -------------------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_it_prints_one_line_per_transition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([write(tmp_path, "run.csv", O2_SUPPLY_LOST)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        "2025-01-06T14:20:00Z  oxygenator.post_po2_low  indeterminate → firing (critical)  "
        "Post-oxygenator PO2 108" in "\n".join(lines)
    )
    assert all(line.count("  ") >= 3 for line in lines)


def test_it_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([write(tmp_path, "run.csv", O2_SUPPLY_LOST), "--json", "--step-min", "20"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert all(set(r) == {"at", "rule_id", "from", "to", "severity", "message"} for r in records)
    firing = [r for r in records if r["to"] == "firing"]
    assert firing == [
        {
            "at": "2025-01-06T14:20:00Z",
            "rule_id": "oxygenator.post_po2_low",
            "from": "indeterminate",
            "to": "firing",
            "severity": "critical",
            "message": firing[0]["message"],
        }
    ]


def test_it_replays_the_documented_example(capsys: pytest.CaptureFixture[str]) -> None:
    csv_path, toml_path = DOCS / "example-delta-p.csv", DOCS / "example-replay.toml"
    assert main([str(csv_path), "--config", str(toml_path), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    delta_p = [(r["from"], r["to"]) for r in records if r["rule_id"] == "oxygenator.delta_p_rise"]
    assert delta_p == [(None, "indeterminate"), ("indeterminate", "clear"), ("clear", "firing")]
    assert any(r["rule_id"] == "documentation.check_overdue" and r["to"] == "firing" for r in records)
    assert not any(r["rule_id"] == "recirculation.high" and r["to"] == "firing" for r in records)


def test_it_exits_2_naming_the_row_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "bad.csv", "observed_at,fdo2\n2025-01-06T14:00Z,1.0\n2025-01-06T14:01Z,100\n")
    assert main([path]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"ecmo replay: {path}: row 3, column fdo2: 100 is not a fraction")


def test_it_exits_2_on_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_path = write(tmp_path, "run.csv", O2_SUPPLY_LOST)
    toml_path = write(tmp_path, "site.toml", "[recirculation.high]\nthreshold_fraction = 0.35\n")
    assert main([csv_path, "--config", toml_path]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ecmo replay: {toml_path}: recirculation.high.threshold_fraction: 0.35")
    assert "[0.2, 0.3]" in err


def test_it_exits_2_when_a_file_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "missing.csv")
    assert main([missing]) == 2
    assert capsys.readouterr().err.startswith(f"ecmo replay: cannot read {missing}: ")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00observed_at")
    assert main([str(binary)]) == 2


def test_it_exits_2_on_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["x.csv", "--step-min", "0"]) == 2
    assert main(["x.csv", "--step-min", "soon"]) == 2
    assert main(["x.csv", "--step-min", "inf"]) == 2
    assert "must be a positive number of minutes" in capsys.readouterr().err


def test_it_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ecmo replay") and "--config FILE.toml" in out and "--json" in out
