"""The perfusion role profile (``ecmo_core.profile``), from records with known counts.

- every area is listed, zero included, in the published order, with its scope
- counts and links (unique, oldest first) per area; records outside [start, end) are left out at both edges
- technical vs expanded totals
- months: every calendar month of the period, empty ones included, in the time zone of ``start``; an end at
  midnight on the 1st opens no new month; a record late on the 31st in UTC may fall in the next local month
- bad input: a naive datetime, an end not after the start, an unknown area — each names its field
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ecmo_core.errors import InputError
from ecmo_core.profile import AREAS, Record, by_month, scope_totals, summarise

START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)


def _at(day: int, month: int = 10, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


RECORDS = [
    Record("circuit_checks", _at(1, hour=0), "check 1", "/runs/1/#check-1"),  # at start: in
    Record("circuit_checks", _at(2), "check 2", "/runs/1/#check-2"),
    Record("circuit_checks", _at(3), "check 2 again", "/runs/1/#check-2"),  # same link: listed once
    Record("alerts_handled", _at(5), "ack", "/alerts/7/"),
    Record("targets", _at(10, month=11), "flow target", "/decisions/3/"),
    Record("rounds", _at(11, month=11), "rounds", ""),  # no link: counted, not linked
    Record("research", END, "at end: out", "/studies/1/"),
    Record("research", START - timedelta(microseconds=1), "before start: out", "/studies/2/"),
]


def test_it_lists_every_area_with_its_count_and_links() -> None:
    counts = {c.area: c for c in summarise(RECORDS, start=START, end=END)}
    assert [c for c in counts] == [a.key for a in AREAS]
    assert counts["circuit_checks"].count == 3
    assert counts["circuit_checks"].links == ("/runs/1/#check-1", "/runs/1/#check-2")
    assert counts["alerts_handled"].count == 1 and counts["alerts_handled"].scope == "technical"
    assert counts["targets"].count == 1 and counts["targets"].scope == "expanded"
    assert counts["rounds"].count == 1 and counts["rounds"].links == ()
    assert counts["research"].count == 0  # both research records lie outside [start, end)
    assert counts["mm"].count == 0 and counts["mm"].links == ()


def test_it_splits_technical_and_expanded() -> None:
    # technical: 3 checks + 1 alert = 4; expanded: 1 target + 1 rounds = 2
    assert scope_totals(summarise(RECORDS, start=START, end=END)) == {"technical": 4, "expanded": 2}


def test_it_counts_by_month_including_empty_months() -> None:
    months = by_month(RECORDS, start=START, end=END)
    assert [(m.month, m.technical, m.expanded) for m in months] == [("2026-10", 4, 0), ("2026-11", 0, 2)]
    empty = by_month([], start=START, end=datetime(2027, 1, 15, tzinfo=UTC))
    assert [m.month for m in empty] == ["2026-10", "2026-11", "2026-12", "2027-01"]
    assert all(m.technical == m.expanded == 0 for m in empty)


def test_it_counts_months_in_the_time_zone_of_the_start() -> None:
    plus2 = timezone(timedelta(hours=2))
    start = datetime(2026, 10, 1, tzinfo=plus2)
    late = Record("circuit_checks", datetime(2026, 10, 31, 23, 30, tzinfo=UTC))  # 01:30 on 1 Nov at +02:00
    months = by_month([late], start=start, end=datetime(2026, 12, 1, tzinfo=plus2))
    assert [(m.month, m.technical) for m in months] == [("2026-10", 0), ("2026-11", 1)]


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (datetime(2026, 10, 1), END, "start"),
        (START, datetime(2026, 12, 1), "end"),
        (START, START, "end"),
        (END, START, "end"),
    ],
)
def test_it_refuses_a_bad_period(start: datetime, end: datetime, field: str) -> None:
    for function in (summarise, by_month):
        with pytest.raises(InputError) as caught:
            function([], start=start, end=end)
        assert caught.value.field == field


def test_it_refuses_an_unknown_area() -> None:
    with pytest.raises(InputError) as caught:
        summarise([Record("coffee", _at(2))], start=START, end=END)
    assert caught.value.field == "area" and "circuit_checks" in str(caught.value)
