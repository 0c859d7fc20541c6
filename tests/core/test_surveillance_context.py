"""Spec checklist — the run context (core-api §4 "context"; docs/rules/replay.md ``[run]``):

- [x] configuration is one of vv, va, vav, vva ("V-V" is accepted and normalised); history wins from its time
- [x] every time must be aware; lists are sorted; the current component is the latest install at or before now
- [x] weaning: a flag or intervals (open-ended allowed, an end before its start refused)
- [x] anticoagulation targets: known tests only, (low, high) pairs within the plausible range, low < high
- [x] ``context_from_mapping`` reads the TOML ``[run]`` table (TOML times or ISO strings, one time or a list)
      and names every bad key as ``run.<key>``
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecmo_core.errors import InputError
from ecmo_core.surveillance import RunContext, context_from_mapping

T0 = datetime(2025, 1, 1, 10, 5, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_it_normalises_the_configuration() -> None:
    assert RunContext(configuration="V-V").configuration == "vv"
    assert RunContext(configuration="VV-A").configuration == "vva"
    with pytest.raises(InputError) as error:
        RunContext(configuration="ecpr")
    assert error.value.field == "configuration" and "vv, va, vav, vva" in str(error.value)


def test_it_follows_the_configuration_history() -> None:
    context = RunContext(configuration="va", configuration_history=[(at(48), "V-AV"), (at(24), "va")])
    assert context.configuration_at(at(1)) == "va"
    assert context.configuration_at(at(49)) == "vav"
    assert context.configuration_history[0] == (at(24), "va")
    with pytest.raises(InputError) as error:
        RunContext(configuration_history=[(at(1), None)])
    assert error.value.field == "configuration_history[0]"


def test_it_picks_the_component_in_use_at_a_moment() -> None:
    context = RunContext(oxygenator_install_times=[at(100), at(0)], oxygenator_installed_at=at(150))
    assert context.oxygenator_install_times == (at(0), at(100))
    assert context.oxygenator_installed_as_of(at(-1)) is None
    assert context.oxygenator_installed_as_of(at(120)) == at(100)
    assert context.oxygenator_installed_as_of(at(151)) == at(150)
    assert RunContext(pump_head_installed_at=at(0)).pump_head_installed_as_of(at(1)) == at(0)


def test_it_converts_times_to_utc_and_refuses_naive_ones() -> None:
    paris = datetime(2025, 1, 1, 11, 5, tzinfo=__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert RunContext(run_started_at=paris).run_started_at == T0
    with pytest.raises(InputError) as error:
        RunContext(last_check_at=datetime(2025, 1, 1, 10, 0))
    assert error.value.field == "last_check_at"
    with pytest.raises(InputError) as listed:
        RunContext(check_times=[T0, "2025-01-01"])
    assert listed.value.field == "check_times[1]"
    with pytest.raises(InputError) as not_a_list:
        RunContext(check_times="2025-01-01T10:00Z")  # type: ignore[arg-type]
    assert not_a_list.value.field == "check_times"
    assert RunContext(check_times=T0).check_times == (T0,)  # type: ignore[arg-type]


def test_it_knows_when_a_weaning_trial_is_on() -> None:
    assert RunContext(weaning_trial_active=True).weaning_at(T0)
    context = RunContext(weaning_trials=[(at(1), at(2)), (at(5), None)])
    assert [context.weaning_at(at(h)) for h in (0.5, 1.5, 3, 6)] == [False, True, False, True]
    with pytest.raises(InputError) as backwards:
        RunContext(weaning_trials=[(at(2), at(1))])
    assert backwards.value.field == "weaning_trials[0]"
    with pytest.raises(InputError) as not_pairs:
        RunContext(weaning_trials=[at(1)])  # type: ignore[list-item]
    assert not_pairs.value.field == "weaning_trials[0]"
    with pytest.raises(InputError) as not_a_list:
        RunContext(weaning_trials="today")  # type: ignore[arg-type]
    assert not_a_list.value.field == "weaning_trials"
    with pytest.raises(InputError):
        RunContext(weaning_trial_active="yes")  # type: ignore[arg-type]


def test_it_finds_the_last_check() -> None:
    context = RunContext(last_check_at=at(1), check_times=[at(0), at(2)])
    assert context.last_check_as_of(at(1.5)) == at(1)
    assert context.last_check_as_of(at(3)) == at(2)
    assert context.last_check_as_of(at(-1)) is None


@pytest.mark.parametrize(
    ("targets", "field", "text"),
    [
        ({"heparin": (1, 2)}, "anticoagulation_targets.heparin", "anti_xa_iu_ml, aptt_s, act_s"),
        ({"anti_xa_iu_ml": (0.5, 0.3)}, "anticoagulation_targets.anti_xa_iu_ml", "must be below high"),
        ({"anti_xa_iu_ml": (0.3,)}, "anticoagulation_targets.anti_xa_iu_ml", "pair (low, high)"),
        ({"aptt_s": (45, 650)}, "anticoagulation_targets.aptt_s", "accepted range [5, 300] s"),
        ([("aptt_s", (45, 65))], "anticoagulation_targets", "must map a test"),
    ],
)
def test_it_checks_anticoagulation_targets(targets: Any, field: str, text: str) -> None:
    with pytest.raises(InputError) as error:
        RunContext(anticoagulation_targets=targets)
    assert error.value.field == field
    assert text in str(error.value)


def test_it_keeps_targets_read_only() -> None:
    context = RunContext(anticoagulation_targets={"anti_xa_iu_ml": [0.3, 0.5]})
    assert context.anticoagulation_targets == {"anti_xa_iu_ml": (0.3, 0.5)}
    with pytest.raises(TypeError):
        context.anticoagulation_targets["aptt_s"] = (1.0, 2.0)  # type: ignore[index]


def test_it_reads_the_run_table_of_a_replay_file() -> None:
    context = context_from_mapping(
        {
            "configuration": "vv",
            "configuration_history": [[at(48), "vav"]],
            "run_started_at": "2025-01-01T10:05:00Z",
            "oxygenator_installed_at": [at(0), "2025-01-07T14:21:10+00:00"],
            "pump_head_installed_at": at(0),
            "weaning_trial_active": False,
            "weaning_trials": [[at(1), at(2)], [at(5)]],
            "anticoagulation_targets": {"anti_xa_iu_ml": [0.3, 0.5]},
            "last_check_at": at(1),
            "check_times": [at(0)],
        }
    )
    assert context.configuration == "vv" and context.configuration_at(at(49)) == "vav"
    assert context.run_started_at == T0
    assert context.oxygenator_install_times[1] == datetime(2025, 1, 7, 14, 21, 10, tzinfo=UTC)
    assert context.pump_head_install_times == (T0,)
    assert context.weaning_trials == ((at(1), at(2)), (at(5), None))
    assert context.anticoagulation_targets["anti_xa_iu_ml"] == (0.3, 0.5)
    assert context.check_times == (T0,) and context.last_check_at == at(1)


@pytest.mark.parametrize(
    ("mapping", "field", "text"),
    [
        ({"oxygenator": "x"}, "run.oxygenator", "unknown key; accepted: configuration"),
        ({"run_started_at": "yesterday"}, "run.run_started_at", "is not an ISO 8601 date and time"),
        ({"run_started_at": "2025-01-01T10:05"}, "run.run_started_at", "no time zone"),
        ({"check_times": ["2025-01-01T10:05Z", 3]}, "run.check_times[1]", "must be a date and time"),
        ({"configuration_history": [[T0]]}, "run.configuration_history[0]", "[since, configuration]"),
        ({"configuration_history": "vv"}, "run.configuration_history", "must be a list"),
        ({"configuration_history": [[T0, "ecpr"]]}, "run.configuration_history[0]", "must be one of"),
        ({"weaning_trials": [[T0, T0, T0]]}, "run.weaning_trials[0]", "[start] or [start, end]"),
        ({"weaning_trials": [T0]}, "run.weaning_trials[0]", "must be a list"),
        ({"weaning_trial_active": "no"}, "run.weaning_trial_active", "true or false"),
        ({"anticoagulation_targets": [0.3, 0.5]}, "run.anticoagulation_targets", "test = [low, high]"),
        (
            {"anticoagulation_targets": {"anti_xa_iu_ml": [0.3, 7]}},
            "run.anticoagulation_targets.anti_xa_iu_ml",
            "5",
        ),
        ({"configuration": "ecmo"}, "run.configuration", "must be one of vv, va, vav, vva"),
    ],
)
def test_it_names_the_bad_key_of_a_run_table(mapping: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(InputError) as error:
        context_from_mapping(mapping)
    assert error.value.field == field
    assert text in str(error.value)


def test_it_refuses_a_run_table_that_is_not_a_table() -> None:
    with pytest.raises(InputError) as error:
        context_from_mapping("vv")  # type: ignore[arg-type]
    assert error.value.field == "run"
