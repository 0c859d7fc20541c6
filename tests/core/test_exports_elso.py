"""ecmo_core.exports.elso: ELSO registry records, CSV rows and the mandatory-field completeness check.

- every ELSO field is filled from the run (pre-ECLS values: the last within the window before flow);
- a complete ended run has nothing missing; a bare ongoing run lacks the "always" fields only;
- an ended run also owes stop time, discontinuation reason, survival and discharge status;
- the window must be above 0 and at most 48 h.
"""

from __future__ import annotations

import pytest
from exports_fixtures import T0, bare_run, full_run, h

from ecmo_core.errors import InputError
from ecmo_core.exports import elso


def test_it_fills_every_field_of_a_full_run() -> None:
    record = elso.elso_record(full_run())
    assert set(record) == set(elso.FIELD_KEYS)
    assert record["support_type"] == "cardiac" and record["initial_mode"] == "V-A"
    assert record["mode_changes"] == [{"mode": "V-AV", "start": h(30).isoformat(), "stop": h(72).isoformat()}]
    # pre-ECLS pH: 7.30 at −8 h is outside the 6 h window; 7.18 at −1 h is the last inside it
    assert (record["pre_ecls_ph"], record["pre_ecls_paco2_mmhg"], record["pre_ecls_pao2_mmhg"]) == (
        7.18,
        52.0,
        61.0,
    )
    assert record["pre_ecls_sao2"] is None
    assert record["pump"] == {"maker": "Getinge", "model": "HLS pump"}
    assert record["equipment"][2]["reason_replaced"] == "Rising ΔP"
    assert record["equipment"][3]["reason_replaced"] is None
    assert record["complications"][0] == {
        "category": "mechanical",
        "code": "mech.oxygenator_failure",
        "label": "Oxygenator failure",
        "onset": h(39).isoformat(),
    }
    assert (record["discontinuation_reason"], record["survived_ecls"], record["discharged_alive"]) == (
        "expected_recovery",
        True,
        True,
    )
    assert elso.completeness(full_run())["complete"] is True


def test_it_widens_the_pre_ecls_window_when_asked() -> None:
    assert elso.pre_ecls_values(full_run(), window_hours=12)["pre_ecls_ph"] == 7.18
    early = full_run(measurements=(full_run().measurements[0],))
    assert elso.pre_ecls_values(early)["pre_ecls_ph"] is None
    assert elso.pre_ecls_values(early, window_hours=12)["pre_ecls_ph"] == 7.30


@pytest.mark.parametrize("hours", [0, -1, 48.5])
def test_it_refuses_a_window_outside_0_to_48_hours(hours: float) -> None:
    with pytest.raises(InputError) as error:
        elso.pre_ecls_values(full_run(), window_hours=hours)
    assert error.value.field == "pre_ecls_window_hours"


def test_it_lists_what_a_bare_ongoing_run_lacks() -> None:
    found = elso.completeness(bare_run())
    assert found["complete"] is False
    assert [m["field"] for m in found["missing"]] == [
        "sex",
        "birth_year",
        "weight_kg",
        "initial_mode",
        "pre_ecls_ph",
        "pre_ecls_paco2_mmhg",
        "pre_ecls_pao2_mmhg",
        "cannulations",
        "pump",
        "oxygenator",
    ]


def test_it_asks_an_ended_run_for_its_outcome() -> None:
    ended = full_run(outcome="ongoing", survived_to_discharge=None)
    missing = [m["field"] for m in elso.completeness(ended)["missing"]]
    assert missing == ["discontinuation_reason", "survived_ecls", "discharged_alive"]


@pytest.mark.parametrize(
    ("outcome", "reason", "survived"),
    [
        ("died_on_ecmo", "died_on_ecls", False),
        ("withdrawn", "poor_prognosis", False),
        ("bridge_vad", "vad", True),
        ("transferred", "transferred_on_ecls", True),
    ],
)
def test_it_maps_the_outcome(outcome: str, reason: str, survived: bool) -> None:
    record = elso.elso_record(full_run(outcome=outcome))
    assert (record["discontinuation_reason"], record["survived_ecls"]) == (reason, survived)


def test_it_flattens_a_record_for_csv() -> None:
    row = elso.csv_row(elso.elso_record(full_run()))
    assert list(row) == list(elso.FIELD_KEYS)
    assert row["pump"] == "Getinge HLS pump"
    assert row["cannulations"].startswith(
        f"site=right_femoral_vein size_fr=25 purpose=drainage inserted={T0.isoformat()}"
    )
    assert row["mode_changes"] == f"mode=V-AV start={h(30).isoformat()} stop={h(72).isoformat()}"
    assert elso.csv_row(elso.elso_record(bare_run()))["pump"] is None
