"""HL7 v2 ORU^R01 ingestion: parse device observations, map their codes onto parameter codes, build ACKs.

Pure: no Django, no sockets, no clock. Callers pass ``now`` to :func:`build_ack`; the MLLP listener
(``ecmo_web.mllp``) and the database layer sit outside this module.

Flow for one inbound message (see ``docs/hl7-mllp.md``)::

    result = triage(text, code_map=site_map)          # parse + decide the outcome; never raises HL7Error
    if result.outcome is Outcome.ACCEPTED:
        store(result.parsed.observations)               # commit (idempotent on control id and samples)
    else:
        dead_letter(text, result.error)                 # keep for review, never drop
    ack = build_ack(result.header, code=ack_code(result.outcome, result.header), error=result.error, now=now)

Sources are those of ``shared/clinical/device-data.md`` (cited as DD §n): codes DD §1, quirks of real
gateways DD §2, units DD §3, acknowledgement rules DD §4. HL7 error codes are table 0357.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

import hl7  # type: ignore[import-untyped]

from ecmo_core import validate
from ecmo_core.errors import InputError

__all__ = [
    "ACK_CODES",
    "DEFAULT_CODE_MAP",
    "ERROR_CODES",
    "FRACTION_PARAMETERS",
    "PARAMETER_UNITS",
    "CodeMap",
    "CodeMapping",
    "HL7Error",
    "Location",
    "MessageHeader",
    "Observation",
    "Outcome",
    "ParsedMessage",
    "PatientId",
    "Triage",
    "Unmapped",
    "ack_code",
    "build_ack",
    "code_map_from_mapping",
    "parse_hl7_timestamp",
    "parse_oru",
    "read_header",
    "triage",
]

# --------------------------------------------------------------------------------------------------------
# Errors, outcomes and acknowledgement codes
# --------------------------------------------------------------------------------------------------------

#: HL7 table 0357 (message error condition codes) as used here [DD §4, S25]. 104 exists from v2.7 on.
ERROR_CODES: Final[Mapping[int, str]] = MappingProxyType(
    {
        100: "Segment sequence error",
        101: "Required field missing",
        102: "Data type error",
        103: "Table value not found",
        104: "Value too long",
        200: "Unsupported message type",
        201: "Unsupported event code",
        202: "Unsupported processing id",
        203: "Unsupported version id",
        # 204: no patient, console or bed in the message identifies a run in progress (the listener's binding).
        204: "Unknown key identifier",
        207: "Application internal error",
    }
)

#: MSA-1 codes: original mode (A*) and enhanced-mode accept acknowledgements (C*) [DD §4, table 0008].
ACK_CODES: Final[frozenset[str]] = frozenset({"AA", "AE", "AR", "CA", "CE", "CR"})


class Outcome(StrEnum):
    """What happened to a message, which decides the acknowledgement code (see :func:`ack_code`).

    ``accepted``: readable and stored (or nothing to store) → AA / CA.
    ``error``: readable header, bad content (bad value, bad time, unknown unit, nothing mappable) or a
    failure while storing → AE / CE; the message goes to the dead-letter table.
    ``rejected``: not processable as a message at all (no readable MSH, missing control id, unsupported
    message type, event, processing id or version, oversize frame) → AR / CR; dead-letter table too.
    """

    ACCEPTED = "accepted"
    ERROR = "error"
    REJECTED = "rejected"


class HL7Error(ValueError):
    """A message that cannot be accepted, with its table 0357 ``code`` and location.

    ``segment``/``sequence``/``field`` give the ERR-2 location (``OBX^3^5`` is field 5 of the third OBX).
    ``rejected`` marks errors that make the whole message unprocessable (AR/CR rather than AE/CE).
    """

    def __init__(
        self,
        code: int,
        message: str,
        segment: str | None = None,
        field: int | None = None,
        *,
        sequence: int = 1,
        rejected: bool = False,
    ) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"HL7 error code {code} is not one of table 0357 codes {sorted(ERROR_CODES)}")
        self.code = code
        self.message = message
        self.segment = segment
        self.field = field
        self.sequence = sequence
        self.rejected = rejected
        super().__init__(f"{code} {ERROR_CODES[code]}: {message}")

    @property
    def outcome(self) -> Outcome:
        return Outcome.REJECTED if self.rejected else Outcome.ERROR

    @property
    def location(self) -> str:
        """ERR-2 error location ``segment^sequence^field`` (empty when the segment is unknown)."""
        if self.segment is None:
            return ""
        if self.field is None:
            return f"{self.segment}^{self.sequence}"
        return f"{self.segment}^{self.sequence}^{self.field}"


# --------------------------------------------------------------------------------------------------------
# Units and the code map
# --------------------------------------------------------------------------------------------------------

#: Our unit (UCUM) for every parameter code of core-api §4 [DD §1.3, §1.4, §3]. Fractions are ``1``.
PARAMETER_UNITS: Final[Mapping[str, str]] = MappingProxyType(
    {
        # circuit
        "blood_flow_l_min": "L/min",
        "pump_speed_rpm": "/min",
        "access_pressure_mmhg": "mm[Hg]",
        "pre_oxygenator_pressure_mmhg": "mm[Hg]",
        "post_oxygenator_pressure_mmhg": "mm[Hg]",
        "membrane_delta_p_mmhg": "mm[Hg]",
        "sweep_gas_l_min": "L/min",
        "fdo2": "1",
        "exhaust_pco2_mmhg": "mm[Hg]",
        "blood_temperature_c": "Cel",
        "bubble_detected": "1",
        "recirculation_fraction": "1",
        # circuit blood
        "pre_oxygenator_so2": "1",
        "post_oxygenator_so2": "1",
        "post_oxygenator_po2_mmhg": "mm[Hg]",
        "post_oxygenator_pco2_mmhg": "mm[Hg]",
        "mixed_venous_so2": "1",
        "hematocrit": "1",
        "hemoglobin_g_dl": "g/dL",
        # labs
        "plasma_free_hb_mg_dl": "mg/dL",
        "ldh_u_l": "U/L",
        "anti_xa_iu_ml": "[IU]/mL",
        "aptt_s": "s",
        "act_s": "s",
        "fibrinogen_mg_dl": "mg/dL",
        "platelets_10e3_ul": "10*3/uL",
        "d_dimer_mg_l": "mg/L",
        "lactate_mmol_l": "mmol/L",
        # patient
        "arterial_po2_mmhg": "mm[Hg]",
        "arterial_pco2_mmhg": "mm[Hg]",
        "arterial_ph": "[pH]",
        "arterial_so2": "1",
        "right_radial_po2_mmhg": "mm[Hg]",
        "spo2": "1",
        "mean_arterial_pressure_mmhg": "mm[Hg]",
        "pulse_pressure_mmhg": "mm[Hg]",
        "heart_rate_per_min": "/min",
        "cerebral_nirs_left_pct": "%",
        "cerebral_nirs_right_pct": "%",
        "limb_nirs_pct": "%",
        # mechanical circulatory support
        "impella_p_level": "1",
        "impella_flow_l_min": "L/min",
        "iabp_ratio": "1",
        "vad_flow_l_min": "L/min",
        "vad_speed_rpm": "/min",
    }
)

#: Parameters that are fractions 0–1 (core-api conventions); a value above 1 after conversion is an error.
FRACTION_PARAMETERS: Final[frozenset[str]] = frozenset(
    {
        "fdo2",
        "recirculation_fraction",
        "pre_oxygenator_so2",
        "post_oxygenator_so2",
        "mixed_venous_so2",
        "hematocrit",
        "arterial_so2",
        "spo2",
    }
)

# Inbound unit spellings → UCUM. Keys are lower-case; lookup lower-cases OBX-6. MDC numbers and reference ids
# from DD §3 (context-free MDC_DIM codes), free text seen at gateways (``mmHg``, ``lpm``) [DD §2 quirks].
_UNIT_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **dict.fromkeys(("l/min", "lpm", "265216", "mdc_dim_x_l_per_min"), "L/min"),
        **dict.fromkeys(("ml/min", "265234", "mdc_dim_x_milli_l_per_min"), "mL/min"),
        **dict.fromkeys(
            (
                "/min",
                "1/min",
                "rpm",
                "{rpm}",
                "268960",
                "mdc_dim_rpm",
                "264672",
                "mdc_dim_per_min",
                "mdc_dim_x_rotations_per_min",
            ),
            "/min",
        ),
        **dict.fromkeys(("mm[hg]", "mmhg", "266016", "mdc_dim_mmhg"), "mm[Hg]"),
        **dict.fromkeys(("kpa", "265987", "mdc_dim_kilo_pa"), "kPa"),
        **dict.fromkeys(("1", "{fraction}", "262656", "mdc_dim_dimless"), "1"),
        **dict.fromkeys(("%", "pct", "262688", "mdc_dim_percent"), "%"),
        **dict.fromkeys(("cel", "°c", "degc", "268192", "mdc_dim_degc"), "Cel"),
        **dict.fromkeys(("g/dl", "264256", "mdc_dim_x_g_per_dl"), "g/dL"),
        **dict.fromkeys(("g/l",), "g/L"),
        **dict.fromkeys(("mg/dl", "264274", "mdc_dim_milli_g_per_dl"), "mg/dL"),
        **dict.fromkeys(("mg/l",), "mg/L"),
        **dict.fromkeys(("u/l", "iu/l", "[iu]/l", "267712", "mdc_dim_x_intl_unit_per_l"), "U/L"),
        **dict.fromkeys(("ukat/l", "µkat/l", "μkat/l"), "ukat/L"),
        **dict.fromkeys(("[iu]/ml", "iu/ml", "u/ml", "267744", "mdc_dim_x_intl_unit_per_ml"), "[IU]/mL"),
        **dict.fromkeys(("s", "sec", "264320", "mdc_dim_sec"), "s"),
        **dict.fromkeys(("10*3/ul", "10^3/ul", "k/ul", "263860", "mdc_dim_per_nano_l"), "10*3/uL"),
        **dict.fromkeys(("10*9/l", "10^9/l"), "10*9/L"),
        **dict.fromkeys(("mmol/l",), "mmol/L"),
        **dict.fromkeys(("[ph]", "ph"), "[pH]"),
    }
)

# (from, to) → (numerator, denominator): value × numerator / denominator. Kept as ratios so that
# 4200 mL/min gives exactly 4.2 L/min and 98.5 % exactly 0.985.
_UNIT_FACTORS: Final[Mapping[tuple[str, str], tuple[float, float]]] = MappingProxyType(
    {
        ("mL/min", "L/min"): (1.0, 1000.0),  # DD §1.3
        ("%", "1"): (1.0, 100.0),  # DD §1.3: devices send %, we store fractions
        ("kPa", "mm[Hg]"): (760.0, 101.325),  # 1 atm = 101.325 kPa = 760 mmHg (definition)
        ("g/L", "g/dL"): (1.0, 10.0),  # DD §1.4
        ("g/L", "mg/dL"): (100.0, 1.0),  # DD §1.4
        ("mg/L", "mg/dL"): (1.0, 10.0),  # DD §1.4
        ("ukat/L", "U/L"): (60.0, 1.0),  # 1 µkat = 60 µmol/min = 60 U [DD §1.4, S16]
        ("10*9/L", "10*3/uL"): (1.0, 1.0),  # DD §1.4: 10⁹/L equals 10³/µL
    }
)

_KNOWN_UNITS: Final[frozenset[str]] = frozenset(_UNIT_ALIASES.values())


class CodeMapping(NamedTuple):
    """Where an inbound code goes: our ``parameter`` code, its ``unit`` (UCUM, after conversion), ``scale``.

    The value stored is ``OBX-5 × factor(OBX-6 → unit) × scale``; an empty OBX-6 is taken to be ``unit``.
    ``scale`` is 1 unless a device is known to send a mislabelled or private-scaled value.
    """

    parameter: str
    unit: str
    scale: float = 1.0


#: A key is (coding system, code) or (coding system, code, OBX-4 channel prefix such as ``1.1.2``).
CodeKey = tuple[str, str] | tuple[str, str, str]
CodeMap = Mapping[CodeKey, CodeMapping]

_LOCAL_SYSTEM: Final = "99ECMO"  # HL7 table 0396 reserves 99zzz for local codes [DD §1.2]
_SYSTEM_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {"LOINC": "LN", "SNOMED": "SCT", "SNOMEDCT": "SCT", "SNOMED-CT": "SCT"}
)


def _mdc(number: str, ref_id: str, parameter: str) -> dict[CodeKey, CodeMapping]:
    mapping = CodeMapping(parameter, PARAMETER_UNITS[parameter])
    return {("MDC", number): mapping, ("MDC", ref_id): mapping}


def _std(system: str, code: str, parameter: str) -> dict[CodeKey, CodeMapping]:
    return {(system, code): CodeMapping(parameter, PARAMETER_UNITS[parameter])}


#: Context-free mappings only. Telemetry codes that mean nothing without a channel (a generic blood pressure
#: could be any circuit site) are deliberately absent: sites map them per OBX-4 channel [DD §1.2].
DEFAULT_CODE_MAP: Final[CodeMap] = MappingProxyType(
    {
        # Local codes: the §4 parameter code itself under 99ECMO [DD §1.2, proposal ○].
        **{(_LOCAL_SYSTEM, code): CodeMapping(code, unit) for code, unit in PARAMETER_UNITS.items()},
        # MDC, derived from Philips term codes [DD §1.3 ◐ S3]; pulse oximetry SpO2 [DD §5 ✔ S27].
        **_mdc("159764", "MDC_CONC_HB_ART", "hemoglobin_g_dl"),
        **_mdc("160132", "MDC_CONC_HCT_GEN", "hematocrit"),
        **_mdc("150456", "MDC_PULS_OXIM_SAT_O2", "spo2"),
        # LOINC [DD §1.4, §1.5 ✔].
        **_std("LN", "19224-5", "mixed_venous_so2"),
        **_std("LN", "718-7", "hemoglobin_g_dl"),
        **_std("LN", "721-1", "plasma_free_hb_mg_dl"),
        **_std("LN", "14804-9", "ldh_u_l"),
        **_std("LN", "3274-8", "anti_xa_iu_ml"),
        **_std("LN", "14979-9", "aptt_s"),
        **_std("LN", "3184-9", "act_s"),
        **_std("LN", "3255-7", "fibrinogen_mg_dl"),
        **_std("LN", "777-3", "platelets_10e3_ul"),
        **_std("LN", "2703-7", "arterial_po2_mmhg"),
        **_std("LN", "2019-8", "arterial_pco2_mmhg"),
        **_std("LN", "2708-6", "arterial_so2"),
        # SNOMED CT: extracorporeal gas exchange flow rate [DD §1.3 ✔ S1].
        **_std("SCT", "251288004", "blood_flow_l_min"),
    }
)

_NEEDS_CHANNEL: Final = (
    "means several circuit or patient sites; map it per OBX-4 channel in the site code map"
)
_NEEDS_SPECIMEN: Final = (
    "is an unspecified-blood code that needs the specimen source (PRE_OXY/POST_OXY); "
    "map it per OBX-4 channel in the site code map"
)
#: Codes that must not be mapped on the code alone, with the reason reported when no site entry exists.
_CONTEXT_REQUIRED: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        **dict.fromkeys(
            [
                ("MDC", "150016"),
                ("MDC", "MDC_PRESS_BLD"),
                ("MDC", "150332"),
                ("MDC", "MDC_SAT_O2_VEN"),
                ("MDC", "150324"),
                ("MDC", "MDC_SAT_O2_ART"),
                ("MDC", "160116"),
                ("MDC", "MDC_CONC_PO2_GEN"),
                ("MDC", "160064"),
                ("MDC", "MDC_CONC_PCO2_GEN"),
                ("MDC", "188436"),
                ("MDC", "MDC_TEMP_BLD"),
                ("SCT", "444479000"),
                ("SCT", "252076005"),
                ("SCT", "386534000"),
                ("LN", "19941-4"),
            ],
            _NEEDS_CHANNEL,
        ),
        **dict.fromkeys([("LN", "11556-8"), ("LN", "11557-6"), ("LN", "20564-1")], _NEEDS_SPECIMEN),
    }
)

_PARAMETER_CODE = re.compile(r"[a-z][a-z0-9_]*")
_CHANNEL = re.compile(r"\d+(?:\.\d+)*")


def _norm_system(system: str) -> str:
    upper = system.strip().upper()
    return _SYSTEM_ALIASES.get(upper, upper)


def code_map_from_mapping(data: Mapping[str, object], *, base: CodeMap = DEFAULT_CODE_MAP) -> CodeMap:
    """Return ``base`` extended and overridden by site settings; raise :class:`InputError` on bad entries.

    Keys are ``"SYSTEM^CODE"`` or ``"SYSTEM^CODE^CHANNEL"`` (the channel is an OBX-4 prefix such as
    ``1.1.2``). Values are a parameter code, or a mapping ``{"parameter", "unit"?, "scale"?}``::

        {"MDC^150016^1.1.2": "access_pressure_mmhg",
         "99XYZ^FLOW": {"parameter": "blood_flow_l_min", "scale": 1.0}}

    ``unit`` defaults to the parameter's unit in :data:`PARAMETER_UNITS` and, for a known parameter, must
    equal it; a new parameter code (same pattern: quantity then unit) must give a known UCUM unit.
    """
    result: dict[CodeKey, CodeMapping] = dict(base)
    for raw_key, value in data.items():
        where = f"code_map[{raw_key!r}]"
        parts = str(raw_key).split("^")
        if len(parts) not in (2, 3) or not all(p.strip() for p in parts):
            raise InputError(where, "key must be SYSTEM^CODE or SYSTEM^CODE^CHANNEL, e.g. MDC^150016^1.1.2")
        system, code = _norm_system(parts[0]), parts[1].strip()
        key: CodeKey = (system, code)
        if len(parts) == 3:
            channel = parts[2].strip()
            if not _CHANNEL.fullmatch(channel):
                raise InputError(where, f"channel {channel!r} must be a dotted OBX-4 prefix such as 1.1.2")
            key = (system, code, channel)
        spec: Mapping[str, object] = (
            {"parameter": value} if isinstance(value, str) else _as_mapping(where, value)
        )
        unknown = set(spec) - {"parameter", "unit", "scale"}
        if unknown:
            raise InputError(where, f"unknown keys {sorted(unknown)}; use parameter, unit, scale")
        parameter = spec.get("parameter")
        if not isinstance(parameter, str) or not _PARAMETER_CODE.fullmatch(parameter):
            raise InputError(
                f"{where}.parameter", f"must be a parameter code such as blood_flow_l_min, got {parameter!r}"
            )
        unit = spec.get("unit", PARAMETER_UNITS.get(parameter))
        if not isinstance(unit, str) or unit not in _KNOWN_UNITS:
            raise InputError(
                f"{where}.unit", f"must be one of the UCUM units {sorted(_KNOWN_UNITS)}, got {unit!r}"
            )
        if parameter in PARAMETER_UNITS and unit != PARAMETER_UNITS[parameter]:
            raise InputError(
                f"{where}.unit", f"{parameter} is stored in {PARAMETER_UNITS[parameter]}, not {unit}"
            )
        scale = validate.number(f"{where}.scale", spec.get("scale", 1.0), minimum=0.0, min_exclusive=True)
        result[key] = CodeMapping(parameter, unit, scale)
    return MappingProxyType(result)


def _as_mapping(where: str, value: object) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise InputError(
            where, f"must be a parameter code or a mapping with parameter/unit/scale, got {value!r}"
        )
    return {str(k): v for k, v in value.items()}


# --------------------------------------------------------------------------------------------------------
# Parsed message
# --------------------------------------------------------------------------------------------------------


class PatientId(NamedTuple):
    """One PID-3 repetition (CX): the identifier, its assigning authority (CX-4.1) and type code (CX-5)."""

    id: str
    authority: str = ""
    type_code: str = ""


class Location(NamedTuple):
    """PV1-3 assigned patient location (PL): point of care, room, bed, facility (empty when absent)."""

    point_of_care: str = ""
    room: str = ""
    bed: str = ""
    facility: str = ""


class Unmapped(NamedTuple):
    """An OBX value that was not mapped: the code as sent, its coding system, why, and the OBX ordinal."""

    code: str
    system: str
    reason: str
    obx_index: int = 0


@dataclass(frozen=True)
class Observation:
    """One mapped numeric observation, converted to our unit.

    ``observed_at`` is aware UTC; ``source_code`` is ``SYSTEM:CODE`` as sent (OBX-3); ``obx_index`` is the
    1-based ordinal of the OBX segment in the message (OBX-1 is unreliable); ``sub_id`` is OBX-4 as sent
    (e.g. ``1.1.2.1``); ``device_id`` is the OBX-18 equipment id (or the OBR's EUI-64); ``method`` is OBX-17.1
    (``AMEAS``, ``MSET``: settings are not measurements); ``status`` is OBX-11.
    """

    parameter: str
    value: float
    unit: str
    observed_at: datetime
    source_code: str
    obx_index: int
    sub_id: str = ""
    device_id: str = ""
    method: str = ""
    status: str = ""


@dataclass(frozen=True)
class MessageHeader:
    """What the MSH says, as needed for routing, deduplication and the ACK.

    Composite fields (HD, MSG) are given re-encoded with the standard separators (``APP^EUI^EUI-64``).
    """

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    message_time: str = ""
    message_type: str = ""
    message_code: str = ""
    trigger_event: str = ""
    control_id: str = ""
    processing_id: str = ""
    version: str = ""
    accept_ack_type: str = ""
    application_ack_type: str = ""
    character_set: str = ""

    @property
    def enhanced_mode(self) -> bool:
        """True when MSH-15 asks for an accept acknowledgement (anything but empty or NE) [DD §4]."""
        return self.accept_ack_type not in ("", "NE")


@dataclass(frozen=True)
class ParsedMessage:
    """An ORU^R01 message reduced to what ECMO Steward stores. Header fields are exposed as properties."""

    header: MessageHeader
    message_time: datetime | None
    patient_ids: tuple[PatientId, ...]
    location: Location
    device_ids: tuple[str, ...]
    observations: tuple[Observation, ...]
    unmapped: tuple[Unmapped, ...]

    @property
    def control_id(self) -> str:
        return self.header.control_id

    @property
    def sending_application(self) -> str:
        return self.header.sending_application

    @property
    def sending_facility(self) -> str:
        return self.header.sending_facility

    @property
    def message_type(self) -> str:
        return self.header.message_type

    @property
    def version(self) -> str:
        return self.header.version

    @property
    def processing_id(self) -> str:
        return self.header.processing_id

    @property
    def accept_ack_type(self) -> str:
        return self.header.accept_ack_type

    @property
    def application_ack_type(self) -> str:
        return self.header.application_ack_type

    @property
    def dedupe_key(self) -> tuple[str, str]:
        """(sending application, MSH-10): a replay of the same message has the same key [DD §4]."""
        return (self.header.sending_application, self.header.control_id)


# --------------------------------------------------------------------------------------------------------
# Segments. With the usual encoding characters (five distinct separators) a segment is split here with str.split,
# exactly as python-hl7 would split it (field, repetition, component, first subcomponent) but some ten times faster
# (the listener's hot path). python-hl7 (which has no type hints) reads the rare MSH whose separators coincide, so
# that such messages keep its behaviour. Unescaping is done here because python-hl7's own unescape logs through
# deprecated calls and raises on some input.
# --------------------------------------------------------------------------------------------------------


class _Segment:
    """Typed access to one segment's fields (1-based components and repetitions, unescaped)."""

    __slots__ = ("_esc", "_seps", "name")

    _esc: str
    _seps: str  # "\r" + field, repetition, component, subcomponent
    name: str

    @property
    def structure_separators(self) -> str:
        """Repetition, component and subcomponent separators of this message."""
        return self._seps[2:]

    def repetitions(self, n: int) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def raw(self, n: int) -> str:  # pragma: no cover - abstract
        """Field ``n`` as sent (still escaped, with its separators); "" if absent."""
        raise NotImplementedError

    def components(self, n: int, repetition: int = 1) -> tuple[str, ...]:  # pragma: no cover - abstract
        raise NotImplementedError

    def get(self, n: int, component: int = 1, repetition: int = 1) -> str:
        """Field ``n``, component and repetition 1-based, unescaped; the first subcomponent; "" if absent."""
        comps = self.components(n, repetition)
        return comps[component - 1] if component <= len(comps) else ""

    def _unescape(self, text: str) -> str:
        if self._esc not in text:
            return text
        named = {
            "F": self._seps[1],
            "R": self._seps[2],
            "S": self._seps[3],
            "T": self._seps[4],
            "E": self._esc,
        }
        out: list[str] = []
        pieces = text.split(self._esc)
        # Escape sequences sit between pairs of escape characters: odd pieces are sequences.
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                out.append(piece)
            elif i == len(pieces) - 1:
                out.append(self._esc + piece)  # an unpaired escape character is kept as text
            elif piece in named:
                out.append(named[piece])
            elif re.fullmatch(r"X(?:[0-9A-Fa-f]{2})+", piece):
                out.append(bytes.fromhex(piece[1:]).decode("latin-1"))
            # formatting (\H\, \N\, \.br\ …) and character-set switches are dropped
        return "".join(out)


class _TreeSegment(_Segment):
    """A segment as python-hl7 split it (messages whose separators coincide)."""

    __slots__ = ("_seg",)

    def __init__(self, seg: Any) -> None:
        self._seg = seg
        self._esc = seg.esc
        self._seps = seg.separators
        self.name = str(seg[0])

    def repetitions(self, n: int) -> int:
        return len(self._seg[n]) if n < len(self._seg) else 0

    def raw(self, n: int) -> str:
        return str(self._seg[n]) if n < len(self._seg) else ""

    def components(self, n: int, repetition: int = 1) -> tuple[str, ...]:
        if n >= len(self._seg) or repetition > len(self._seg[n]):
            return ()
        rep = self._seg[n][repetition - 1]
        if isinstance(rep, str):
            return (self._unescape(rep),)
        return tuple(self._unescape(c if isinstance(c, str) else c[0]) for c in rep)


class _SplitSegment(_Segment):
    """A segment split with ``str.split``: the same fields, repetitions and components as python-hl7 gives."""

    __slots__ = ("_atomic", "_cache", "_fields")

    def __init__(self, fields: list[str], seps: str, esc: str, *, header: bool) -> None:
        self._fields = fields
        self._seps = seps
        self._esc = esc
        self.name = fields[0]
        # MSH-1 and MSH-2 hold the separators themselves: never split (as python-hl7).
        self._atomic = header
        self._cache: dict[tuple[int, int], tuple[str, ...]] = {}

    def repetitions(self, n: int) -> int:
        if n >= len(self._fields):
            return 0
        return 1 if self._atomic and n in (1, 2) else self._fields[n].count(self._seps[2]) + 1

    def raw(self, n: int) -> str:
        return self._fields[n] if n < len(self._fields) else ""

    def components(self, n: int, repetition: int = 1) -> tuple[str, ...]:
        key = (n, repetition)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._components(n, repetition)
        return found

    def _components(self, n: int, repetition: int) -> tuple[str, ...]:
        if n >= len(self._fields):
            return ()
        text = self._fields[n]
        if self._atomic and n in (1, 2):
            return (self._unescape(text),) if repetition == 1 else ()
        seps = self._seps
        reps = text.split(seps[2])
        if repetition > len(reps):
            return ()
        rep = reps[repetition - 1]
        sub = seps[4]
        if sub not in rep and self._esc not in rep:
            return tuple(rep.split(seps[3]))
        return tuple(self._unescape(c.split(sub, 1)[0]) for c in rep.split(seps[3]))


_HEADER_SEGMENTS: Final = ("MSH", "BHS", "FHS")


def _separators(msh: str) -> tuple[str, str]:
    """python-hl7's plan from an MSH line: ("\r" + field, repetition, component, subcomponent; escape)."""
    specials = msh[3 : msh.find(msh[3], 4)]
    seps = (
        "\r"
        + specials[0]
        + (specials[2] if len(specials) > 2 else "~")
        + (specials[1] if len(specials) > 1 else "^")
        + (specials[4] if len(specials) > 4 else "&")
    )
    return seps, specials[3] if len(specials) > 3 else "\\"


def _split_segment(text: str, seps: str, esc: str) -> _SplitSegment:
    field = seps[1]
    if text[:3] in _HEADER_SEGMENTS and any(s in text for s in seps[1:]):
        # As python-hl7: the header's separator and encoding characters are fields 1 and 2.
        sep0 = text[3]
        end = text.find(sep0, 4)
        rest = text[end + 1 :]
        fields = [text[:3], sep0, text[4:end], *(rest.split(field) if rest else ())]
        return _SplitSegment(fields, seps, esc, header=True)
    return _SplitSegment(text.split(field), seps, esc, header=False)


_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _lines(text: str) -> list[str]:
    # Real gateways use CR, LF or CRLF [DD §2]; stray MLLP bytes and blank lines are dropped.
    cleaned = text.replace("\x0b", "").replace("\x1c", "").lstrip("\ufeff")
    return [line.strip() for line in _LINE_BREAK.split(cleaned) if line.strip()]


def _msh_prefix_ok(line: str) -> bool:
    """An MSH python-hl7 can split: ``MSH``, field separator, 2–5 distinct encoding characters, separator."""
    if len(line) < 7 or not line.startswith("MSH"):
        return False
    sep = line[3]
    end = line.find(sep, 4)
    encoding = line[4:end]
    specials = sep + encoding
    return (
        end != -1
        and 2 <= len(encoding) <= 5
        and len(set(specials)) == len(specials)
        and not any(c.isalnum() or c.isspace() for c in specials)
    )


def _parse_segments(lines: list[str]) -> list[_Segment]:
    seps, esc = _separators(lines[0])
    if len(set(seps)) == len(seps):
        return [_split_segment(line, seps, esc) for line in lines]
    try:
        message = hl7.parse("\r".join(lines))
    except (AssertionError, ValueError, IndexError, KeyError) as exc:
        # python-hl7 asserts on some encoding-character sets our MSH check lets through (e.g. ``MSH|^&~|``,
        # three characters in an order it cannot plan); found by fuzzing. The message is unreadable: reject it.
        raise HL7Error(
            102,
            f"MSH-2 encoding characters cannot be used to split the message ({type(exc).__name__})",
            "MSH",
            2,
            rejected=True,
        ) from None
    return [_TreeSegment(seg) for seg in message]


def _escape(text: str) -> str:
    """Escape text for the standard encoding characters ``|^~\\&`` (ACK output); line breaks become spaces."""
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\")
    return _LINE_BREAK.sub(" ", out.replace("~", "\\R\\"))


def _encode(components: Iterable[str]) -> str:
    return "^".join(_escape(c) for c in components).rstrip("^")


def _header(msh: _Segment) -> MessageHeader:
    return MessageHeader(
        sending_application=_encode(msh.components(3)),
        sending_facility=_encode(msh.components(4)),
        receiving_application=_encode(msh.components(5)),
        receiving_facility=_encode(msh.components(6)),
        message_time=msh.get(7).strip(),
        message_type=_encode(msh.components(9)),
        message_code=msh.get(9, 1).strip().upper(),
        trigger_event=msh.get(9, 2).strip().upper(),
        control_id=msh.get(10).strip(),
        processing_id=msh.get(11).strip().upper(),
        version=msh.get(12).strip(),
        accept_ack_type=msh.get(15).strip().upper(),
        application_ack_type=msh.get(16).strip().upper(),
        character_set=msh.get(18).strip(),
    )


def read_header(text: str) -> MessageHeader:
    """Best-effort MSH of any text, for acknowledging what cannot be parsed; never raises.

    Uses the first line that starts with a well-formed ``MSH`` prefix; without one, every field is empty.
    """
    for line in _lines(text):
        if _msh_prefix_ok(line):
            try:
                return _header(_parse_segments([line])[0])
            except HL7Error:  # an MSH python-hl7 cannot split: acknowledge with an empty header
                return MessageHeader()
    return MessageHeader()


# --------------------------------------------------------------------------------------------------------
# Timestamps
# --------------------------------------------------------------------------------------------------------

_TS = re.compile(
    r"(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})(?P<h>\d{2})(?P<mi>\d{2})"
    r"(?:(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?(?:(?P<sign>[+-])(?P<oh>\d{2})(?P<om>\d{2}))?"
)


def _split_timestamp(value: str) -> tuple[datetime, tzinfo | None]:
    """Naive local time and the explicit offset (or None); ValueError when malformed."""
    m = _TS.fullmatch(value)
    if m is None:
        raise ValueError(f"{value!r} is not an HL7 time YYYYMMDDHHMM[SS[.S]][+/-ZZZZ]")
    naive = datetime(  # noqa: DTZ001 - the offset is attached by the caller
        int(m["y"]),
        int(m["mo"]),
        int(m["d"]),
        int(m["h"]),
        int(m["mi"]),
        int(m["s"] or 0),
        int((m["f"] or "0").ljust(6, "0")),
    )
    if m["sign"] is None:
        return naive, None
    hours, minutes = int(m["oh"]), int(m["om"])
    if hours > 23 or minutes > 59:
        raise ValueError(f"{value!r} has an impossible UTC offset")
    offset = timedelta(hours=hours, minutes=minutes)
    return naive, timezone(-offset if m["sign"] == "-" else offset)


def parse_hl7_timestamp(value: str, *, default_tz: tzinfo = UTC) -> datetime:
    """Parse an HL7 DTM ``YYYYMMDDHHMM[SS[.S…]][+/-ZZZZ]`` (at least minute precision) into aware UTC.

    A value without an offset is read in ``default_tz`` (a ``zoneinfo.ZoneInfo`` handles daylight saving;
    an ambiguous or missing local time uses fold=0). Raises :class:`HL7Error` 102 when malformed.
    """
    try:
        return _timestamp(value.strip(), default_tz)
    except ValueError as exc:
        raise HL7Error(102, str(exc)) from None


# --------------------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------------------

_SUPPORTED_VERSION = re.compile(r"2\.[3-9](?:\.\d+)*")
_PROCESSING_IDS: Final = frozenset({"", "P", "T", "D"})
#: OBX-11 statuses that carry no result (device-tree rows, order detail, not asked, pending): skipped.
_NO_RESULT_STATUSES: Final = frozenset({"X", "O", "N", "I"})
#: OBX-11 delete / wrong: a retraction, listed as unmapped so that a person reviews it.
_RETRACTION_STATUSES: Final = frozenset({"D", "W"})
#: OBX-11 statuses whose value is stored (empty: many gateways leave OBX-11 blank).
_RESULT_STATUSES: Final = frozenset({"", "F", "R", "P", "C", "S", "U", "A", "B"})
_NM = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


@dataclass
class _Context:
    """Per-message state while walking the segments."""

    code_map: CodeMap
    fallback_tz: tzinfo
    message_time: datetime | None
    obr_time: datetime | None = None
    obr_device: str = ""
    obr_seen: bool = False


def _sn_value(obx: _Segment, sequence: int, parameter: str) -> str:
    """The number of an SN (structured numeric) OBX-5 that states one value: ``^4.2`` or ``=^4.2``.

    A comparator other than ``=`` (``<``, ``>=`` …), a range or ratio (``1^-^3``, ``1^:^2``) or repetitions state
    something other than a measured value and are refused, naming OBX-5.
    """
    comps = obx.components(5)
    comparator, number = (*comps, "", "")[:2]
    rest = [c for c in comps[2:] if c.strip()]
    if obx.repetitions(5) > 1 or comparator.strip() not in ("", "=") or rest:
        raise HL7Error(
            102,
            f"OBX-5 SN {obx.raw(5)!r} is not a single value ({parameter}): a comparator other than '=', a range "
            "or a ratio is not a measurement",
            "OBX",
            5,
            sequence=sequence,
        )
    return number.strip()


def parse_oru(text: str, *, code_map: CodeMap = DEFAULT_CODE_MAP, default_tz: tzinfo = UTC) -> ParsedMessage:
    """Parse one HL7 v2 ORU^R01 message (IHE PCD-01 style) into mapped observations.

    Tolerates CR, LF or CRLF segment separators, blank lines, an absent or empty PID, an absent PV1,
    hierarchical OBX-4, and unknown segments (ignored). Times: OBX-14, else the OBR-7 of its OBR, else MSH-7;
    a time without an offset takes MSH-7's offset, else ``default_tz`` [DD §2]. OBX rows:

    - OBX-11 ``X``/``O``/``N``/``I`` or an empty OBX-5 carry no result and are skipped (device-tree rows);
    - a code not in ``code_map`` (or needing a channel) → :attr:`ParsedMessage.unmapped`, not an error;
    - OBX-11 ``D``/``W`` (retraction) → unmapped with that reason, for review;
    - a mapped code with a non-NM value type, a non-numeric or repeated value, an unknown or unconvertible
      unit, a bad time or a fraction above 1 → :class:`HL7Error` (the whole message is refused, AE/CE).

    Raises :class:`HL7Error` with ``rejected=True`` when the MSH is unreadable, MSH-10 is missing, or the
    type (ORU), event (R01), processing id (P/T/D) or version (2.3–2.9) is unsupported.
    """
    lines = _lines(text)
    if lines and lines[0][:3] in ("FHS", "BHS"):
        # One message per MLLP frame (IHE PCD-01); a batch would need a batch acknowledgement, which a gateway
        # waiting for one ACK per frame cannot read. Refused whole, so that the sender splits it.
        raise HL7Error(
            100,
            f"HL7 batches ({lines[0][:3]}) are not accepted: send each message in its own MLLP frame",
            lines[0][:3],
            rejected=True,
        )
    if not lines or not lines[0].startswith("MSH"):
        raise HL7Error(100, "the message does not begin with an MSH segment", "MSH", rejected=True)
    if not _msh_prefix_ok(lines[0]):
        raise HL7Error(
            102, "MSH field separator and encoding characters are unreadable", "MSH", 2, rejected=True
        )
    segments = _parse_segments(lines)
    header = _header(segments[0])
    _check_header(header)
    message_time, fallback_tz = _message_time(header.message_time, default_tz)
    ctx = _Context(code_map=code_map, fallback_tz=fallback_tz, message_time=message_time)
    counts: dict[str, int] = {"MSH": 1}
    patient_ids: tuple[PatientId, ...] = ()
    location = Location()
    device_ids: list[str] = []
    observations: list[Observation] = []
    unmapped: list[Unmapped] = []
    for position, seg in enumerate(segments[1:], start=2):
        if not _SEGMENT_ID.fullmatch(seg.name):
            raise HL7Error(100, f"line {position} is not a segment (no 3-character segment id)")
        sequence = counts.get(seg.name, 0) + 1
        counts[seg.name] = sequence
        if seg.name in ("MSH", "PID", "PV1") and sequence > 1:
            raise HL7Error(
                100, f"more than one {seg.name} segment: one patient per message", seg.name, sequence=sequence
            )
        if seg.name == "PID":
            patient_ids = _patient_ids(seg)
        elif seg.name == "PV1":
            location = Location(*(seg.get(3, i).strip() for i in (1, 2, 3, 4)))
        elif seg.name == "OBR":
            _enter_obr(seg, sequence, ctx, device_ids)
        elif seg.name == "OBX":
            if not ctx.obr_seen:
                raise HL7Error(100, "OBX before any OBR", "OBX", sequence=sequence)
            device = _device_id(seg.components(18)) or ctx.obr_device
            if device and device not in device_ids:
                device_ids.append(device)
            result = _observation(seg, sequence, device, ctx)
            if isinstance(result, Observation):
                observations.append(result)
            elif isinstance(result, Unmapped):
                unmapped.append(result)
    if not ctx.obr_seen:
        raise HL7Error(100, "an ORU^R01 needs at least one OBR segment", "OBR")
    return ParsedMessage(
        header=header,
        message_time=message_time,
        patient_ids=patient_ids,
        location=location,
        device_ids=tuple(device_ids),
        observations=tuple(observations),
        unmapped=tuple(unmapped),
    )


def _check_header(header: MessageHeader) -> None:
    if not header.control_id:
        raise HL7Error(101, "MSH-10 message control id is empty", "MSH", 10, rejected=True)
    if header.message_code != "ORU":
        raise HL7Error(
            200, f"message type {header.message_type or '(empty)'} is not ORU^R01", "MSH", 9, rejected=True
        )
    if header.trigger_event != "R01":
        raise HL7Error(201, f"event {header.trigger_event or '(empty)'} is not R01", "MSH", 9, rejected=True)
    if header.processing_id not in _PROCESSING_IDS:
        raise HL7Error(
            202, f"processing id {header.processing_id} is not P, T or D", "MSH", 11, rejected=True
        )
    if not _SUPPORTED_VERSION.fullmatch(header.version):
        raise HL7Error(
            203, f"version {header.version or '(empty)'} is not 2.3 to 2.9", "MSH", 12, rejected=True
        )


def _message_time(value: str, default_tz: tzinfo) -> tuple[datetime | None, tzinfo]:
    """MSH-7 in UTC, and the zone for other times without an offset: MSH-7's offset, else ``default_tz``."""
    if not value:
        return None, default_tz
    try:
        naive, offset = _split_timestamp(value)
    except ValueError as exc:
        raise HL7Error(102, f"MSH-7: {exc}", "MSH", 7) from None
    zone = default_tz if offset is None else offset
    return naive.replace(tzinfo=zone).astimezone(UTC), zone


def _timestamp(value: str, fallback_tz: tzinfo) -> datetime:
    naive, offset = _split_timestamp(value)
    return naive.replace(tzinfo=fallback_tz if offset is None else offset).astimezone(UTC)


def _enter_obr(seg: _Segment, sequence: int, ctx: _Context, device_ids: list[str]) -> None:
    ctx.obr_seen = True
    raw = seg.get(7).strip()
    try:
        ctx.obr_time = _timestamp(raw, ctx.fallback_tz) if raw else None
    except ValueError as exc:
        raise HL7Error(102, f"OBR-7: {exc}", "OBR", 7, sequence=sequence) from None
    # OBR-3 (filler order number) carries the device EUI-64 as universal id in PCD-01 [DD §4 example].
    ctx.obr_device = ""
    for n in (3, 2):
        comps = seg.components(n) + ("",) * 4
        if comps[3].strip().upper() == "EUI-64" and comps[2].strip():
            ctx.obr_device = comps[2].strip()
            break
    if ctx.obr_device and ctx.obr_device not in device_ids:
        device_ids.append(ctx.obr_device)


def _device_id(comps: tuple[str, ...]) -> str:
    """OBX-18 equipment instance identifier (EI): entity id, else universal id [DD §2 device identity]."""
    padded = comps + ("",) * 3
    return padded[0].strip() or padded[2].strip()


def _patient_ids(seg: _Segment) -> tuple[PatientId, ...]:
    ids = []
    for rep in range(1, seg.repetitions(3) + 1):
        comps = seg.components(3, rep) + ("",) * 5
        if comps[0].strip():
            ids.append(PatientId(comps[0].strip(), comps[3].strip(), comps[4].strip()))
    return tuple(ids)


def _candidates(comps: tuple[str, ...]) -> list[tuple[str, str]]:
    """(system, code) pairs to look up, from OBX-3 and its alternate coding; MDC text is a reference id."""
    padded = comps + ("",) * 6
    out: list[tuple[str, str]] = []
    for ident, text, raw_system in (padded[0:3], padded[3:6]):
        ident, text, system = ident.strip(), text.strip(), _norm_system(raw_system)
        if not system and (ident.startswith("MDC_") or text.startswith("MDC_")):
            system = "MDC"  # some gateways leave the system empty on MDC codes
        if system and ident:
            out.append((system, ident))
        if system == "MDC" and text.startswith("MDC_") and text != ident:
            out.append((system, text))
    return out


def _lookup(code_map: CodeMap, candidates: list[tuple[str, str]], sub_id: str) -> CodeMapping | None:
    parts = sub_id.split(".") if _CHANNEL.fullmatch(sub_id) else []
    prefixes = [".".join(parts[:n]) for n in range(len(parts), 0, -1)]
    # A channel-specific site entry beats a code-only entry, whichever of the codings it matches.
    for prefix in prefixes:
        for system, code in candidates:
            found = code_map.get((system, code, prefix))
            if found is not None:
                return found
    for system, code in candidates:
        found = code_map.get((system, code))
        if found is not None:
            return found
    return None


def _unmapped_reason(candidates: list[tuple[str, str]]) -> str:
    for candidate in candidates:
        if candidate in _CONTEXT_REQUIRED:
            return f"{candidate[0]} {candidate[1]} {_CONTEXT_REQUIRED[candidate]}"
    for system, code in candidates:
        # Term codes 0xF000 and above are manufacturer-private and never standard [DD §1.1].
        if system == "MDC" and code.isdigit() and int(code) % 65536 >= 0xF000:
            return f"MDC {code} is a manufacturer-private code; map it explicitly in the site code map"
    if not candidates:
        return "OBX-3 names no coding system"
    return "code not in the code map"


def _observation(obx: _Segment, sequence: int, device: str, ctx: _Context) -> Observation | Unmapped | None:
    status = obx.get(11).strip().upper()
    if status in _NO_RESULT_STATUSES or not obx.raw(5):
        return None
    code_comps = obx.components(3)
    code, system = obx.get(3, 1).strip(), obx.get(3, 3).strip()
    if not code and not obx.get(3, 2).strip():
        raise HL7Error(101, "OBX-3 observation identifier is empty", "OBX", 3, sequence=sequence)
    if status in _RETRACTION_STATUSES:
        return Unmapped(
            code, system, f"OBX {sequence}: status {status} retracts a result; review it by hand", sequence
        )
    if status not in _RESULT_STATUSES:
        raise HL7Error(103, f"OBX-11 status {status!r} is not in table 0085", "OBX", 11, sequence=sequence)
    candidates = _candidates(code_comps)
    sub_id = obx.get(4).strip()
    mapping = _lookup(ctx.code_map, candidates, sub_id)
    if mapping is None:
        return Unmapped(code, system, f"OBX {sequence}: {_unmapped_reason(candidates)}", sequence)

    value_type = obx.get(2).strip().upper()
    if value_type not in ("NM", "", "SN"):
        raise HL7Error(
            102,
            f"OBX-2 value type {value_type} is not NM or SN for {mapping.parameter}",
            "OBX",
            2,
            sequence=sequence,
        )
    if value_type == "SN":
        value_text = _sn_value(obx, sequence, mapping.parameter)
    elif any(sep in obx.raw(5) for sep in obx.structure_separators):
        raise HL7Error(
            102, f"OBX-5 holds more than one value for {mapping.parameter}", "OBX", 5, sequence=sequence
        )
    else:
        value_text = obx.get(5).strip()
    if not _NM.fullmatch(value_text):
        raise HL7Error(
            102, f"OBX-5 {value_text!r} is not a number ({mapping.parameter})", "OBX", 5, sequence=sequence
        )

    sent_unit = _unit(obx, sequence, mapping)
    numerator, denominator = (
        (1.0, 1.0) if sent_unit == mapping.unit else _UNIT_FACTORS.get((sent_unit, mapping.unit), (0.0, 0.0))
    )
    if denominator == 0.0:
        raise HL7Error(
            103,
            f"OBX-6 unit {sent_unit} cannot be converted to {mapping.unit} ({mapping.parameter})",
            "OBX",
            6,
            sequence=sequence,
        )
    value = float(value_text) * numerator / denominator * mapping.scale
    _check_value(mapping.parameter, value, sequence)

    return Observation(
        parameter=mapping.parameter,
        value=value,
        unit=mapping.unit,
        observed_at=_observed_at(obx, sequence, ctx),
        source_code=f"{candidates[0][0]}:{candidates[0][1]}",
        obx_index=sequence,
        sub_id=sub_id,
        device_id=device,
        method=obx.get(17).strip(),
        status=status,
    )


def _unit(obx: _Segment, sequence: int, mapping: CodeMapping) -> str:
    comps = (*obx.components(6), "", "")
    ident, text = comps[0].strip(), comps[1].strip()
    if not ident and not text:
        return mapping.unit  # an empty OBX-6 is taken to be in the mapping's unit (documented)
    for spelling in (ident, text):
        ucum = _UNIT_ALIASES.get(spelling.lower())
        if ucum is not None:
            return ucum
    raise HL7Error(
        103,
        f"OBX-6 unit {ident or text!r} is not in the unit table ({mapping.parameter})",
        "OBX",
        6,
        sequence=sequence,
    )


def _check_value(parameter: str, value: float, sequence: int) -> None:
    try:
        if parameter in FRACTION_PARAMETERS:
            validate.fraction(parameter, value)
        if parameter == "bubble_detected" and value not in (0.0, 1.0):
            raise InputError(parameter, f"must be 0 or 1, got {value:g}")
    except InputError as exc:
        raise HL7Error(102, f"OBX-5 {exc}", "OBX", 5, sequence=sequence) from None


def _observed_at(obx: _Segment, sequence: int, ctx: _Context) -> datetime:
    raw = obx.get(14).strip()
    if raw:
        try:
            when = _timestamp(raw, ctx.fallback_tz)
        except ValueError as exc:
            raise HL7Error(102, f"OBX-14: {exc}", "OBX", 14, sequence=sequence) from None
    elif ctx.obr_time is not None:
        when = ctx.obr_time
    elif ctx.message_time is not None:
        when = ctx.message_time
    else:
        raise HL7Error(
            101, "no observation time: OBX-14, OBR-7 and MSH-7 are all empty", "OBX", 14, sequence=sequence
        )
    return when


# --------------------------------------------------------------------------------------------------------
# Outcome and acknowledgement
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Triage:
    """The decision for one message: its outcome, header, parse (when readable) and the error to report."""

    outcome: Outcome
    header: MessageHeader
    parsed: ParsedMessage | None
    error: HL7Error | None

    @property
    def dead_letter(self) -> bool:
        """True when the message must be kept in the dead-letter table (anything not accepted)."""
        return self.outcome is not Outcome.ACCEPTED


def triage(text: str, *, code_map: CodeMap = DEFAULT_CODE_MAP, default_tz: tzinfo = UTC) -> Triage:
    """Parse ``text`` and decide its outcome; never raises :class:`HL7Error`.

    - :class:`HL7Error` from :func:`parse_oru` → its outcome (``rejected`` or ``error``), header best-effort;
    - values present but not one OBX mappable → ``error`` with 103 (an "unmappable message");
    - otherwise ``accepted``, even when some OBX are unmapped (they are listed for the log) [DD §4]. A message
      whose OBX carry no values at all (only device-tree rows) is accepted with nothing to store.
    """
    try:
        parsed = parse_oru(text, code_map=code_map, default_tz=default_tz)
    except HL7Error as exc:
        return Triage(exc.outcome, read_header(text), None, exc)
    if parsed.unmapped and not parsed.observations:
        first = parsed.unmapped[0]
        codes = ", ".join(f"{u.system}:{u.code}" for u in parsed.unmapped)
        error = HL7Error(
            103, f"no OBX could be mapped ({codes}); {first.reason}", "OBX", 3, sequence=first.obx_index
        )
        return Triage(Outcome.ERROR, parsed.header, parsed, error)
    return Triage(Outcome.ACCEPTED, parsed.header, parsed, None)


AckMode = Literal["auto", "original", "enhanced"]


def _header_of(message: str | ParsedMessage | MessageHeader) -> MessageHeader:
    if isinstance(message, MessageHeader):
        return message
    if isinstance(message, ParsedMessage):
        return message.header
    return read_header(message)


def ack_code(
    outcome: Outcome | str, message: str | ParsedMessage | MessageHeader, *, mode: AckMode = "auto"
) -> str:
    """MSA-1 for ``outcome``: accepted → AA/CA, error → AE/CE, rejected → AR/CR.

    ``mode="auto"`` follows the message: MSH-15 present and not ``NE`` → enhanced mode (C*), else original
    mode (A*) [DD §4]. ``original``/``enhanced`` force a mode for senders that expect otherwise.
    """
    outcome = Outcome(outcome)
    enhanced = _header_of(message).enhanced_mode if mode == "auto" else mode == "enhanced"
    letter = {Outcome.ACCEPTED: "A", Outcome.ERROR: "E", Outcome.REJECTED: "R"}[outcome]
    return ("C" if enhanced else "A") + letter


def build_ack(
    message: str | ParsedMessage | MessageHeader,
    *,
    code: str,
    text: str = "",
    error: HL7Error | None = None,
    now: datetime,
    control_id: str | None = None,
    application: str = "ECMO_STEWARD",
) -> str:
    """Build the ACK for ``message`` (text, parsed message or header): MSH, MSA and, with ``error``, ERR.

    MSH: sender and receiver swapped (``application`` when the inbound MSH-5 is empty), MSH-7 = ``now`` in
    UTC, MSH-9 ``ACK^<event>^ACK``, MSH-10 = ``control_id`` or a digest of the inbound id and ``now``,
    MSH-11/12 copied (``P``/``2.6`` when unreadable). MSA-1 = ``code``, MSA-2 = inbound MSH-10,
    MSA-3 = ``text`` or the error message. ERR: ERR-2 location, ERR-3 ``code^name^HL70357``, ERR-4 ``E``,
    ERR-8 the message. A message whose MSH is unreadable still gets an ACK with empty routing fields.
    Segments end in CR.
    """
    if code not in ACK_CODES:
        raise InputError("code", f"must be one of {', '.join(sorted(ACK_CODES))}, got {code!r}")
    if now.utcoffset() is None:
        raise InputError("now", "must be a timezone-aware datetime")
    header = _header_of(message)
    stamp = now.astimezone(UTC)
    if control_id is None:
        digest = hashlib.sha256(
            f"{header.sending_application}|{header.control_id}|{stamp.isoformat()}".encode()
        )
        control_id = "A" + digest.hexdigest()[:19].upper()
    event = f"^{_escape(header.trigger_event)}^ACK" if header.trigger_event else ""
    msh = [
        "MSH",
        "^~\\&",
        header.receiving_application or _escape(application),
        header.receiving_facility,
        header.sending_application,
        header.sending_facility,
        stamp.strftime("%Y%m%d%H%M%S") + "+0000",
        "",
        "ACK" + event,
        _escape(control_id),
        _escape(header.processing_id or "P"),
        _escape(header.version or "2.6"),
    ]
    msa = ["MSA", code, _escape(header.control_id), _escape(text or (error.message if error else ""))]
    segments = ["|".join(msh), "|".join(msa).rstrip("|")]
    if error is not None:
        err = [
            "ERR",
            "",
            error.location,
            f"{error.code}^{ERROR_CODES[error.code]}^HL70357",
            "E",
            "",
            "",
            "",
            _escape(error.message),
        ]
        segments.append("|".join(err))
    return "\r".join(segments) + "\r"
