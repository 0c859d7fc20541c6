"""The site catalogue (issue 14 §1): CSV import with row and column errors, and ``GET /api/v1/catalogue``.

Spec checklist:
- the demo CSV imports every kind with its figures (cannulas with size, purpose and pressure–flow points)
- a second import of the same row updates the item (same kind, maker and model), nothing is duplicated
- a file with errors is refused whole: each error names its row (header = row 1) and column; nothing changes
- unknown or missing columns are named; a cannula without points or with a falling curve is refused
- only roles holding catalogue.manage import (page 403 for a nurse); every change is in the audit trail
- the page lists the items with their source and draws the cannula curves; the API returns them, filtered
  by kind; a bad kind is a 400 naming the field; without signing in, 401
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ecmo_web.audit.models import AuditEvent
from ecmo_web.perfusion.actions.catalogue import import_catalogue
from ecmo_web.runs.models import CatalogueItem, EcmoRun
from tests.web.pathway_support import BrowserClient
from tests.web.perfusion_support import OPERATOR, catalogue  # noqa: F401

pytestmark = pytest.mark.django_db

HEADER = "kind,maker,model,rated_flow_l_min,priming_volume_ml,cannula_purpose,size_fr,pressure_flow_points\n"


def test_it_imports_the_demo_catalogue(catalogue: dict[str, CatalogueItem]) -> None:  # noqa: F811
    oxy = catalogue["Oxygenator S (PMP 1.3 m²)"]
    assert (float(oxy.rated_flow_l_min), oxy.priming_volume_ml, float(oxy.membrane_surface_m2)) == (
        5.0,
        175,
        1.3,
    )
    assert oxy.max_duration_days == 21 and oxy.source == "illustrative, not from a maker's IFU"
    drain = catalogue["Multistage venous drainage 25 Fr 55 cm"]
    assert (drain.kind, drain.cannula_purpose, drain.size_fr, drain.length_cm, drain.multistage) == (
        "cannula",
        "drainage",
        25,
        55,
        True,
    )
    assert drain.pressure_flow_points == [[2.0, 15.0], [4.0, 45.0], [6.0, 95.0], [7.0, 130.0]]
    dual = catalogue["Dual-lumen 27 Fr"]
    assert dual.return_pressure_flow_points[0] == [2.0, 55.0]
    assert AuditEvent.objects.filter(action="catalogue.item_added").count() == 17


def test_it_updates_an_item_with_the_same_kind_maker_and_model(catalogue: dict[str, CatalogueItem]) -> None:  # noqa: F811
    before = CatalogueItem.objects.count()
    result = import_catalogue(
        actor=OPERATOR, text=HEADER + "oxygenator,Generic,Oxygenator S (PMP 1.3 m²),5.5,180,,,\n"
    )
    assert (result.created, result.updated) == (0, 1)
    assert CatalogueItem.objects.count() == before
    item = CatalogueItem.objects.get(model="Oxygenator S (PMP 1.3 m²)")
    assert (float(item.rated_flow_l_min), item.priming_volume_ml) == (5.5, 180)
    assert AuditEvent.objects.filter(action="catalogue.item_updated").count() == 1


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("oxygenator,Acme,O1,fast,200,,,", "row 3, rated_flow_l_min: 'fast' is not a number"),
        (
            "oxygenator,Acme,O1,12,200,,,",
            "row 3, rated_flow_l_min: Ensure this value is less than or equal to 10",
        ),
        ("pump,Acme,P1,8,30,,,", "row 3, kind: Value 'pump' is not a valid choice"),
        ("cannula,Acme,C1,,,drainage,25,", "row 3, pressure_flow_points: required for a cannula"),
        ("cannula,Acme,C1,,,drainage,25,2:30 4:20", "row 3, pressure_flow_points: pressure drop falls"),
        (
            "cannula,Acme,C1,,,drainage,25,2-30",
            "row 3, pressure_flow_points: '2-30' is not a flow:pressure pair",
        ),
        (
            "cannula,Acme,C1,,,arterial,25,2:30",
            "row 3, cannula_purpose: Value 'arterial' is not a valid choice",
        ),
        ("oxygenator,Acme,O1,5,200,drainage,,", "row 3, cannula_purpose: only cannulas"),
        ("oxygenator,Acme,O0,5,200,,,", "row 3, model: the same item as row 2"),
    ],
)
def test_it_refuses_a_file_with_errors_naming_row_and_column(row: str, message: str) -> None:
    text = HEADER + "oxygenator,Acme,O0,5,200,,,\n" + row + "\n"
    with pytest.raises(ValidationError) as err:
        import_catalogue(actor=OPERATOR, text=text)
    assert any(message in m for m in err.value.message_dict["csv"]), err.value.message_dict
    assert not CatalogueItem.objects.filter(maker="Acme").exists()  # the good row 2 is not written either


def test_it_names_unknown_and_missing_columns() -> None:
    with pytest.raises(ValidationError) as err:
        import_catalogue(actor=OPERATOR, text="kind,maker,colour\noxygenator,Acme,red\n")
    errors = " ".join(err.value.message_dict["csv"])
    assert "unknown column(s) colour" in errors and "missing column(s) model" in errors


def test_it_lets_only_catalogue_managers_import(personas: dict[str, Any], run: EcmoRun) -> None:
    text = HEADER + "oxygenator,Acme,O9,5,200,,,\n"
    nurse = BrowserClient(personas["bedside_nurse"])
    url = f"/programs/{run.program_id}/perfusion/catalogue/"
    assert nurse.post(url, {"text": text}).status_code == 403
    perfusionist = BrowserClient(personas["perfusionist"])
    response = perfusionist.post(url, {"file": SimpleUploadedFile("c.csv", text.encode())})
    assert response.status_code == 302
    assert CatalogueItem.objects.filter(model="O9").exists()
    event = AuditEvent.objects.get(action="catalogue.item_added")
    assert event.actor == personas["perfusionist"]


def test_it_shows_row_errors_on_the_page(personas: dict[str, Any], run: EcmoRun) -> None:
    client = BrowserClient(personas["perfusionist"])
    response = client.post(
        f"/programs/{run.program_id}/perfusion/catalogue/", {"text": HEADER + "oxygenator,Acme,O1,x,1,,,\n"}
    )
    assert response.status_code == 400
    assert "row 2, rated_flow_l_min: &#x27;x&#x27; is not a number" in response.content.decode()


def test_it_lists_the_catalogue_with_sources_and_curves(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    html = (
        BrowserClient(personas["bedside_nurse"])
        .get(f"/programs/{run.program_id}/perfusion/catalogue/")
        .content.decode()
    )
    assert "Multistage venous drainage 25 Fr 55 cm" in html and "2:15 4:45 6:95 7:130" in html
    assert "illustrative, not from a maker&#x27;s IFU" in html
    assert 'id="cannula-curves-data"' in html and "Import a CSV" not in html  # a nurse reads, does not import


def test_it_serves_the_catalogue_over_the_api(
    personas: dict[str, Any],
    run: EcmoRun,
    catalogue: dict[str, CatalogueItem],  # noqa: F811
) -> None:
    client = BrowserClient(personas["intensivist"])
    body = client.get("/api/v1/catalogue?kind=cannula").json()
    assert {i["kind"] for i in body} == {"cannula"} and len(body) == 10
    first = body[0]
    assert first["size_fr"] == 15 and first["pressure_flow_points"][0] == [1.0, 20.0]
    assert {"cannula_purpose", "length_cm", "multistage", "source"} <= set(first)
    everything = client.get("/api/v1/catalogue").json()
    assert len(everything) == CatalogueItem.objects.count()
    bad = client.get("/api/v1/catalogue?kind=pump")
    assert bad.status_code == 400 and "kind" in bad.json()["detail"]


def test_it_refuses_an_anonymous_import(db: Any) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        import_catalogue(actor=AnonymousUser(), text=HEADER)


def test_it_requires_sign_in_for_the_api(db: Any) -> None:
    from django.test import Client

    assert Client().get("/api/v1/catalogue").status_code == 401
