"""Spec checklist — parameter codes and samples (core-api §4; device-data §1.3–1.4; STYLE.md lesson 2):

- [x] PARAMETERS holds every parameter code of core-api §4 with a unit, plausible bounds and a description
- [x] a value outside the plausible bounds is refused, naming the parameter and the range; nothing clamped
- [x] a fraction above 1 says "fraction" (a percentage sent by mistake); the bubble detector takes 0 or 1
- [x] a Sample needs an aware time (stored in UTC), a known code, a plausible value and a source name
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ecmo_core.errors import InputError
from ecmo_core.surveillance import PARAMETERS, ParameterSpec, Sample, check_value

CODES = (
    "blood_flow_l_min pump_speed_rpm access_pressure_mmhg pre_oxygenator_pressure_mmhg "
    "post_oxygenator_pressure_mmhg membrane_delta_p_mmhg sweep_gas_l_min fdo2 exhaust_pco2_mmhg "
    "blood_temperature_c bubble_detected recirculation_fraction pre_oxygenator_so2 post_oxygenator_so2 "
    "post_oxygenator_po2_mmhg post_oxygenator_pco2_mmhg mixed_venous_so2 hematocrit hemoglobin_g_dl "
    "plasma_free_hb_mg_dl ldh_u_l anti_xa_iu_ml aptt_s act_s fibrinogen_mg_dl platelets_10e3_ul d_dimer_mg_l "
    "lactate_mmol_l arterial_po2_mmhg arterial_pco2_mmhg arterial_ph arterial_so2 right_radial_po2_mmhg spo2 "
    "mean_arterial_pressure_mmhg pulse_pressure_mmhg heart_rate_per_min cerebral_nirs_left_pct cerebral_nirs_right_pct "
    "limb_nirs_pct impella_p_level impella_flow_l_min iabp_ratio vad_flow_l_min vad_speed_rpm"
).split()
T0 = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)


def test_it_knows_every_core_api_parameter() -> None:
    assert sorted(PARAMETERS) == sorted(CODES)
    for code, spec in PARAMETERS.items():
        assert isinstance(spec, ParameterSpec)
        unit, minimum, maximum, description = spec
        assert unit and description and minimum < maximum, code


@pytest.mark.parametrize(
    ("code", "value", "text"),
    [
        ("fdo2", 100, "is not a fraction"),
        ("fdo2", 0.1, "accepted range [0.21, 1]"),
        ("access_pressure_mmhg", -600, "accepted range [-500, 100] mmHg"),
        ("blood_flow_l_min", float("nan"), "finite"),
        ("anti_xa_iu_ml", "0.3", "must be a number"),
        ("bubble_detected", 2, "must be 0 (no bubble) or 1"),
        ("spo2", 94, "e.g. 0.94 rather than 94 %"),
    ],
)
def test_it_refuses_implausible_values(code: str, value: object, text: str) -> None:
    with pytest.raises(InputError) as error:
        check_value(code, value)
    assert error.value.field == code
    assert text in str(error.value)


def test_it_accepts_plausible_values_as_floats() -> None:
    assert check_value("pump_speed_rpm", 3400) == 3400.0
    assert check_value("bubble_detected", 1) == 1.0
    assert check_value("fdo2", 1, field="row 3") == 1.0


def test_it_refuses_unknown_codes() -> None:
    with pytest.raises(InputError) as error:
        check_value("flow", 4.0)
    assert error.value.field == "parameter" and "unknown parameter code 'flow'" in str(error.value)


def test_it_builds_samples_in_utc() -> None:
    sample = Sample(datetime(2025, 1, 1, 11, 0, tzinfo=timezone(timedelta(hours=1))), "fdo2", 1)
    assert sample.observed_at == T0 and sample.observed_at.tzinfo is UTC
    assert sample.value == 1.0 and sample.source == "device" and sample.is_device
    assert not Sample(T0, "fdo2", 1.0, "check").is_device


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"observed_at": datetime(2025, 1, 1, 10, 0)}, "observed_at"),
        ({"observed_at": "2025-01-01T10:00Z"}, "observed_at"),
        ({"parameter": "flow"}, "parameter"),
        ({"value": 1.5}, "fdo2"),
        ({"source": ""}, "source"),
        ({"source": "x" * 65}, "source"),
        ({"source": None}, "source"),
    ],
)
def test_it_refuses_bad_samples(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"observed_at": T0, "parameter": "fdo2", "value": 1.0, "source": "device"}
    arguments.update(kwargs)
    with pytest.raises(InputError) as error:
        Sample(**arguments)  # type: ignore[arg-type]
    assert error.value.field == field
