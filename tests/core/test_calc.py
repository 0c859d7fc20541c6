"""The ``ecmo calc`` engine (ecmo_core.calc).

Spec checklist:
- [x] the registry is built from the CALCULATORS tuples of physiology, oxygenation, scores and
      anticoagulation, imported lazily; a module that does not exist yet is skipped, one that exists but fails
      to import is an error; a listed name that is not a function, or a name two modules claim, is an error.
- [x] an unknown calculator is InputError("name") listing the names there are.
- [x] run_calculator refuses unknown and missing keywords naming them, and converts results to JSON types
      (dataclasses → dicts, MappingProxyType → dict, tuples → lists, floats as they are).
- [x] describe gives each keyword's name, annotation text, required flag and default, for web forms.
- [x] ``calc NAME --json '{...}'`` prints JSON and exits 0; bad input, bad JSON and usage errors exit 2 with
      one line on stderr naming the field; ``calc --list`` lists names; ``--json -`` reads stdin.
- [x] ``python -m ecmo_core.calc`` works (subprocess and in-process).
- [ ] INTEGRATION (run by the lead once physiology, oxygenation and scores have landed): every name and
      keyword of core-api §1–3 resolves through the registry — ``test_it_resolves_every_core_api_name``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import inspect
import io
import json
import runpy
import subprocess
import sys
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from ecmo_core import anticoagulation, calc
from ecmo_core.calc import calculator_names, describe, get_calculator, main, run_calculator, to_jsonable
from ecmo_core.errors import InfeasibleError, InputError

TITRATE: dict[Any, Any] = {"measured_value": 0.75, "current_rate_units_kg_h": 18, "weight_kg": 70}


def _fake_module(monkeypatch: pytest.MonkeyPatch, name: str, **attributes: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for key, value in attributes.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)
    return module


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Replace the registry's modules with fake ones: fakes(("mod", {"CALCULATORS": ..., "fn": fn}), ...)."""

    def install(*modules: tuple[str, Mapping[str, object]]) -> None:
        for name, attributes in modules:
            _fake_module(monkeypatch, name, **attributes)
        monkeypatch.setattr(calc, "CALCULATOR_MODULES", tuple(name for name, _ in modules))

    return install


# --- registry --------------------------------------------------------------------------------------------


def test_it_registers_the_anticoagulation_calculators() -> None:
    names = calculator_names()
    assert {"default_targets", "classify", "titrate"} <= set(names)
    assert names == sorted(names)
    assert get_calculator("titrate") is anticoagulation.titrate


def test_it_reads_from_the_four_core_modules() -> None:
    assert calc.CALCULATOR_MODULES == (
        "ecmo_core.physiology",
        "ecmo_core.oxygenation",
        "ecmo_core.scores",
        "ecmo_core.anticoagulation",
    )


def test_it_skips_a_module_that_does_not_exist_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        calc, "CALCULATOR_MODULES", ("ecmo_core._not_written_yet", "ecmo_core.anticoagulation")
    )
    assert calculator_names() == ["classify", "default_targets", "titrate"]


def test_it_surfaces_a_module_that_exists_but_fails_to_import(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "calc_broken_module.py").write_text("import calc_missing_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(calc, "CALCULATOR_MODULES", ("calc_broken_module",))
    with pytest.raises(ModuleNotFoundError) as caught:
        calculator_names()
    assert caught.value.name == "calc_missing_dependency_xyz"


def test_it_skips_a_module_without_calculators(fakes: Callable[..., None]) -> None:
    fakes(("fake_plain", {}), ("fake_one", {"CALCULATORS": ("one",), "one": lambda: 1}))
    assert calculator_names() == ["one"]


def test_it_refuses_a_listed_name_that_is_not_a_function(fakes: Callable[..., None]) -> None:
    fakes(("fake_bad", {"CALCULATORS": ("missing", "constant"), "constant": 3}))
    with pytest.raises(LookupError, match="'missing'"):
        calculator_names()


def test_it_refuses_a_name_claimed_by_two_modules(fakes: Callable[..., None]) -> None:
    fakes(
        ("fake_a", {"CALCULATORS": ("same",), "same": len}),
        ("fake_b", {"CALCULATORS": ("same",), "same": abs}),
    )
    with pytest.raises(LookupError, match="both fake_a and fake_b"):
        calculator_names()


@pytest.mark.parametrize("name", ["no_such_calculator", "", "CLASSIFY", None, 3])
def test_it_names_the_field_for_an_unknown_calculator(name: Any) -> None:
    with pytest.raises(InputError) as caught:
        get_calculator(name)
    assert caught.value.field == "name"
    assert "use one of: " in caught.value.message
    assert "titrate" in caught.value.message


# --- run_calculator --------------------------------------------------------------------------------------


def test_it_runs_titrate_and_returns_json_types() -> None:
    output = run_calculator("titrate", TITRATE)
    assert output["calculator"] == "titrate"
    result = output["result"]
    assert isinstance(result, dict)
    # 0.75 IU/mL is in [0.71, 0.81): 18 − 1 = 17 U/kg/h.
    assert result["new_rate_units_kg_h"] == 17.0
    assert result["step"] == {
        "lower": 0.71,
        "upper": 0.81,
        "hold_minutes": 0,
        "bolus_units_kg": 0.0,
        "rate_change_units_kg_h": -1.0,
        "recheck_hours": 6.0,
        "message": "",
    }
    json.dumps(output)  # JSON-ready all the way down


def test_it_runs_titrate_with_a_nomogram_mapping() -> None:
    nomogram = dataclasses.asdict(anticoagulation.DEFAULT_UFH_ANTI_XA_NOMOGRAM)
    nomogram["name"] = "Site protocol"
    result = run_calculator("titrate", {**TITRATE, "nomogram": nomogram})["result"]
    assert isinstance(result, dict)
    assert result["nomogram"] == "Site protocol"


def test_it_runs_default_targets_into_a_list_of_dicts() -> None:
    result = run_calculator("default_targets", {"agent": "bivalirudin"})["result"]
    assert result == [
        {
            "test": "aptt_s",
            "low": 60.0,
            "high": 80.0,
            "unit": "s",
            "source": "Burstein 2019, high-intensity aPTT [S48]",
        }
    ]


def test_it_runs_classify_with_a_target_mapping() -> None:
    arguments = {"test": "act_s", "value": 230, "target": {"test": "act_s", "low": 180, "high": 220}}
    assert run_calculator("classify", arguments) == {"calculator": "classify", "result": "above"}


@pytest.mark.parametrize(
    ("arguments", "field", "words"),
    [
        ({**TITRATE, "weight": 70}, "weight", "is not an input of titrate; its inputs are: measured_value"),
        ({"measured_value": 0.5, "weight_kg": 70}, "current_rate_units_kg_h", "is required by titrate"),
        ({}, "measured_value", "is required"),
        ({1: 2, **TITRATE}, "1", "must be strings"),
        ({**TITRATE, "weight_kg": -70}, "weight_kg", "outside the accepted range"),
        ({**TITRATE, "nomogram": {"steps": []}}, "nomogram.name", "is required"),
    ],
)
def test_it_names_the_keyword_at_fault(arguments: dict[Any, Any], field: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        run_calculator("titrate", arguments)
    assert caught.value.field == field
    assert words in caught.value.message


def test_it_refuses_arguments_that_are_not_a_mapping() -> None:
    with pytest.raises(InputError) as caught:
        run_calculator("titrate", [0.5, 18, 70])  # type: ignore[arg-type]
    assert caught.value.field == "arguments"


def test_it_lets_infeasible_states_through_as_infeasible_errors() -> None:
    with pytest.raises(InfeasibleError):
        run_calculator("titrate", {"measured_value": 2.0, "current_rate_units_kg_h": 1, "weight_kg": 70})


def test_it_ignores_variadic_parameters_of_a_calculator(fakes: Callable[..., None]) -> None:
    def flexible(*args: object, dose_mg: float = 1.0, **kwargs: object) -> float:
        return dose_mg * 2

    fakes(("fake_flexible", {"CALCULATORS": ("flexible",), "flexible": flexible}))
    assert run_calculator("flexible", {"dose_mg": 2.5})["result"] == 5.0
    with pytest.raises(InputError) as caught:
        run_calculator("flexible", {"kwargs": 1})
    assert caught.value.field == "kwargs"
    assert describe("flexible") == [
        {"name": "dose_mg", "annotation": "float", "required": False, "default": 1.0}
    ]


# --- JSON conversion -------------------------------------------------------------------------------------


class _Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass(frozen=True)
class _Result:
    points: int
    components: Mapping[str, int]
    notes: tuple[str, ...]
    risk: float | None


def test_it_converts_results_to_json_types() -> None:
    result = _Result(
        points=3,
        components=types.MappingProxyType({"age": 2, "pressure": 1}),
        notes=("a", "b"),
        risk=None,
    )
    assert to_jsonable(result) == {
        "points": 3,
        "components": {"age": 2, "pressure": 1},
        "notes": ["a", "b"],
        "risk": None,
    }
    assert to_jsonable(0.1 + 0.2) == 0.1 + 0.2  # floats as they are, unrounded
    assert to_jsonable([(1, 2), {3: True}]) == [[1, 2], {"3": True}]
    assert to_jsonable(frozenset({"b", "a"})) == ["a", "b"]
    assert to_jsonable({"x"}) == ["x"]
    assert to_jsonable(_Colour.RED) == "red"
    assert to_jsonable(dt.date(2025, 1, 2)) == "2025-01-02"
    assert to_jsonable(dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC)) == "2025-01-02T03:04:00+00:00"
    assert to_jsonable("text") == "text"


def test_it_refuses_to_guess_json_for_unknown_types() -> None:
    with pytest.raises(TypeError, match="cannot convert bytes"):
        to_jsonable(b"raw")
    with pytest.raises(TypeError, match="cannot convert type"):
        to_jsonable(_Result)  # a dataclass *class* is not a result


# --- describe --------------------------------------------------------------------------------------------


def test_it_describes_titrate_for_a_form() -> None:
    assert describe("titrate") == [
        {"name": "measured_value", "annotation": "float", "required": True, "default": None},
        {"name": "current_rate_units_kg_h", "annotation": "float", "required": True, "default": None},
        {"name": "weight_kg", "annotation": "float", "required": True, "default": None},
        {
            "name": "nomogram",
            "annotation": "Nomogram | Mapping[str, object] | None",
            "required": False,
            "default": None,
        },
    ]


def test_it_describes_defaults_and_unannotated_keywords(fakes: Callable[..., None]) -> None:
    def plain(*, a, b=("x", "y")):  # type: ignore[no-untyped-def]
        return a

    fakes(("fake_plain_fn", {"CALCULATORS": ("plain",), "plain": plain}))
    assert describe("plain") == [
        {"name": "a", "annotation": "", "required": True, "default": None},
        {"name": "b", "annotation": "", "required": False, "default": ["x", "y"]},
    ]


def test_it_describes_a_default_of_an_anticoagulation_calculator() -> None:
    assert describe("default_targets")[1] == {
        "name": "bleeding_risk",
        "annotation": "str",
        "required": False,
        "default": "standard",
    }


def test_it_describes_runtime_annotations_as_text(fakes: Callable[..., None]) -> None:
    def typed(*, n: int, items: list[str]) -> int:
        return n

    typed.__annotations__ = {"n": int, "items": list[str], "return": int}  # as without `from __future__`
    fakes(("fake_typed", {"CALCULATORS": ("typed",), "typed": typed}))
    assert [entry["annotation"] for entry in describe("typed")] == ["int", "list[str]"]


# --- command line ----------------------------------------------------------------------------------------


def _stderr_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_it_prints_the_result_as_json_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["titrate", "--json", json.dumps(TITRATE)]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["new_rate_units_kg_h"] == 17.0  # 18 − 1
    assert result["reason"].startswith("anti-Xa 0.75 IU/mL is in the band 0.71 to under 0.81 IU/mL")
    assert captured.err == ""


def test_it_accepts_a_leading_calc_word(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "calc",
                "classify",
                "--json",
                '{"test": "aptt_s", "value": 70, "target": {"test": "aptt_s", "low": 60, "high": 80}}',
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out) == "in_range"


def test_it_reads_the_json_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"agent": "none"}'))
    assert main(["default_targets", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_it_runs_without_json_when_no_keyword_is_needed(
    capsys: pytest.CaptureFixture[str], fakes: Callable[..., None]
) -> None:
    fakes(("fake_constant", {"CALCULATORS": ("answer",), "answer": lambda: 42}))
    assert main(["answer"]) == 0
    assert capsys.readouterr().out == "42\n"


def test_it_lists_the_calculators(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    names = capsys.readouterr().out.splitlines()
    assert names == calculator_names()
    assert "titrate" in names


def test_it_describes_a_calculator_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["titrate", "--describe"]) == 0
    assert json.loads(capsys.readouterr().out) == describe("titrate")


def test_it_prints_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "usage: ecmo calc" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["titrate", "--json", "{measured_value: 1}"], "ecmo calc: error: json: is not valid JSON: "),
        (["titrate", "--json", "[0.5, 18, 70]"], "ecmo calc: error: json: must be a JSON object"),
        (["titrate", "--json", "0.5"], "ecmo calc: error: json: must be a JSON object"),
        (["no_such", "--json", "{}"], "ecmo calc: error: name: unknown calculator 'no_such'; use one of: "),
        ([], "ecmo calc: error: name: give a calculator name"),
        (["titrate", "--bogus"], "ecmo calc: error: arguments: unrecognized arguments: --bogus"),
        (["titrate", "--json"], "ecmo calc: error: arguments: argument --json: expected one argument"),
        (
            ["titrate", "--json", json.dumps({**TITRATE, "weight_kg": 0})],
            "ecmo calc: error: weight_kg: 0 kg is outside the accepted range",
        ),
        (
            ["titrate", "--json", json.dumps({**TITRATE, "measured_value": 12})],
            "ecmo calc: error: measured_value: 12 IU/mL is outside the range of nomogram",
        ),
        (
            ["titrate", "--json", json.dumps({**TITRATE, "measured_value": 2, "current_rate_units_kg_h": 1})],
            "ecmo calc: error: current_rate_units_kg_h: the nomogram step for 2 IU/mL",
        ),
        (["titrate", "--json", '{"weight": 70}'], "ecmo calc: error: weight: is not an input of titrate"),
    ],
)
def test_it_exits_2_with_one_line_naming_the_field(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert _stderr_line(capsys).startswith(expected)


def test_it_flattens_multi_line_messages_and_fieldless_errors(
    capsys: pytest.CaptureFixture[str], fakes: Callable[..., None]
) -> None:
    def impossible() -> float:
        raise InfeasibleError("no flow reaches\nthe target")

    fakes(("fake_impossible", {"CALCULATORS": ("impossible",), "impossible": impossible}))
    assert main(["impossible"]) == 2
    assert _stderr_line(capsys) == "ecmo calc: error: no flow reaches the target"


def test_it_reads_sys_argv_when_no_argv_is_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["ecmo-calc", "--list"])
    assert main() == 0
    assert "classify" in capsys.readouterr().out


def test_it_runs_as_a_module_in_a_subprocess() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ecmo_core.calc", "titrate", "--json", json.dumps(TITRATE)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["new_rate_units_kg_h"] == 17.0
    failed = subprocess.run(
        [sys.executable, "-m", "ecmo_core.calc", "titrate", "--json", "{"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert failed.returncode == 2
    assert failed.stderr.startswith("ecmo calc: error: json: is not valid JSON")


def test_it_runs_as_main_in_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # runpy re-executes the module as __main__; removing the imported copy first avoids runpy's warning.
    monkeypatch.delitem(sys.modules, "ecmo_core.calc")
    monkeypatch.setattr(sys, "argv", ["ecmo_core.calc", "--list"])
    with pytest.raises(SystemExit) as caught:
        runpy.run_module("ecmo_core.calc", run_name="__main__")
    assert caught.value.code == 0
    assert "titrate" in capsys.readouterr().out


# --- INTEGRATION: run once physiology, oxygenation and scores have landed --------------------------------

#: Every calculator of core-api §1–3 with its contract keywords (modules may add keywords with defaults).
CORE_API: dict[str, tuple[str, ...]] = {
    # §1 ecmo_core.physiology
    "oxygen_content_ml_dl": ("hb_g_dl", "so2", "po2_mmhg", "hufner_ml_g", "dissolved_ml_dl_mmhg"),
    "oxygen_delivery_ml_min": ("cardiac_output_l_min", "cao2_ml_dl"),
    "oxygen_consumption_ml_min": ("cardiac_output_l_min", "cao2_ml_dl", "cvo2_ml_dl"),
    "oxygen_extraction_ratio": ("cao2_ml_dl", "cvo2_ml_dl"),
    "oxygenator_o2_transfer_ml_min": ("blood_flow_l_min", "post_content_ml_dl", "pre_content_ml_dl"),
    "oxygenator_co2_removal_ml_min": (
        "sweep_gas_l_min",
        "exhaust_pco2_mmhg",
        "barometric_mmhg",
        "saturated_exhaust",
    ),
    "recirculation_fraction": ("pre_oxygenator_so2", "post_oxygenator_so2", "mixed_venous_so2"),
    "ecmo_fick_cardiac_output_l_min": ("blood_flow_l_min", "post_content_ml_dl", "cao2_ml_dl", "cvo2_ml_dl"),
    "body_surface_area_m2": ("height_cm", "weight_kg", "method"),
    "cardiac_index_l_min_m2": ("cardiac_output_l_min", "bsa_m2"),
    "predicted_body_weight_kg": ("sex", "height_cm"),
    "pf_ratio_mmhg": ("pao2_mmhg", "fio2"),
    "oxygenation_index": ("fio2", "mean_airway_pressure_cmh2o", "pao2_mmhg"),
    "driving_pressure_cmh2o": ("plateau_cmh2o", "peep_cmh2o"),
    "static_compliance_ml_cmh2o": ("tidal_volume_ml", "plateau_cmh2o", "peep_cmh2o"),
    "mechanical_power_j_min": (
        "respiratory_rate_min",
        "tidal_volume_l",
        "peak_cmh2o",
        "plateau_cmh2o",
        "peep_cmh2o",
    ),
    "so2_from_po2": ("po2_mmhg",),
    # §2 ecmo_core.oxygenation
    "vv_steady_state": (
        "vo2_ml_min",
        "hb_g_dl",
        "cardiac_output_l_min",
        "ecmo_blood_flow_l_min",
        "recirculation_fraction",
        "shunt_fraction",
        "end_capillary_so2",
        "post_oxygenator_so2",
        "hufner_ml_g",
    ),
    "vv_required_blood_flow": (
        "target_arterial_so2",
        "vo2_ml_min",
        "hb_g_dl",
        "cardiac_output_l_min",
        "recirculation_fraction",
        "shunt_fraction",
        "end_capillary_so2",
        "post_oxygenator_so2",
        "hufner_ml_g",
    ),
    "va_mixed_so2": ("native_flow_l_min", "native_so2", "ecmo_flow_l_min", "post_oxygenator_so2"),
    "va_upper_body_so2": ("native_flow_l_min", "native_so2", "upper_body_flow_l_min", "post_oxygenator_so2"),
    # §3 ecmo_core.scores
    "resp": (
        "age_years",
        "immunocompromised",
        "ventilation_hours_before_ecmo",
        "diagnosis",
        "cns_dysfunction",
        "nonpulmonary_infection",
        "neuromuscular_blockade",
        "inhaled_nitric_oxide",
        "bicarbonate_infusion",
        "cardiac_arrest",
        "paco2_mmhg",
        "peak_inspiratory_pressure_cmh2o",
    ),
    "save": (
        "age_years",
        "weight_kg",
        "diagnoses",
        "liver_failure",
        "cns_dysfunction",
        "acute_renal_failure",
        "chronic_renal_failure",
        "intubation_hours_before_ecmo",
        "peak_inspiratory_pressure_cmh2o",
        "cardiac_arrest",
        "diastolic_bp_mmhg",
        "pulse_pressure_mmhg",
        "bicarbonate_mmol_l",
    ),
    "preserve": (
        "age_years",
        "bmi_kg_m2",
        "immunocompromised",
        "ventilation_days_before_ecmo",
        "sofa_points",
        "prone_before_ecmo",
        "peep_cmh2o",
        "plateau_pressure_cmh2o",
    ),
    "preset": (
        "mean_arterial_pressure_mmhg",
        "lactate_mmol_l",
        "arterial_ph",
        "platelets_10e9_l",
        "hospital_days_before_ecmo",
    ),
    "encourage": (
        "age_years",
        "female",
        "bmi_kg_m2",
        "glasgow_coma_scale",
        "creatinine_umol_l",
        "lactate_mmol_l",
        "prothrombin_activity_pct",
    ),
    "murray_lung_injury": (
        "chest_xray_quadrants",
        "pf_ratio_mmhg",
        "peep_cmh2o",
        "static_compliance_ml_cmh2o",
    ),
    "sofa": (
        "pf_ratio_mmhg",
        "respiratory_support",
        "platelets_10e3_ul",
        "bilirubin_mg_dl",
        "mean_arterial_pressure_mmhg",
        "dopamine_ug_kg_min",
        "dobutamine_ug_kg_min",
        "epinephrine_ug_kg_min",
        "norepinephrine_ug_kg_min",
        "glasgow_coma_scale",
        "creatinine_mg_dl",
        "urine_output_ml_day",
    ),
}


def test_it_resolves_every_core_api_name__integration() -> None:
    """INTEGRATION — fails until ecmo_core.physiology, .oxygenation and .scores have all landed.

    Every function of core-api §1–3 must be reachable as ``ecmo calc NAME`` with its contract keywords, all
    keyword-only; any keyword a module adds must have a default. Run alone with ``-k integration``.
    """
    names = set(calculator_names())
    missing = sorted(set(CORE_API) - names)
    assert not missing, f"core-api names not in the calc registry: {missing}"
    for name, keywords in CORE_API.items():
        parameters = inspect.signature(get_calculator(name)).parameters
        assert set(keywords) <= set(parameters), f"{name}: missing {sorted(set(keywords) - set(parameters))}"
        for parameter in parameters.values():
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, (
                f"{name}({parameter.name}) is not keyword-only"
            )
            if parameter.name not in keywords:
                assert parameter.default is not inspect.Parameter.empty, (
                    f"{name}: extra required {parameter.name}"
                )
        assert [entry["name"] for entry in describe(name)] == list(parameters)
