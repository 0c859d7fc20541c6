"""ecmo_core.exports.research: the Safe Harbor de-identified rows.

- keyed pseudonyms: stable for a key, different under another key, refused for a short key;
- ages: whole years at cannulation, 89 stays 89, 90 becomes 90+, an unknown birth year is empty, a birth after
  cannulation is refused;
- times are hours from cannulation; no identifier, serial, lot, uncatalogued model or free text reaches a row;
- the data dictionary describes every column of every table, and SAFE_HARBOR lists all 18 classes.
"""

from __future__ import annotations

import pytest
from exports_fixtures import bare_run, full_run

from ecmo_core.errors import InputError
from ecmo_core.exports import research

KEY = b"k" * 32


def test_it_makes_keyed_pseudonyms() -> None:
    assert research.pseudonym(KEY, "patient", "TEST-0007") == research.pseudonym(KEY, "patient", "TEST-0007")
    assert research.pseudonym(KEY, "patient", "TEST-0007") != research.pseudonym(
        b"j" * 32, "patient", "TEST-0007"
    )
    assert research.pseudonym(KEY, "run", 7).startswith("R-")
    with pytest.raises(InputError) as error:
        research.pseudonym(b"short", "patient", "x")
    assert error.value.field == "key"


@pytest.mark.parametrize(
    ("birth_year", "expected"), [(1937, "89"), (1936, "90+"), (1930, "90+"), (2026, "0"), (None, "")]
)
def test_it_groups_ages_over_89(birth_year: int | None, expected: str) -> None:
    assert research.age_group(birth_year=birth_year, at_year=2026) == expected


def test_it_refuses_a_birth_after_cannulation() -> None:
    with pytest.raises(InputError) as error:
        research.age_group(birth_year=2027, at_year=2026)
    assert error.value.field == "birth_year"


def test_it_keeps_no_identifier_or_free_text() -> None:
    rows = list(research.research_rows(full_run(), key=KEY))
    text = repr(rows)
    for secret in (
        "TEST-0007",
        "TEST-MRN-7",
        "Test Person",
        "TEST-NAT-7",
        "TEST-CON-1",
        "TEST-OXY-1",
        "TEST-LOT",
        "Cardiogenic shock",
        "Differential hypoxaemia",
        "Rising ΔP",
        "clot on the inflow face",
        "alice",
        "Cardiohelp",
        "Impella CP",
        "1968",
        "2026-11",
    ):
        assert secret not in text, secret
    tables = {table for table, _ in rows}
    assert tables == set(research.TABLES)
    for table, row in rows:
        assert tuple(row) == research.COLUMNS[table]


def test_it_reports_hours_from_cannulation() -> None:
    rows = list(research.research_rows(full_run(), key=KEY))
    run = next(r for t, r in rows if t == "runs")
    assert (run["duration_hours"], run["age_years"], run["initial_mode"], run["cannulation_year"]) == (
        72.0,
        "58",
        "va",
        2026,
    )
    assert [r["start_hours"] for t, r in rows if t == "configurations"] == [0.0, 30.0]
    assert [r["hours"] for t, r in rows if t == "labs"][:2] == [-8.0, -1.0]
    catalogued = [(r["maker"], r["model"]) for t, r in rows if t == "components"]
    assert catalogued[2:4] == [("Getinge", "HLS 7.0")] * 2 and catalogued[0] == ("", "")


def test_it_handles_a_bare_ongoing_run() -> None:
    rows = list(research.research_rows(bare_run(), key=KEY))
    assert [t for t, _ in rows] == ["patients", "runs"]
    run = rows[1][1]
    assert run["duration_hours"] is None and run["initial_mode"] == "" and run["age_years"] == ""


def test_it_describes_every_column_and_all_18_classes() -> None:
    assert len(research.SAFE_HARBOR) == 18
    assert [name[0] for name, _ in research.SAFE_HARBOR] == list("ABCDEFGHIJKLMNOPQR")
    assert all(len(columns) == len(set(columns)) for columns in research.COLUMNS.values())
