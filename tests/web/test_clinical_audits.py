"""Clinical audits: define one (criterion, standard, sample), run it over a period, see compliance over time.

- quality and the director define and run audits; a perfusionist cannot (403); an auditor and a researcher read
  the audit page, but only members who see runs see the cases in the sample
- an unknown criterion, a standard outside 0–1 and a period that ends before it starts are refused naming the field
- each run is kept: the page charts compliance per round against the standard
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from ecmo_core.surveillance import Sample
from ecmo_web.quality import actions
from ecmo_web.quality.models import AuditRound, ClinicalAudit
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions as surveillance
from ecmo_web.surveillance.models import Alert
from tests.web.conftest import T0
from tests.web.surveil_support import post_form

H = dt.timedelta(hours=1)
MIN = dt.timedelta(minutes=1)
NOW = T0 + 48 * H


def _alert(run: EcmoRun, at: dt.datetime) -> Alert:
    surveillance.ingest_samples(
        actor_or_system=surveillance.DEMO, run=run, samples=[Sample(at, "bubble_detected", 1.0)], now=at
    )
    surveillance.ingest_samples(
        actor_or_system=surveillance.DEMO,
        run=run,
        samples=[Sample(at + MIN, "bubble_detected", 0.0)],
        now=at + MIN,
    )
    return Alert.objects.filter(run=run, rule_id="air.detected").order_by("-opened_at").first()  # type: ignore[return-value]


def _audit(personas: dict[str, Any], program: Any) -> ClinicalAudit:
    return actions.define_audit(
        actor=personas["quality"],
        program=program,
        title="Alerts acknowledged within 15 minutes",
        criterion="alert_acknowledged_15_min",
        standard_fraction=0.9,
        now=NOW,
    )


def test_it_runs_an_audit_and_keeps_each_round(run: EcmoRun, personas: dict[str, Any], program: Any) -> None:
    p = personas["perfusionist"]
    first = _alert(run, T0 + H)
    surveillance.acknowledge_alert(actor=p, alert=first, now=T0 + H + 5 * MIN)  # within 15 min
    surveillance.resolve_alert(
        actor=p, alert=Alert.objects.get(pk=first.pk), comment="de-aired", now=T0 + H + 6 * MIN
    )
    second = _alert(run, T0 + 30 * H)
    surveillance.acknowledge_alert(actor=p, alert=second, now=T0 + 30 * H + 40 * MIN)  # late
    audit = _audit(personas, program)
    day1 = actions.run_audit(
        actor=personas["quality"], audit=audit, period_start=T0, period_end=T0 + 24 * H, now=NOW
    )
    day2 = actions.run_audit(
        actor=personas["director"], audit=audit, period_start=T0 + 24 * H, period_end=T0 + 48 * H, now=NOW
    )
    assert (day1.sample_count, day1.compliant_count, day1.compliance_fraction) == (1, 1, 1.0)
    # Day 2 holds the late air alert and whatever else opened that day (e.g. a check-overdue alert): none complied.
    opened_day2 = Alert.objects.filter(run=run, opened_at__gte=T0 + 24 * H, opened_at__lt=T0 + 48 * H).count()
    assert (day2.sample_count, day2.compliant_count) == (opened_day2, 0)
    assert "40 min" in [item["note"] for item in day2.details]
    assert list(audit.rounds.values_list("pk", flat=True)) == [day1.pk, day2.pk]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"criterion": "tea_temperature"}, "criterion"),
        ({"standard_fraction": 90.0}, "standard_fraction"),
        ({"title": " "}, "title"),
    ],
)
def test_it_refuses_a_bad_definition(
    personas: dict[str, Any], program: Any, change: dict[str, Any], field: str
) -> None:
    kwargs: dict[str, Any] = {
        "actor": personas["quality"],
        "program": program,
        "title": "Audit",
        "criterion": "hourly_checks_90",
        "standard_fraction": 0.9,
        **change,
    }
    with pytest.raises(ValidationError) as err:
        actions.define_audit(**kwargs)
    assert field in err.value.message_dict
    assert not ClinicalAudit.objects.exists()


def test_it_refuses_a_period_that_ends_before_it_starts(personas: dict[str, Any], program: Any) -> None:
    audit = _audit(personas, program)
    with pytest.raises(ValidationError) as err:
        actions.run_audit(actor=personas["quality"], audit=audit, period_start=T0, period_end=T0 - H, now=NOW)
    assert "period_end" in err.value.message_dict
    assert not AuditRound.objects.exists()


def test_only_quality_and_the_director_manage_audits(personas: dict[str, Any], program: Any) -> None:
    with pytest.raises(PermissionDenied):
        actions.define_audit(
            actor=personas["perfusionist"],
            program=program,
            title="x",
            criterion="hourly_checks_90",
            standard_fraction=0.9,
        )
    audit = _audit(personas, program)
    with pytest.raises(PermissionDenied):
        actions.run_audit(actor=personas["auditor"], audit=audit, period_start=T0, period_end=NOW, now=NOW)


def test_the_pages_define_run_and_chart_an_audit(
    run: EcmoRun, personas: dict[str, Any], program: Any, client_for: Any
) -> None:
    quality = client_for(personas["quality"])
    with time_machine.travel(NOW, tick=False):
        defined = post_form(
            quality,
            f"/programs/{program.pk}/audits/",
            {
                "title": "Checks every hour",
                "criterion": "hourly_checks_90",
                "standard_pct": "90",
                "sample_size": "",
            },
        )
        assert defined.status_code == 302
        audit = ClinicalAudit.objects.get()
        assert audit.standard_fraction == pytest.approx(0.9)
        ran = post_form(
            quality, f"/audits/{audit.pk}/", {"period_start": "2026-11-20", "period_end": "2026-11-22"}
        )
        assert ran.status_code == 302
        bad = post_form(
            quality, f"/audits/{audit.pk}/", {"period_start": "2026-11-22", "period_end": "2026-11-20"}
        )
        assert bad.status_code == 400
        page = quality.get(f"/audits/{audit.pk}/").content.decode()
    assert 'id="audit-chart"' in page and "TEST-0001" in page and "0 of 4" not in page
    assert "Latest sample" in page
    researcher_page = client_for(personas["researcher"]).get(f"/audits/{audit.pk}/").content.decode()
    assert "Compliance over time" in researcher_page and "TEST-0001" not in researcher_page
    listing = client_for(personas["auditor"]).get(f"/programs/{program.pk}/audits/").content.decode()
    assert "Checks every hour" in listing and "Define an audit" not in listing
    assert (
        post_form(
            client_for(personas["perfusionist"]), f"/programs/{program.pk}/audits/", {"title": "x"}
        ).status_code
        == 403
    )
