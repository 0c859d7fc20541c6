"""FHIR R4 Bundle for one ECMO run, as plain dicts.

The bundle (type ``collection``) holds:

- ``Patient`` (identifiers and name only when ``identified``), ``Encounter`` (the stay as ECMO Steward knows it:
  the run's span);
- ``Procedure``: the ECMO run (SNOMED CT 233573008 *Extracorporeal membrane oxygenation*), and one per
  configuration segment (V-V, V-A …) with ``partOf`` → the run;
- ``Device``: console, pump head, oxygenator and the other circuit components (pump and oxygenator name the
  console of their circuit as ``parent``), and each concurrent MCS device; ``DeviceMetric`` for each measured
  parameter, sourced from the device that measures it (PoCD pattern, device-data §5);
- ``Observation``: telemetry summaries (mean with minimum, maximum and count per period), laboratory values and
  blood gases one by one, and each hourly circuit check with its values as components. Units are UCUM; LOINC is
  added where device-data.md lists one, and every observation also carries the local parameter code;
- ``Condition`` and ``AdverseEvent`` for each complication.

Entries are identified by ``urn:uuid:`` full URLs made from the run id and the resource's key (uuid5), so the
same run gives the same ids on every export and references resolve inside the bundle.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ecmo_core.exports import codes
from ecmo_core.exports.records import (
    CheckRecord,
    Complication,
    ComponentRecord,
    McsRecord,
    Measurement,
    PatientRecord,
    RunRecord,
    TelemetrySummary,
)

Resource = dict[str, Any]

_NAMESPACE = uuid.UUID("6f1c2a4e-8d7b-5e3f-9a10-ec0000000001")
COMPONENT_SYSTEM = "urn:ecmo-steward:component-kind"
MCS_SYSTEM = "urn:ecmo-steward:mcs-kind"
CONFIGURATION_SYSTEM = "urn:ecmo-steward:configuration"
COMPLICATION_SYSTEM = "urn:ecmo-steward:elso-complication"
SUMMARY_SYSTEM = "urn:ecmo-steward:summary"
CHECK_SYSTEM = "urn:ecmo-steward:circuit-check"
PATIENT_CODE_SYSTEM = "urn:ecmo-steward:patient-code"
IDENTIFIER_SYSTEMS = {"mrn": "urn:ecmo-steward:mrn", "national": "urn:ecmo-steward:national-id"}
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_FHIR_CATEGORY = {"lab": "laboratory", "patient": "vital-signs", "circuit": "procedure", "mcs": "procedure"}
ECMO_PROCEDURE = {
    "system": codes.SNOMED,
    "code": "233573008",
    "display": "Extracorporeal membrane oxygenation",
}

# Which device measures each parameter (the latest component of that kind); anything else: the console.
_MEASURED_BY = {
    "blood_flow_l_min": "pump_head",
    "pump_speed_rpm": "pump_head",
    "access_pressure_mmhg": "pump_head",
    "pre_oxygenator_pressure_mmhg": "oxygenator",
    "post_oxygenator_pressure_mmhg": "oxygenator",
    "membrane_delta_p_mmhg": "oxygenator",
    "sweep_gas_l_min": "oxygenator",
    "fdo2": "oxygenator",
    "exhaust_pco2_mmhg": "oxygenator",
    "pre_oxygenator_so2": "oxygenator",
    "post_oxygenator_so2": "oxygenator",
    "post_oxygenator_po2_mmhg": "oxygenator",
    "post_oxygenator_pco2_mmhg": "oxygenator",
}
_MCS_PARAMETER_KIND = {
    "impella_p_level": "impella",
    "impella_flow_l_min": "impella",
    "iabp_ratio": "iabp",
    "vad_flow_l_min": "vad",
    "vad_speed_rpm": "vad",
}
_INDICATION_LABELS = {"respiratory": "Respiratory failure", "cardiac": "Cardiac failure", "ecpr": "ECPR"}
_OUTCOME_LABELS = {
    "ongoing": "On ECMO",
    "weaned": "Weaned and decannulated",
    "bridge_transplant": "Bridged to transplant",
    "bridge_vad": "Bridged to durable VAD",
    "died_on_ecmo": "Died on ECMO",
    "withdrawn": "Support withdrawn",
    "transferred": "Transferred on ECMO",
}
_COMPONENT_LABELS = {
    "pump_head": "Pump head",
    "oxygenator": "Oxygenator",
    "tubing_pack": "Tubing pack",
    "console": "Console",
    "heater": "Heater-cooler",
    "other": "Other circuit component",
}


def when(value: dt.datetime) -> str:
    """An aware datetime as a FHIR dateTime/instant (ISO 8601 with offset, whole seconds)."""
    if value.tzinfo is None:
        raise ValueError("FHIR times must be aware datetimes")
    return value.replace(microsecond=0).isoformat()


class _Bundle:
    def __init__(self, run: RunRecord) -> None:
        self.run = run
        self.entries: list[Resource] = []

    def uid(self, kind: str, key: object) -> str:
        return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'run/{self.run.id}/{kind}/{key}')}"

    def add(self, kind: str, key: object, resource: Resource) -> str:
        full_url = self.uid(kind, key)
        resource = {"resourceType": kind, "id": full_url.removeprefix("urn:uuid:"), **resource}
        self.entries.append({"fullUrl": full_url, "resource": resource})
        return full_url


def _period(start: dt.datetime, end: dt.datetime | None) -> dict[str, str]:
    period = {"start": when(start)}
    if end is not None:
        period["end"] = when(end)
    return period


def _quantity(parameter: str, value: float) -> dict[str, Any]:
    unit = codes.coding_for(parameter).ucum
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}


def parameter_concept(parameter: str) -> dict[str, Any]:
    """The CodeableConcept of a parameter: the local code, plus LOINC where one exists."""
    coding = codes.coding_for(parameter)
    codings: list[dict[str, str]] = [
        {"system": codes.LOCAL_SYSTEM, "code": parameter, "display": coding.label}
    ]
    if coding.loinc is not None:
        codings.append({"system": codes.LOINC, "code": coding.loinc})
    return {"coding": codings, "text": coding.label}


def _category(parameter: str) -> list[dict[str, Any]]:
    code = _FHIR_CATEGORY[codes.coding_for(parameter).kind]
    return [{"coding": [{"system": _CATEGORY, "code": code}]}]


def run_bundle(run: RunRecord, *, now: dt.datetime, identified: bool = True) -> Resource:
    """Map one run to a FHIR R4 ``Bundle`` (type ``collection``) of plain dicts.

    ``identified=False`` leaves out names, record numbers, the birth year and free text, keeping the program's
    pseudonym; it is still not a Safe Harbor dataset (device serials and exact times stay): use
    :mod:`ecmo_core.exports.research` for research. ``now`` stamps the bundle.
    """
    bundle = _Bundle(run)
    patient = bundle.add("Patient", "patient", _patient(run, identified=identified))
    subject = {"reference": patient}
    encounter_status = "in-progress" if run.ended_at is None else "finished"
    encounter = bundle.add(
        "Encounter",
        "encounter",
        {
            "status": encounter_status,
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "IMP",
                "display": "inpatient encounter",
            },
            "subject": subject,
            "period": _period(run.started_at, run.ended_at),
        },
    )
    context = {"subject": subject, "encounter": {"reference": encounter}}
    devices = _devices(bundle, run, subject)
    procedure_status = "in-progress" if run.ended_at is None else "completed"
    run_procedure: Resource = {
        "status": procedure_status,
        "code": {"coding": [ECMO_PROCEDURE], "text": "ECMO run"},
        **context,
        "performedPeriod": _period(run.started_at, run.ended_at),
        "reasonCode": [{"text": _INDICATION_LABELS.get(run.indication, run.indication)}],
        "outcome": {"text": _OUTCOME_LABELS.get(run.outcome, run.outcome)},
    }
    focal = [{"manipulated": {"reference": ref}} for ref in devices.values()]
    if focal:
        run_procedure["focalDevice"] = focal
    procedure = bundle.add("Procedure", "run", run_procedure)
    for index, (segment, ended) in enumerate(run.mode_segments()):
        label = codes.MODE_LABELS.get(segment.mode, segment.mode)
        configuration: Resource = {
            "status": "in-progress" if ended is None else "completed",
            "partOf": [{"reference": procedure}],
            "code": {
                "coding": [{"system": CONFIGURATION_SYSTEM, "code": segment.mode, "display": label}],
                "text": f"ECMO configuration {label}",
            },
            **context,
            "performedPeriod": _period(segment.started_at, ended),
        }
        if identified and segment.reason:
            configuration["reasonCode"] = [{"text": segment.reason}]
        bundle.add("Procedure", f"configuration/{index}", configuration)
    metrics = _metrics(bundle, run, devices)
    observation_context = {**context, "partOf": [{"reference": procedure}]}
    for summary in run.summaries:
        bundle.add(
            "Observation",
            f"summary/{summary.parameter}/{when(summary.period_start)}",
            _summary(summary, observation_context, metrics.get(summary.parameter)),
        )
    for index, measurement in enumerate(run.measurements):
        bundle.add(
            "Observation",
            f"measurement/{index}",
            _measurement(measurement, observation_context, metrics.get(measurement.parameter)),
        )
    for check in run.checks:
        bundle.add("Observation", f"check/{check.id}", _check(check, observation_context, identified))
    for complication in run.complications:
        condition = bundle.add(
            "Condition", f"complication/{complication.id}", _condition(complication, context, identified)
        )
        device = devices.get(f"component/{complication.component_id}")
        bundle.add(
            "AdverseEvent",
            f"complication/{complication.id}",
            _adverse_event(complication, context, condition, device),
        )
    return {
        "resourceType": "Bundle",
        "id": bundle.uid("Bundle", "bundle").removeprefix("urn:uuid:"),
        "type": "collection",
        "timestamp": when(now),
        "entry": bundle.entries,
    }


def _patient(run: RunRecord, *, identified: bool) -> Resource:
    patient = run.patient
    identifiers: list[dict[str, Any]] = [{"system": PATIENT_CODE_SYSTEM, "value": patient.key}]
    resource: Resource = {"identifier": identifiers, "gender": patient.sex}
    if not identified:
        return resource
    names: list[dict[str, str]] = []
    for kind, value in patient.identifiers:
        if kind == "name":
            names.append({"text": value})
        elif kind == "mrn":
            identifiers.append(
                {
                    "type": {
                        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]
                    },
                    "system": IDENTIFIER_SYSTEMS["mrn"],
                    "value": value,
                }
            )
        else:
            system = IDENTIFIER_SYSTEMS.get(kind, f"urn:ecmo-steward:{kind}")
            identifiers.append({"system": system, "value": value})
    if names:
        resource["name"] = names
    if patient.birth_year is not None:
        resource["birthDate"] = f"{patient.birth_year:04d}"
    return resource


def _devices(bundle: _Bundle, run: RunRecord, subject: dict[str, str]) -> dict[str, str]:
    """Add a Device per component and MCS device; return their full URLs by key."""
    devices: dict[str, str] = {}
    consoles: dict[int, str] = {}
    for circuit in run.circuits:
        ordered = sorted(circuit.components, key=lambda c: c.kind != "console")
        for component in ordered:
            resource = _component_device(component, subject)
            if component.kind in ("pump_head", "oxygenator") and circuit.id in consoles:
                resource["parent"] = {"reference": consoles[circuit.id]}
            ref = bundle.add("Device", f"component/{component.id}", resource)
            devices[f"component/{component.id}"] = ref
            if component.kind == "console" and circuit.id not in consoles:
                consoles[circuit.id] = ref
    known_serials = {c.serial for c in run.components if c.kind == "console"}
    if run.console_serial and run.console_serial not in known_serials:
        devices["console"] = bundle.add(
            "Device",
            "console",
            {
                "status": "active" if run.ended_at is None else "inactive",
                "serialNumber": run.console_serial,
                "type": _component_type("console"),
                "patient": subject,
            },
        )
    for mcs in run.mcs_devices:
        devices[f"mcs/{mcs.id}"] = bundle.add("Device", f"mcs/{mcs.id}", _mcs_device(mcs, subject))
    return devices


def _component_type(kind: str) -> dict[str, Any]:
    label = _COMPONENT_LABELS.get(kind, kind)
    return {"coding": [{"system": COMPONENT_SYSTEM, "code": kind, "display": label}], "text": label}


def _component_device(component: ComponentRecord, subject: dict[str, str]) -> Resource:
    resource: Resource = {
        "status": "active" if component.removed_at is None else "inactive",
        "manufacturer": component.maker,
        "deviceName": [{"name": component.model, "type": "model-name"}],
        "type": _component_type(component.kind),
        "patient": subject,
    }
    if component.lot:
        resource["lotNumber"] = component.lot
    if component.serial:
        resource["serialNumber"] = component.serial
    return resource


def _mcs_device(mcs: McsRecord, subject: dict[str, str]) -> Resource:
    label = {"iabp": "Intra-aortic balloon pump", "impella": "Impella", "vad": "Ventricular assist device"}
    text = label.get(mcs.kind, "Mechanical circulatory support device")
    return {
        "status": "active" if mcs.removed_at is None else "inactive",
        "deviceName": [{"name": mcs.model, "type": "model-name"}],
        "type": {"coding": [{"system": MCS_SYSTEM, "code": mcs.kind, "display": text}], "text": text},
        "patient": subject,
    }


def _latest(components: list[ComponentRecord], kind: str) -> ComponentRecord | None:
    found = [c for c in components if c.kind == kind]
    return max(found, key=lambda c: c.installed_at) if found else None


def _metric_source(run: RunRecord, parameter: str, devices: dict[str, str]) -> str | None:
    mcs_kind = _MCS_PARAMETER_KIND.get(parameter)
    if mcs_kind is not None:
        for mcs in run.mcs_devices:
            if mcs.kind == mcs_kind:
                return devices[f"mcs/{mcs.id}"]
        return None
    components = list(run.components)
    for kind in (_MEASURED_BY.get(parameter, "console"), "console"):
        component = _latest(components, kind)
        if component is not None:
            return devices[f"component/{component.id}"]
    return devices.get("console")


def _metrics(bundle: _Bundle, run: RunRecord, devices: dict[str, str]) -> dict[str, str]:
    """One DeviceMetric per device-measured parameter (circuit and MCS kinds), sourced from its device."""
    parameters = sorted(
        {s.parameter for s in run.summaries} | {m.parameter for m in run.measurements if m.source == "device"}
    )
    metrics: dict[str, str] = {}
    for parameter in parameters:
        coding = codes.coding_for(parameter)
        if coding.kind not in ("circuit", "mcs"):
            continue
        metric: Resource = {
            "type": parameter_concept(parameter),
            "unit": {"coding": [{"system": codes.UCUM, "code": coding.ucum}]},
            "category": "measurement",
        }
        source = _metric_source(run, parameter, devices)
        if source is not None:
            metric["source"] = {"reference": source}
        metrics[parameter] = bundle.add("DeviceMetric", f"metric/{parameter}", metric)
    return metrics


def _summary(summary: TelemetrySummary, context: dict[str, Any], metric: str | None) -> Resource:
    concept = parameter_concept(summary.parameter)
    concept["text"] = f"{concept['text']}, mean over the period"
    resource: Resource = {
        "status": "final",
        "category": _category(summary.parameter),
        "code": concept,
        **context,
        "effectivePeriod": _period(summary.period_start, summary.period_end),
        "valueQuantity": _quantity(summary.parameter, summary.mean),
        "method": {"coding": [{"system": SUMMARY_SYSTEM, "code": "mean", "display": "Mean"}]},
        "component": [
            {
                "code": {"coding": [{"system": SUMMARY_SYSTEM, "code": "minimum", "display": "Minimum"}]},
                "valueQuantity": _quantity(summary.parameter, summary.minimum),
            },
            {
                "code": {"coding": [{"system": SUMMARY_SYSTEM, "code": "maximum", "display": "Maximum"}]},
                "valueQuantity": _quantity(summary.parameter, summary.maximum),
            },
            {
                "code": {"coding": [{"system": SUMMARY_SYSTEM, "code": "count", "display": "Values"}]},
                "valueInteger": summary.count,
            },
        ],
    }
    if metric is not None:
        resource["device"] = {"reference": metric}
    return resource


def _measurement(measurement: Measurement, context: dict[str, Any], metric: str | None) -> Resource:
    resource: Resource = {
        "status": "final",
        "category": _category(measurement.parameter),
        "code": parameter_concept(measurement.parameter),
        **context,
        "effectiveDateTime": when(measurement.observed_at),
        "valueQuantity": _quantity(measurement.parameter, measurement.value),
    }
    if metric is not None and measurement.source == "device":
        resource["device"] = {"reference": metric}
    return resource


def _check(check: CheckRecord, context: dict[str, Any], identified: bool) -> Resource:
    components: list[dict[str, Any]] = [
        {"code": parameter_concept(parameter), "valueQuantity": _quantity(parameter, value)}
        for parameter, value in check.values
    ]
    components += [
        {
            "code": {"coding": [{"system": CHECK_SYSTEM, "code": item}], "text": item.replace("_", " ")},
            "valueBoolean": ok,
        }
        for item, ok in check.items
    ]
    resource: Resource = {
        "status": "final",
        "category": [{"coding": [{"system": _CATEGORY, "code": "procedure"}]}],
        "code": {
            "coding": [{"system": CHECK_SYSTEM, "code": "circuit-check", "display": "Hourly circuit check"}],
            "text": "Hourly circuit check",
        },
        **context,
        "effectiveDateTime": when(check.observed_at),
    }
    if components:
        resource["component"] = components
    if identified and check.recorded_by:
        resource["performer"] = [{"display": check.recorded_by}]
    if identified and check.notes:
        resource["note"] = [{"text": check.notes}]
    return resource


def _complication_concept(complication: Complication) -> dict[str, Any]:
    display = complication.label or complication.code
    return {
        "coding": [{"system": COMPLICATION_SYSTEM, "code": complication.code, "display": display}],
        "text": display,
    }


def _condition(complication: Complication, context: dict[str, Any], identified: bool) -> Resource:
    resource: Resource = {
        "verificationStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                        "code": "encounter-diagnosis",
                    }
                ]
            }
        ],
        "code": _complication_concept(complication),
        **context,
        "onsetDateTime": when(complication.onset_at),
    }
    severity = codes.SEVERITY_SNOMED.get(complication.severity)
    if severity is not None:
        resource["severity"] = {
            "coding": [{"system": codes.SNOMED, "code": severity[0], "display": severity[1]}]
        }
    if identified and complication.description:
        resource["note"] = [{"text": complication.description}]
    return resource


def _adverse_event(
    complication: Complication, context: dict[str, Any], condition: str, device: str | None
) -> Resource:
    serious = complication.severity in codes.SERIOUS
    resource: Resource = {
        "actuality": "actual",
        "event": _complication_concept(complication),
        **context,
        "date": when(complication.onset_at),
        "seriousness": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness",
                    "code": "serious" if serious else "non-serious",
                }
            ]
        },
        "resultingCondition": [{"reference": condition}],
    }
    if complication.category == "mechanical":
        resource["category"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/adverse-event-category",
                        "code": "product-problem",
                    }
                ]
            }
        ]
    if device is not None:
        resource["suspectEntity"] = [{"instance": {"reference": device}}]
    return resource


OUTBOUND_SYSTEM = "urn:ecmo-steward:outbound"


def check_observation(
    check: CheckRecord, *, patient: PatientRecord, control_id: str, amended: bool = False
) -> Resource:
    """One hourly check as a standalone Observation for an EHR's FHIR server.

    The subject is a logical reference by identifier (the MRN, else the program pseudonym), since the EHR's own
    Patient id is not known here; ``identifier`` carries the outbox control id so that the server can create
    it once (conditional create). An amended check has status ``amended``.
    """
    mrn = dict(patient.identifiers).get("mrn")
    subject = (
        {"system": IDENTIFIER_SYSTEMS["mrn"], "value": mrn}
        if mrn
        else {"system": PATIENT_CODE_SYSTEM, "value": patient.key}
    )
    resource = _check(check, {"subject": {"identifier": subject}}, True)
    if amended:
        resource["status"] = "amended"
    return {
        "resourceType": "Observation",
        "identifier": [{"system": OUTBOUND_SYSTEM, "value": control_id}],
        **resource,
    }
