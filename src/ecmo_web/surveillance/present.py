"""How an alert is shown, said once: its status words, its tone (the CSS modifier) and its serialised form.

Pages (templates through the ``status_label`` filter and ``Alert.tone``), the run timeline, the rounds perfusion
summary and the API all read these, so that an alert looks and reads the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ecmo_core import units
from ecmo_core.surveillance.parameters import PARAMETERS
from ecmo_web.accounts.models import Program
from ecmo_web.surveillance.models import AlertStatus
from ecmo_web.timezones import to_local

# What the screens say for a rule's or an alert's status: the labels of ``AlertStatus``.
STATUS_WORDS: dict[str, str] = {value: str(label) for value, label in AlertStatus.choices}


def status_label(status: str) -> str:
    return STATUS_WORDS.get(status, status)


def tone(severity: str, status: str) -> str:
    """An alert's tone now: its severity while firing, else its status."""
    return severity if status == AlertStatus.FIRING else status


def episode_tone(peak_severity: str) -> str:
    """A whole alert episode (a timeline bar): its worst severity."""
    return peak_severity if peak_severity in ("warning", "critical") else "neutral"


def person(user: Any) -> str | None:
    return None if user is None else (user.get_full_name() or user.get_username())


def alert_dict(alert: Any) -> dict[str, Any]:
    """An alert as data: the API's alert (which adds the run, evidence and transitions) and the rounds summary."""
    return {
        "id": alert.pk,
        "rule_id": alert.rule_id,
        "rule_version": alert.rule_version,
        "title": alert.rule_title,
        "severity": alert.severity,
        "peak_severity": alert.peak_severity,
        "status": alert.status,
        "opened_at": alert.opened_at,
        "message": alert.message,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": person(alert.acknowledged_by),
        "acknowledged_comment": alert.acknowledged_comment,
        "escalated_at": alert.escalated_at,
        "escalated_to_role": alert.escalated_to_role or None,
        "resolved_at": alert.resolved_at,
        "resolved_by": person(alert.resolved_by),
        "resolved_comment": alert.resolved_comment,
        "resolved_component_id": alert.resolved_component_id,
    }


# Alerts whose message quotes pressures of one kind: shown in that parameter's unit (the rules write mmHg).
_ALERT_PRESSURES = {
    "oxygenator.post_po2_low": "post_oxygenator_po2_mmhg",
    "access.pressure_low": "access_pressure_mmhg",
    "oxygenator.delta_p_rise": "membrane_delta_p_mmhg",
}
_MMHG = re.compile(r"(-?\d+(?:\.\d+)?) mmHg")
_UTC_STAMP = re.compile(r"\b(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC\b")  # ecmo_core.surveillance.timeline.stamp
_CODE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, PARAMETERS), key=len, reverse=True)) + r")\b")


def _local_stamp(match: re.Match[str], program: Any) -> str:
    """A rule's "2026-12-02 21:59 UTC" in the program's zone, with the zone's abbreviation: "2026-12-02 16:59 EST"."""
    at = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
    local = to_local(at, program)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def local_message(alert: Any, program: Any) -> str:
    """An alert's (or transition's) message in clinical words, the program's units and its local time, for pages
    and e-mails (the rules write parameter codes, mmHg and UTC)."""
    text = _CODE.sub(lambda m: units.label(m.group(1)), str(getattr(alert, "message", "") or ""))
    if isinstance(program, Program):
        text = _UTC_STAMP.sub(lambda m: _local_stamp(m, program), text)
    parameter = _ALERT_PRESSURES.get(getattr(alert, "rule_id", ""))
    prefs = program.unit_preferences if hasattr(program, "unit_preferences") else units.US
    if parameter is None or units.unit_of(parameter, prefs) == "mmHg":
        return text
    return _MMHG.sub(lambda m: units.format_local(parameter, float(m.group(1)), prefs), text)
