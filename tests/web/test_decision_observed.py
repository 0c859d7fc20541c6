"""Decision criteria tables show the observed values, when and where from (issue 11 §9).

- [x] an EOLIA arm shows the values entered with the decision ("P/F 68 mmHg for 7 h"), not "—"
- [x] beside them, the run's record near the decision: the newest blood gas in the 24 h before it, with its
      source and local time; a value only found after the decision says how long after
- [x] in the program's units (P/F and PaCO2 typed and shown in kPa for a kPa program, EOLIA arms in kPa)
- [x] indications read as clinical words, not their codes
- [x] the record costs one query for the whole page, however many criteria
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ecmo_web.decisions.models import Decision
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions as surveillance
from tests.web.conftest import T0
from tests.web.pathway_support import BrowserClient

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


def _candidacy(personas: dict[str, Any], run: EcmoRun, pf: str = "68", paco2: str = "72") -> Decision:
    response = BrowserClient(personas["intensivist"]).post(
        f"/runs/{run.pk}/decisions/new/candidacy/",
        {
            "title": "VV candidacy",
            "made_at": "2026-11-20T10:30",  # Europe/London = UTC in November
            "participant_user_0": str(personas["intensivist"].pk),
            "k-modality": "vv",
            "k-indications": ["eolia_pf_80_6h"],
            "k-pf_ratio_mmhg": pf,
            "k-pf_hours": "7",
            "k-arterial_ph": "7.22",
            "k-paco2_mmhg": paco2,
            "k-hypercapnia_hours": "4",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Decision.objects.get()


def _labs(run: EcmoRun, values: dict[str, float], at: dt.datetime) -> None:
    surveillance.ingest_samples(
        actor_or_system=surveillance.DEMO,
        run=run,
        samples=[{"parameter": p, "value": v, "observed_at": at.isoformat()} for p, v in values.items()],
        source="lab",
        now=at + 2 * MIN,
    )


def test_it_shows_the_entered_values_and_the_record_with_when_and_where_from(
    personas: dict[str, Any], run: EcmoRun
) -> None:
    _labs(run, {"arterial_ph": 7.30, "arterial_pco2_mmhg": 60}, T0 - 20 * dt.timedelta(hours=1))  # too old
    _labs(run, {"arterial_ph": 7.21, "arterial_pco2_mmhg": 74}, T0 + 10 * MIN)
    _labs(run, {"arterial_po2_mmhg": 61}, T0 + 60 * MIN)  # 30 min after the decision
    decision = _candidacy(personas, run)
    html = BrowserClient(personas["perfusionist"]).get(f"/decisions/{decision.pk}/").content.decode()
    criteria = html[html.index('id="criteria"') : html.index("</section>", html.index('id="criteria"'))]
    assert "P/F 68 mmHg for 7 h" in criteria and "pH 7.22, PaCO2 72 mmHg for 4 h" in criteria
    assert criteria.count("entered with the decision") == 3
    assert "Record: pH 7.21 · PaCO2 74 mmHg — lab, 2026-11-20 10:10" in criteria
    assert "Record: PaO2 61 mmHg — lab, 2026-11-20 11:00 (0 h 30 min after the decision)" in criteria
    assert "7.30" not in criteria  # older than 24 h before the decision
    assert "P/F &lt; 80 mmHg for &gt; 6 h" in html and "eolia_pf_80_6h" not in html


def test_a_kpa_program_reads_its_gases_in_kpa(personas: dict[str, Any], run: EcmoRun) -> None:
    program = run.program
    program.pressure_unit = "kPa"
    program.save(update_fields=["pressure_unit"])
    _labs(run, {"arterial_ph": 7.21, "arterial_pco2_mmhg": 75}, T0 + 10 * MIN)
    decision = _candidacy(personas, run, pf="9.07", paco2="9.6")  # typed in kPa: 68.03 and 72.01 mmHg
    html = BrowserClient(personas["perfusionist"]).get(f"/decisions/{decision.pk}/").content.decode()
    assert "P/F 9.1 kPa for 7 h" in html and "pH 7.22, PaCO2 9.6 kPa for 4 h" in html
    assert "P/F &lt; 10.67 kPa for &gt; 6 h" in html and "80 mmHg" not in html
    assert "Record: pH 7.21 · PaCO2 10.0 kPa — lab" in html  # 75 mmHg


def test_the_record_is_one_query_for_the_page(
    personas: dict[str, Any], run: EcmoRun, django_assert_num_queries: Any
) -> None:
    from ecmo_web.decisions.present import evaluations

    decision = _candidacy(personas, run)
    decision = Decision.objects.select_related("run__program").get(pk=decision.pk)
    with django_assert_num_queries(1):
        views = evaluations(decision.content, decision=decision)
    assert [len(v["criteria"]) for v in views] == [3]
