"""Exports run as jobs: a large export answers 202 with a job URL, runs in a background thread with progress,
and serves its file from the job's result URL; ``ecmo export`` runs the same job from the command line.

- over ECMO_EXPORT_SYNC_MAX_RUNS runs (or ``background=true``): 202, ``Location`` → the job; the job reaches
  ``done`` with progress n/n and its result is the file;
- a job is taken once: running it again does nothing;
- ``ecmo export elso --out FILE`` writes the file, reports progress on stderr and logs the job as system:cli;
  several programs and none named is exit 2 naming --program;
- a job of another program is a 404.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from ecmo_web.audit.models import AuditEvent
from ecmo_web.registry import jobs
from ecmo_web.registry.models import ExportJob
from tests.web.registry_support import build_run


@pytest.fixture(autouse=True)
def _exports_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path


def _wait(job_id: int, seconds: float = 30.0) -> ExportJob:
    # Join the job's thread first: polling the job row while the thread writes it trips SQLite's table lock on the
    # in-memory test database (shared cache), which a file database with WAL would simply wait out.
    for thread in threading.enumerate():
        if thread.name == f"export-{job_id}":
            thread.join(seconds)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = ExportJob.objects.get(pk=job_id)
        if job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
            return job
        time.sleep(0.1)
    raise AssertionError("the export job did not finish")


@pytest.mark.django_db(transaction=True)
def test_it_answers_202_and_runs_a_large_export_in_the_background(
    program: Any, perfusionist: Any, personas: dict[str, Any], client_for: Any, settings: Any
) -> None:
    settings.ECMO_EXPORT_SYNC_MAX_RUNS = 1
    build_run(program, perfusionist)
    build_run(program, perfusionist, code="TEST-0102", end=False)
    client = client_for(personas["quality"])
    response = client.get("/api/v1/exports/elso")
    assert response.status_code == 202
    started = response.json()
    assert response["Location"] == started["url"] == f"/api/v1/jobs/{started['id']}"
    assert started["status"] == "queued" and started["result_url"] is None
    job = _wait(started["id"])
    assert job.status == "done", job.error
    status = client.get(started["url"]).json()
    assert (status["progress_done"], status["progress_total"], status["progress_pct"]) == (2, 2, 100)
    body = b"".join(client.get(status["result_url"]).streaming_content)
    assert [r["record"]["patient_id"] for r in json.loads(body)["runs"]] == ["TEST-0101", "TEST-0102"]


def test_it_serves_nothing_before_the_job_is_done(
    program: Any, perfusionist: Any, personas: dict[str, Any], client_for: Any
) -> None:
    build_run(program, perfusionist)
    client = client_for(personas["quality"])
    with_thread = client.get(
        "/api/v1/exports/ecls-cdm?background=true"
    )  # queued; the thread starts on commit
    assert with_thread.status_code == 202
    result = client.get(f"/api/v1/jobs/{with_thread.json()['id']}/result")
    assert result.status_code == 409
    assert result.json()["detail"] == "the export is queued"


def test_it_takes_a_job_once(program: Any, perfusionist: Any, personas: dict[str, Any]) -> None:
    from ecmo_web.registry import actions

    build_run(program, perfusionist)
    job = actions.request_export(actor=personas["director"], program=program, kind="ecls-cdm")
    assert jobs.run_job(job.pk).status == "done"
    again = jobs.run_job(job.pk)
    assert again.finished_at == ExportJob.objects.get(pk=job.pk).finished_at
    assert AuditEvent.objects.filter(action="export.completed").count() == 1


def test_it_hides_another_programs_job(
    program: Any, other_program: Any, perfusionist: Any, personas: dict[str, Any], client_for: Any
) -> None:
    from ecmo_web.registry import actions

    build_run(program, perfusionist)
    job = actions.request_export(actor=personas["director"], program=program, kind="ecls-cdm")
    assert client_for(personas["outsider"]).get(f"/api/v1/jobs/{job.pk}").status_code == 404


def test_it_exports_from_the_command_line(
    program: Any, perfusionist: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_run(program, perfusionist)
    out = tmp_path / "elso.csv"
    call_command("export", "elso", "--out", str(out), "--format", "csv", "--program", "North")
    assert out.read_text().splitlines()[1].startswith("TEST-0101,female,1968,82.0")
    job = ExportJob.objects.get()
    assert (job.requested_by_name, job.status) == ("system:cli", "done")
    err = capsys.readouterr().err
    assert "1/1 runs" in err and f"sha256 {job.result_sha256}" in err


def test_it_exits_2_naming_program_when_several_exist(
    program: Any, other_program: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command("export", "research", "--out", str(tmp_path / "x.zip"))
    assert exit_info.value.code == 2
    assert "--program: choose one of North, South" in capsys.readouterr().err
    assert not ExportJob.objects.exists()


def test_the_page_starts_an_export_and_polls_its_progress(
    program: Any, perfusionist: Any, personas: dict[str, Any], client_for: Any
) -> None:
    build_run(program, perfusionist)
    client = client_for(personas["director"])
    page = client.get(f"/programs/{program.pk}/exports/")
    token = page.cookies["csrftoken"].value
    started = client.post(
        f"/programs/{program.pk}/exports/start/", {"kind": "elso:csv", "csrfmiddlewaretoken": token}
    )
    assert started.status_code == 302
    job = ExportJob.objects.get()
    assert (job.kind, job.params, job.status) == ("elso", {"format": "csv"}, "queued")
    partial = client.get(f"/programs/{program.pk}/exports/jobs/").content.decode()
    assert 'hx-trigger="every 2s"' in partial and "Queued" in partial
    jobs.run_job(job.pk)
    done = client.get(f"/programs/{program.pk}/exports/jobs/").content.decode()
    assert "hx-trigger" not in done and "Download" in done and "Record as sent to ELSO" in done
    download = client.get(f"/export-jobs/{job.pk}/download/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content).startswith(b"patient_id,sex")
    research = client_for(personas["quality"]).post(
        f"/programs/{program.pk}/exports/start/", {"kind": "research", "csrfmiddlewaretoken": token}
    )
    assert research.status_code in (403, 404)  # quality may not run the research export
