"""CSV import of console exports: the page (/runs/{id}/import/), the action and `ecmo import-csv`.

- the page previews a file (rows, values, new vs already stored, the first rows) and stores nothing until confirmed
- confirming imports it; importing the same file again adds nothing (idempotent), also by the command
- an FdO2 of 100 is an error naming the row, the column and "fraction"; every bad row and cell is listed; an
  unknown column is named with a suggestion; nothing of a bad file is stored
- columns suffixed @lab / @check keep their source; --source names the device columns
- a CSV in which ΔP climbs opens the oxygenator.delta_p_rise alert
- a previewed file waits in the database (not under var/), for its own user only, and expires after an hour; the
  worker removes expired ones (audited)
- `ecmo import-csv` exits 2 with the rows and columns on stderr; a role without sample.ingest gets a 403
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions
from ecmo_web.surveillance.models import Alert, IngestBatch, Sample
from tests.web.conftest import T0
from tests.web.surveil_support import csrf_token, fit

HEADER = (
    "observed_at,blood_flow_l_min,pump_speed_rpm,pre_oxygenator_pressure_mmhg,post_oxygenator_pressure_mmhg"
)


def _csv(
    rows: int = 5, *, start: dt.datetime = T0, fdo2: str | None = None, rising_after: int | None = None
) -> str:
    lines = [HEADER + (",fdo2" if fdo2 is not None else "")]
    for i in range(rows):
        at = (start + dt.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        pre = 260 if rising_after is not None and i >= rising_after else 250
        lines.append(f"{at},4.8,3400,{pre},234" + (f",{fdo2}" if fdo2 is not None else ""))
    return "\n".join(lines) + "\n"


def _upload(client: Any, run: EcmoRun, text: str, **extra: str) -> Any:
    token = csrf_token(client)
    data: dict[str, Any] = {"csrfmiddlewaretoken": token, **extra}
    if text:
        data["file"] = SimpleUploadedFile("export.csv", text.encode(), content_type="text/csv")
    return client.post(f"/runs/{run.pk}/import/", data)


@pytest.fixture(autouse=True)
def _var(tmp_path: Path, settings: Any) -> None:
    settings.VAR_DIR = tmp_path


def test_it_previews_then_imports_on_confirmation(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    client = client_for(perfusionist)
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        preview = _upload(client, run, _csv())
        body = preview.content.decode()
        assert preview.status_code == 200
        assert "<strong>5</strong> rows" in body and "<strong>20</strong> values" in body and "20 new" in body
        assert "Import 20 new values" in body
        assert not Sample.objects.exists()
        pending = body.split('name="pending" value="', 1)[1].split('"', 1)[0]
        done = client.post(
            f"/runs/{run.pk}/import/",
            {"csrfmiddlewaretoken": csrf_token(client), "confirm": "1", "pending": pending, "source": ""},
        )
    assert done.status_code == 302
    assert Sample.objects.filter(run=run).count() == 20
    assert IngestBatch.objects.get(run=run, kind="csv").created_count == 20


def test_a_previewed_file_expires_and_the_worker_removes_it(
    run: EcmoRun, perfusionist: Any, personas: dict[str, Any], client_for: Any, tmp_path: Path
) -> None:
    client = client_for(perfusionist)
    with time_machine.travel(T0 + dt.timedelta(minutes=10), tick=False):
        body = _upload(client, run, _csv()).content.decode()
    pending = body.split('name="pending" value="', 1)[1].split('"', 1)[0]
    assert not (tmp_path / "imports").exists()  # nothing left on disk to pile up
    from ecmo_web.audit.models import AuditEvent
    from ecmo_web.surveillance import worker
    from ecmo_web.surveillance.models import PendingUpload

    held = PendingUpload.objects.get(run=run)
    assert held.digest == pending and held.expires_at == T0 + dt.timedelta(minutes=70)
    confirm = {"confirm": "1", "pending": pending, "source": ""}
    other = client_for(personas["ecmo_specialist"])  # another user cannot confirm it
    with time_machine.travel(T0 + dt.timedelta(minutes=20), tick=False):
        refused = other.post(f"/runs/{run.pk}/import/", {"csrfmiddlewaretoken": csrf_token(other), **confirm})
    assert refused.status_code == 400 and "expired" in refused.content.decode()
    with time_machine.travel(T0 + dt.timedelta(minutes=70), tick=False):
        late = client.post(f"/runs/{run.pk}/import/", {"csrfmiddlewaretoken": csrf_token(client), **confirm})
    assert late.status_code == 400 and "expired" in late.content.decode() and not Sample.objects.exists()
    assert worker.remove_expired_uploads(now=T0 + dt.timedelta(minutes=69)) == 0
    assert worker.remove_expired_uploads(now=T0 + dt.timedelta(minutes=70)) == 1
    assert not PendingUpload.objects.exists()
    assert AuditEvent.objects.filter(action="surveillance.upload_expired", program_id=run.program_id).exists()


def test_it_adds_nothing_when_the_same_file_is_imported_again(run: EcmoRun, perfusionist: Any) -> None:
    text = _csv()
    first = actions.import_csv(run, text, actor=perfusionist, now=T0 + dt.timedelta(minutes=10))
    again = actions.import_csv(
        run, text.replace("\n", "\r\n"), actor=perfusionist, now=T0 + dt.timedelta(minutes=11)
    )
    overlap = actions.import_csv(run, _csv(7), actor=perfusionist, now=T0 + dt.timedelta(minutes=12))
    assert first.result and first.result.created == 20
    assert again.result and again.result.created == 0 and again.new == 0 and again.duplicates == 20
    assert overlap.result and overlap.result.created == 8 and overlap.result.duplicates == 20
    assert Sample.objects.filter(run=run).count() == 28


def test_it_names_row_column_and_fraction_for_fdo2_100(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    text = _csv(3, fdo2="1.0").splitlines()
    text[2] = text[2].rsplit(",", 1)[0] + ",100"  # row 3 (header = row 1)
    with pytest.raises(actions.CsvImportError) as caught:
        actions.import_csv(run, "\n".join(text), actor=perfusionist, now=T0 + dt.timedelta(hours=1))
    (error,) = caught.value.errors
    assert (error.row, error.column) == (3, "fdo2") and "fraction" in error.message
    response = _upload(client_for(perfusionist), run, "\n".join(text))
    body = response.content.decode()
    assert response.status_code == 400
    assert '<td class="num">3</td><td><code>fdo2</code></td>' in body and "fraction" in body
    assert not Sample.objects.exists()


def test_it_lists_every_bad_row_and_cell(run: EcmoRun, perfusionist: Any) -> None:
    lines = _csv(4).splitlines()
    lines[1] = "2026-11-20T10:00:00,4.8,3400,250,234"  # no offset
    lines[2] = lines[2].replace(",4.8,3400,", ",-1,99999,")  # two bad cells in one row
    lines[4] = lines[4] + ",5"  # too many cells
    with pytest.raises(actions.CsvImportError) as caught:
        actions.import_csv(run, "\n".join(lines), actor=perfusionist, now=T0 + dt.timedelta(hours=1))
    found = [(e.row, e.column) for e in caught.value.errors]
    assert found == [(2, "observed_at"), (3, "blood_flow_l_min"), (3, "pump_speed_rpm"), (5, "observed_at")]


def test_it_names_an_unknown_column_with_a_suggestion(run: EcmoRun, perfusionist: Any) -> None:
    with pytest.raises(actions.CsvImportError) as caught:
        actions.import_csv(run, "observed_at,blood_flow_lmin\n2026-11-20T10:00:00Z,4.8\n", actor=perfusionist)
    (error,) = caught.value.errors
    assert error.row == 1 and error.column == "blood_flow_lmin" and "blood_flow_l_min" in error.message


def test_it_keeps_suffixed_sources_and_names_device_columns(run: EcmoRun, perfusionist: Any) -> None:
    text = "observed_at,blood_flow_l_min,anti_xa_iu_ml@lab\n2026-11-20T10:00:00Z,4.8,0.35\n"
    actions.import_csv(run, text, actor=perfusionist, source="console", now=T0 + dt.timedelta(minutes=5))
    assert dict(Sample.objects.values_list("parameter", "source")) == {
        "blood_flow_l_min": "console",
        "anti_xa_iu_ml": "lab",
    }


def test_it_refuses_rows_outside_the_run(run: EcmoRun, perfusionist: Any) -> None:
    text = "observed_at,blood_flow_l_min\n2026-11-20T10:00:00Z,4.8\n2020-01-01T00:00:00Z,4.8\n"
    with pytest.raises(actions.CsvImportError) as caught:
        actions.import_csv(run, text, actor=perfusionist, now=T0 + dt.timedelta(hours=1))
    assert [(e.row, e.column) for e in caught.value.errors] == [(3, "observed_at")]


def test_it_opens_the_delta_p_alert_from_a_climbing_csv(run: EcmoRun, perfusionist: Any) -> None:
    fit(run, perfusionist, "oxygenator", T0)
    text = _csv(8 * 60, rising_after=7 * 60)  # ΔP 16 for 7 h, then 26 (+62 %)
    result = actions.import_csv(run, text, actor=perfusionist, now=T0 + dt.timedelta(hours=8))
    assert result.result is not None
    alert = Alert.objects.get(run=run, rule_id="oxygenator.delta_p_rise")
    assert alert.status == "firing" and T0 + dt.timedelta(hours=7) < alert.opened_at < T0 + dt.timedelta(
        hours=8
    )


def test_the_command_exits_2_with_rows_and_columns(run: EcmoRun, tmp_path: Path, capsys: Any) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("observed_at,fdo2\n2026-11-20T10:00:00Z,0.9\n2026-11-20T10:01:00Z,100\n")
    with pytest.raises(SystemExit) as exited:
        call_command("import_csv", str(run.pk), str(bad))
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "row 3, column fdo2" in err and "fraction" in err
    good = tmp_path / "good.csv"
    good.write_text(_csv(3))
    with time_machine.travel(T0 + dt.timedelta(minutes=5), tick=False):
        call_command("import_csv", str(run.pk), str(good), "--source", "console")
        call_command("import_csv", str(run.pk), str(good), "--source", "console")
    out = capsys.readouterr().out
    assert "created 12, duplicates 0" in out and "created 0, duplicates 12" in out
    with pytest.raises(SystemExit):
        call_command("import_csv", "999999", str(good))


def test_it_checks_the_role(run: EcmoRun, personas: dict[str, Any], client_for: Any) -> None:
    assert client_for(personas["pharmacist"]).get(f"/runs/{run.pk}/import/").status_code == 403
    assert client_for(personas["outsider"]).get(f"/runs/{run.pk}/import/").status_code == 404
    assert _upload(client_for(personas["pharmacist"]), run, _csv()).status_code == 403
