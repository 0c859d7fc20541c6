"""How an alert is shown is said once (ecmo_web.surveillance.present).

- every alert status has words for the screens (no code names)
- the tone is the severity while firing, else the status; an episode's tone is its worst severity
- the API's alert is the shared alert dict plus the run, evidence and transition count
"""

from __future__ import annotations

from ecmo_web.surveillance import api, present
from ecmo_web.surveillance.models import Alert, AlertStatus


def test_it_has_words_for_every_alert_status() -> None:
    for status in AlertStatus.values:
        words = present.status_label(status)
        assert words != status and "_" not in words


def test_it_tones_an_alert_by_severity_while_firing_else_by_status() -> None:
    assert present.tone("critical", "firing") == "critical"
    assert present.tone("critical", "clear") == "clear"
    assert Alert(severity="warning", status="indeterminate").tone == "indeterminate"
    assert present.episode_tone("critical") == "critical"
    assert present.episode_tone("info") == "neutral"


def test_the_api_alert_extends_the_shared_alert() -> None:
    alert = Alert(pk=7, run_id=3, rule_id="pump.flow_per_rpm_fall", rule_version=1, severity="warning",
                  peak_severity="warning", status="firing", message="m", evidence={"x": 1})  # fmt: skip
    shared = present.alert_dict(alert)
    out = api._alert_out(alert)
    assert {k: out[k] for k in shared} == shared
    assert set(out) - set(shared) == {"run_id", "firing_since", "evidence", "transitions"}
    assert set(out) == set(api.AlertOut.model_fields)
