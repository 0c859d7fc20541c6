"""Local units (ecmo_core.units).

Checklist:
- [x] pressures and blood gases convert mmHg ↔ kPa with 1 kPa = 7.50062 mmHg, both ways
- [x] haemoglobin g/dL × 10 = g/L; fibrinogen mg/dL ÷ 100 = g/L; platelets 10³/µL = 10⁹/L numerically
- [x] saturations and FdO2 show as %; entry accepts % or a fraction
- [x] canonical units stay as they are (L/min, rpm, °C) with sensible decimals
- [x] unknown preferences and non-finite entries are refused naming the field
- [x] blood pressure stays mmHg in a kPa program; circuit pressures follow their own setting (mmHg by default)
- [x] clinical labels with the local unit come from the parameter registry
- [x] entry in local units is checked against the plausible range given in the local unit, never clamped
- [x] a text quoting one kind of pressure in mmHg reads in the local unit for that kind (gases, circuit pressures)
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecmo_core.errors import InputError
from ecmo_core.units import (
    MMHG_PER_KPA,
    SI,
    US,
    UnitPreferences,
    check_local,
    decimals,
    entry_text,
    format_local,
    from_local,
    label,
    label_with_unit,
    local_text,
    range_text,
    to_local,
    unit_of,
)

KPA_CIRCUIT = SI._replace(circuit_pressure="kPa")


def test_it_defines_a_kilopascal_as_7_50062_mmhg() -> None:
    # 1 mmHg = 133.322387415 Pa → 1000 / 133.322387415 = 7.500615…
    assert MMHG_PER_KPA == pytest.approx(7.50062, abs=1e-5)


def test_it_shows_pressures_and_gases_in_kpa_for_an_si_program() -> None:
    # PaO2 75 mmHg / 7.50062 = 9.999 kPa → "10.0 kPa"; ΔP 30 mmHg = 4.0 kPa
    assert format_local("arterial_po2_mmhg", 75.0, SI) == "10.0 kPa"
    assert format_local("membrane_delta_p_mmhg", 30.0, KPA_CIRCUIT) == "4.0 kPa"
    assert to_local("access_pressure_mmhg", -75.0, KPA_CIRCUIT) == pytest.approx(-9.99917, abs=1e-4)
    assert unit_of("post_oxygenator_pco2_mmhg", SI) == "kPa"
    assert decimals("arterial_po2_mmhg", SI) == 1
    # 5.3 kPa × 7.50062 = 39.753 mmHg
    assert from_local("arterial_pco2_mmhg", 5.3, SI) == pytest.approx(39.753, abs=1e-3)


def test_it_keeps_mmhg_for_a_us_program() -> None:
    assert format_local("arterial_po2_mmhg", 75.0, US) == "75 mmHg"
    assert from_local("arterial_po2_mmhg", 75.0, US) == 75.0


def test_it_converts_haemoglobin_fibrinogen_and_platelets() -> None:
    # Hb 12.3 g/dL × 10 = 123 g/L
    assert format_local("hemoglobin_g_dl", 12.3, SI) == "123 g/L"
    assert from_local("hemoglobin_g_dl", 85.0, SI) == pytest.approx(8.5)
    assert format_local("hemoglobin_g_dl", 12.3, US) == "12.3 g/dL"
    # fibrinogen 250 mg/dL ÷ 100 = 2.50 g/L
    assert format_local("fibrinogen_mg_dl", 250.0, SI) == "2.50 g/L"
    assert from_local("fibrinogen_mg_dl", 1.5, SI) == pytest.approx(150.0)
    assert format_local("fibrinogen_mg_dl", 250.0, US) == "250 mg/dL"
    # platelets: 150 × 10³/µL = 150 × 10⁹/L
    assert format_local("platelets_10e3_ul", 150.0, SI) == "150 10⁹/L"
    assert format_local("platelets_10e3_ul", 150.0, US) == "150 10³/µL"
    # plasma free Hb is mg/dL but is not fibrinogen: it stays mg/dL
    assert unit_of("plasma_free_hb_mg_dl", SI) == "mg/dL"


def test_it_shows_saturations_in_percent_and_accepts_either_form() -> None:
    assert format_local("post_oxygenator_so2", 0.984, US) == "98 %"
    assert format_local("fdo2", 0.6, SI) == "60 %"
    assert from_local("spo2", 92.0) == pytest.approx(0.92)
    assert from_local("spo2", 0.92) == pytest.approx(0.92)
    # the boundary: exactly 1 is the fraction 1.0 (100 %), never 1 %
    assert from_local("fdo2", 1.0) == 1.0


def test_it_leaves_canonical_units_alone() -> None:
    assert format_local("blood_flow_l_min", 3.456) == "3.46 L/min"
    assert format_local("pump_speed_rpm", 3210.4) == "3210 rpm"
    assert format_local("blood_temperature_c", 36.64, SI) == "36.6 °C"
    assert format_local("arterial_ph", 7.351) == "7.35"
    assert format_local("bubble_detected", 1.0) == "1"
    assert format_local("blood_flow_l_min", 3.456, with_unit=False) == "3.46"


def test_it_refuses_unknown_preferences_and_non_finite_entries() -> None:
    assert SI.check() is SI
    with pytest.raises(InputError) as err:
        UnitPreferences(pressure="psi").check()
    assert err.value.field == "pressure" and "mmHg, kPa" in err.value.message
    with pytest.raises(InputError) as err:
        UnitPreferences(platelets="G/L").check()
    assert err.value.field == "platelets"
    with pytest.raises(InputError) as err:
        from_local("arterial_po2_mmhg", math.nan, SI)
    assert err.value.field == "arterial_po2_mmhg"


@given(st.floats(min_value=-500, max_value=800, allow_nan=False))
def test_it_round_trips_every_pressure(value: float) -> None:
    for prefs in (US, SI, KPA_CIRCUIT):
        assert from_local("access_pressure_mmhg", to_local("access_pressure_mmhg", value, prefs), prefs) == (
            pytest.approx(value, abs=1e-9)
        )


def test_it_keeps_blood_pressure_in_mmhg_and_circuit_pressures_on_their_own_setting() -> None:
    # MAP 75 mmHg stays "75 mmHg" even when gases and circuit pressures are in kPa
    for prefs in (SI, KPA_CIRCUIT):
        assert format_local("mean_arterial_pressure_mmhg", 75.0, prefs) == "75 mmHg"
        assert unit_of("pulse_pressure_mmhg", prefs) == "mmHg"
    # SI (UK practice): gases in kPa, the console's circuit pressures in mmHg
    assert unit_of("post_oxygenator_po2_mmhg", SI) == "kPa"
    assert unit_of("exhaust_pco2_mmhg", SI) == "kPa"
    assert unit_of("pre_oxygenator_pressure_mmhg", SI) == "mmHg"
    assert format_local("membrane_delta_p_mmhg", 30.0, SI) == "30 mmHg"
    # a site that charts circuit pressures in kPa while gases stay in mmHg
    circuit_only = US._replace(circuit_pressure="kPa")
    assert unit_of("access_pressure_mmhg", circuit_only) == "kPa"
    assert unit_of("arterial_po2_mmhg", circuit_only) == "mmHg"
    with pytest.raises(InputError) as err:
        UnitPreferences(circuit_pressure="bar").check()
    assert err.value.field == "circuit_pressure"


def test_it_names_parameters_in_clinical_words_with_the_local_unit() -> None:
    assert label("pre_oxygenator_pressure_mmhg") == "Pre-oxygenator pressure"
    assert label("aptt_s") == "aPTT"  # a second capital keeps the case
    assert label_with_unit("post_oxygenator_po2_mmhg", SI) == "Post-oxygenator PO2 (kPa)"
    assert label_with_unit("fdo2", US) == "FdO2 (%)"
    assert label_with_unit("arterial_ph", SI) == "Arterial pH"
    assert label_with_unit("hemoglobin_g_dl", SI) == "Haemoglobin (g/L)"


def test_it_gives_the_accepted_range_in_the_local_unit_rounded_inwards() -> None:
    # access −500 to 100 mmHg / 7.50062 = −66.661 to 13.332 kPa → "-66.66 to 13.33 kPa" (inwards)
    assert range_text("access_pressure_mmhg", KPA_CIRCUIT) == "-66.66 to 13.33 kPa"
    assert range_text("access_pressure_mmhg", US) == "-500 to 100 mmHg"
    # post-oxygenator PO2 0–800 mmHg = 0 to 106.658 kPa → 106.65
    assert range_text("post_oxygenator_po2_mmhg", SI) == "0 to 106.65 kPa"
    assert range_text("fdo2", SI) == "21 to 100 %"
    assert range_text("fibrinogen_mg_dl", SI) == "0 to 20 g/L"
    assert range_text("arterial_ph") == "6.5 to 8"


def test_it_checks_local_entry_against_the_range_in_the_local_unit() -> None:
    # 30 kPa × 7.50062 = 225.02 mmHg stored
    assert check_local("pre_oxygenator_pressure_mmhg", 30.0, KPA_CIRCUIT) == pytest.approx(225.019, abs=1e-3)
    # the shown bound typed back is accepted (−66.66 kPa = −499.99 mmHg)
    assert check_local("access_pressure_mmhg", -66.66, KPA_CIRCUIT) >= -500.0
    assert check_local("fdo2", 60.0) == pytest.approx(0.6)
    assert check_local("fdo2", 0.6) == pytest.approx(0.6)
    with pytest.raises(InputError) as err:
        check_local("post_oxygenator_po2_mmhg", 120.0, SI, field="po2")
    assert err.value.field == "po2"
    assert err.value.message == "120 kPa is outside the accepted range 0 to 106.65 kPa"
    with pytest.raises(InputError) as err:
        check_local("fdo2", 150.0)
    assert err.value.message == "150 % is outside the accepted range 21 to 100 %"
    with pytest.raises(InputError) as err:
        check_local("fdo2", 0.1)
    assert err.value.message == "0.1 (read as 10 %) is outside the accepted range 21 to 100 %"
    with pytest.raises(InputError) as err:
        check_local("arterial_ph", 9.0)
    assert err.value.message == "9 is outside the accepted range 6.5 to 8"
    with pytest.raises(InputError) as err:
        check_local("arterial_ph", math.inf)
    assert err.value.field == "arterial_ph" and "finite" in err.value.message


def test_it_checks_an_entry_against_its_own_clinical_range_in_the_local_unit() -> None:
    # A P/F ratio typed as PaO2 over FiO2 (10 to 700 mmHg) converts like PaO2: 1.3332 to 93.3257 kPa → inwards
    assert range_text("arterial_po2_mmhg", SI, bounds=(10.0, 700.0)) == "1.34 to 93.32 kPa"
    assert range_text("hemoglobin_g_dl", SI, bounds=(3.0, 25.0)) == "30 to 250 g/L"
    assert range_text("arterial_po2_mmhg", US, bounds=(10.0, 700.0)) == "10 to 700 mmHg"
    assert check_local("arterial_po2_mmhg", 10.0, SI, bounds=(10.0, 700.0)) == pytest.approx(
        75.0062, abs=1e-4
    )
    assert check_local("hemoglobin_g_dl", 90.0, SI, bounds=(3.0, 25.0)) == pytest.approx(9.0)
    with pytest.raises(InputError) as err:
        check_local("arterial_po2_mmhg", 1.0, SI, field="pf_ratio_mmhg", bounds=(10.0, 700.0))
    assert err.value.field == "pf_ratio_mmhg"
    assert err.value.message == "1 kPa is outside the accepted range 1.34 to 93.32 kPa"
    with pytest.raises(InputError) as err:
        check_local("hemoglobin_g_dl", 2.0, SI, bounds=(3.0, 25.0))  # 2 g/L: g/dL typed in a g/L program
    assert err.value.message == "2 g/L is outside the accepted range 30 to 250 g/L"
    with pytest.raises(InputError) as err:
        check_local("arterial_po2_mmhg", math.nan, SI, bounds=(10.0, 700.0))
    assert err.value.message == "must be a finite number (1.34 to 93.32 kPa)"


def test_it_writes_entry_box_numbers_in_local_units() -> None:
    # 240 mmHg / 7.50062 = 31.998 kPa → 2 decimals → "32"; 0.6 → 60 %; canonical units keep 3 decimals
    assert entry_text("pre_oxygenator_pressure_mmhg", 240.0, KPA_CIRCUIT) == "32"
    assert entry_text("post_oxygenator_po2_mmhg", 412.0, SI) == "54.93"
    assert entry_text("fdo2", 0.6) == "60"
    assert entry_text("blood_flow_l_min", 4.39) == "4.39"
    assert entry_text("access_pressure_mmhg", -53.0) == "-53"
    assert entry_text("access_pressure_mmhg", -0.0001) == "0"


def test_it_writes_a_text_about_one_kind_of_pressure_in_its_local_unit() -> None:
    verdict = "drainage: pressure drop 84 mmHg at 4.8 L/min ≤ limit 100 mmHg"
    # 84 / 7.50062 = 11.199 → "11.2"; 100 / 7.50062 = 13.332 → "13.33"
    assert (
        local_text(verdict, "membrane_delta_p_mmhg", KPA_CIRCUIT)
        == "drainage: pressure drop 11.2 kPa at 4.8 L/min ≤ limit 13.33 kPa"
    )
    assert local_text(verdict, "membrane_delta_p_mmhg", SI) == verdict  # SI keeps circuit pressures in mmHg
    assert local_text("P/F < 80 mmHg for > 6 h", "arterial_po2_mmhg", SI) == "P/F < 10.67 kPa for > 6 h"
    assert local_text("MAP ≥ 65 mmHg", "mean_arterial_pressure_mmhg", SI) == "MAP ≥ 65 mmHg"
    # a signed number keeps its sign, a number without the unit is left alone
    assert local_text("below −100 mmHg (x2.5 mmHg)", "access_pressure_mmhg", KPA_CIRCUIT) == (
        "below −13.33 kPa (x2.5 mmHg)"
    )
    with pytest.raises(InputError, match="not a pressure in mmHg"):
        local_text("9 g/dL", "hemoglobin_g_dl", SI)
