"""The registry demo step on the full demo (base, surveillance, decisions, rounds, registry).

- every demo run's FHIR bundle validates with fhir.resources, for the intensivist (identified);
- the ELSO completeness check flags the runs the scenarios give no pre-ECMO blood gas for (2, 3, 5) and not
  Runs 1 and 4;
- Run 5 is in the submission log (sent by the quality lead); the researcher has one extract;
- the study enrols all five runs and credits the perfusionists (CRediT), with an abstract and its authors;
- the exports, research and studies pages render for the roles that have them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from ecmo_web.demo import seed as demo_seed
from ecmo_web.registry.models import ExportJob, RegistrySubmission, Study


@pytest.fixture
def demo(db: Any, settings: Any, tmp_path: Any) -> Any:
    settings.VAR_DIR = tmp_path
    return demo_seed.seed_demo(now=timezone.now(), password="steward-demo-test")


def _client(ctx: Any, username: str) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(ctx.users[username])
    return client


def test_the_demo_shows_what_the_registry_app_builds(demo: Any) -> None:
    # One test, one seed: the full demo takes about a minute to build.
    for code, run in demo.runs.items():
        # each program's own intensivist (the SI-units demo program has its own staff)
        client = _client(demo, "intensivist" if run.program.name == "Demo" else "si_intensivist")
        response = client.get(f"/api/v1/runs/{run.pk}/fhir")
        assert response.status_code == 200, code
        bundle = Bundle.model_validate(response.json())
        kinds = {e.resource.get_resource_type() for e in bundle.entry}
        assert {"Patient", "Encounter", "Procedure", "Observation"} <= kinds, code
        if code.startswith("DEMO-000"):  # the five scenario runs carry their circuit and identifiers
            assert {"Device", "DeviceMetric"} <= kinds, code
            assert f"DEMO-MRN-10000{code[-1]}" in response.content.decode()

    found = _client(demo, "quality").get("/api/v1/exports/elso/completeness").json()
    incomplete = {c["patient_id"] for c in found if not c["complete"]}
    assert {"DEMO-0002", "DEMO-0003", "DEMO-0005"} <= incomplete
    assert not {"DEMO-0001", "DEMO-0004"} & incomplete

    [submission] = RegistrySubmission.objects.all()
    assert submission.run == demo.runs["DEMO-0005"] and submission.submitted_by_name == "quality"
    assert ExportJob.objects.get(kind="research").requested_by == demo.users["researcher"]
    study = Study.objects.get()
    assert study.enrolments.count() == 5
    perfusion = study.contributors.filter(discipline="perfusion")
    assert {c.credit_role for c in perfusion} == {"investigation", "data_curation"}
    assert study.outputs.get().authors[0] == demo.users["perfusionist"].get_full_name()

    for username, path, text in [
        ("quality", "exports/", "Submission log"),
        ("researcher", "research/", "Safe Harbor"),
        ("researcher", "studies/", "Oxygenator longevity"),
        ("director", "studies/", "Oxygenator longevity"),
    ]:
        response = _client(demo, username).get(f"/programs/{demo.program.pk}/{path}")
        assert response.status_code == 200, path
        assert text in response.content.decode(), path
