"""The site catalogue as circuit selection sees it, and its CSV format.

CSV columns (header row; only ``kind``, ``maker`` and ``model`` are required; order free):

``kind`` (oxygenator, pump_head, tubing_pack, console, heater, other, cannula) · ``maker`` · ``model`` ·
``rated_flow_l_min`` · ``priming_volume_ml`` · ``membrane_surface_m2`` · ``max_duration_days`` ·
``cannula_purpose`` (drainage, return, dual_lumen) · ``size_fr`` · ``length_cm`` · ``multistage`` (yes/no) ·
``pressure_flow_points`` and ``return_pressure_flow_points`` as ``flow:drop`` pairs separated by spaces or
semicolons (``2:15 4:45 6:95`` = 15 mmHg at 2 L/min …) · ``source`` · ``notes`` · ``active`` (yes/no).

A row updates the item with the same kind, maker and model, or adds it. Every error is reported with its row
and column, and a file with any error changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from ecmo_core.circuit import CannulaSpec, Oxygenator, Pump, TubingPack
from ecmo_core.errors import InputError
from ecmo_web.runs.models import CatalogueItem, CatalogueKind

COLUMNS = (
    "kind",
    "maker",
    "model",
    "rated_flow_l_min",
    "priming_volume_ml",
    "membrane_surface_m2",
    "max_duration_days",
    "cannula_purpose",
    "size_fr",
    "length_cm",
    "multistage",
    "pressure_flow_points",
    "return_pressure_flow_points",
    "source",
    "notes",
    "active",
)
REQUIRED = ("kind", "maker", "model")
NUMBERS = {
    "rated_flow_l_min": Decimal,
    "priming_volume_ml": int,
    "membrane_surface_m2": Decimal,
    "max_duration_days": int,
    "size_fr": int,
    "length_cm": int,
}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}
ILLUSTRATIVE = "illustrative, not from a maker's IFU"


def parse_points(text: str) -> list[list[float]]:
    """``"2:15 4:45"`` → ``[[2.0, 15.0], [4.0, 45.0]]``; raises ValueError naming the bad pair."""
    out = []
    for pair in text.replace(";", " ").replace(",", " ").split():
        flow, sep, drop = pair.partition(":")
        try:
            if not sep:
                raise ValueError
            out.append([float(flow), float(drop)])
        except ValueError:
            raise ValueError(f"{pair!r} is not a flow:pressure pair such as 4:45") from None
    return out


def format_points(points: Iterable[Iterable[float]]) -> str:
    return " ".join(":".join(f"{v:g}" for v in p) for p in points)


def _cell(column: str, raw: str) -> Any:
    value = raw.strip()
    if column in NUMBERS:
        if not value:
            return None
        try:
            number = NUMBERS[column](value)
        except (ValueError, InvalidOperation):
            raise ValueError(f"{value!r} is not a number") from None
        return number
    if column in ("multistage", "active"):
        if value.lower() in YES:
            return True
        if value.lower() in NO:
            return column == "active" and not value  # empty "active" means active
        raise ValueError(f"{value!r} is not yes or no")
    if column in ("pressure_flow_points", "return_pressure_flow_points"):
        return parse_points(value)
    return value


def _check_cannula(item: CatalogueItem) -> None:
    """The pressure–flow points must make a valid curve (ecmo_core rules), named by column."""
    if item.kind != CatalogueKind.CANNULA:
        if item.pressure_flow_points or item.return_pressure_flow_points or item.cannula_purpose:
            raise ValidationError(
                {"cannula_purpose": "only cannulas have a purpose and pressure–flow points"}
            )
        return
    missing = [n for n in ("cannula_purpose", "size_fr", "pressure_flow_points") if not getattr(item, n)]
    if missing:
        raise ValidationError({n: "required for a cannula" for n in missing})
    try:
        to_cannula(item)
    except InputError as err:
        column = {"points": "pressure_flow_points", "return_points": "return_pressure_flow_points"}
        raise ValidationError(
            {column.get(err.field or "", err.field or "pressure_flow_points"): err.message}
        ) from None


def rows_to_items(text: str) -> list[CatalogueItem]:
    """Parse and validate a catalogue CSV into unsaved (or changed) items; ValidationError lists every error as
    ``row N, column: message`` (rows counted as in a spreadsheet: the header is row 1)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    errors: list[str] = []
    unknown = [h for h in header if h not in COLUMNS]
    absent = [c for c in REQUIRED if c not in header]
    if unknown:
        errors.append(f"row 1: unknown column(s) {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}")
    if absent:
        errors.append(f"row 1: missing column(s) {', '.join(absent)}")
    if errors:
        raise ValidationError({"csv": errors})
    items: list[CatalogueItem] = []
    seen: dict[tuple[str, str, str], int] = {}
    for number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "") for k, v in raw.items() if k is not None}
        if not any(v.strip() for v in row.values()):
            continue
        values: dict[str, Any] = {}
        for column in header:
            try:
                values[column] = _cell(column, row.get(column, ""))
            except ValueError as exc:
                errors.append(f"row {number}, {column}: {exc}")
        if any(e.startswith(f"row {number},") for e in errors):
            continue
        key = (values["kind"], values["maker"], values["model"])
        if key in seen:
            errors.append(f"row {number}, model: the same item as row {seen[key]}")
            continue
        seen[key] = number
        item = (
            CatalogueItem.objects.filter(kind=key[0], maker=key[1], model=key[2]).first() or CatalogueItem()
        )
        for column, value in values.items():
            if value is None and column not in NUMBERS:
                continue
            setattr(item, column, value if value is not None else None)
        try:
            item.full_clean(validate_unique=False)
            _check_cannula(item)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                column = field if field in COLUMNS else "row"
                for message in messages:
                    errors.append(f"row {number}, {column}: {message}")
            continue
        items.append(item)
    if errors:
        raise ValidationError({"csv": errors})
    return items


# --- To the pure selection's dataclasses ------------------------------------------------------------------


def _f(value: Any) -> float | None:
    return float(value) if value is not None else None


def _points(raw: Any) -> tuple[tuple[float, float], ...]:
    return tuple((float(p[0]), float(p[1])) for p in raw or [])


def to_cannula(item: CatalogueItem) -> CannulaSpec:
    return CannulaSpec(
        key=str(item.pk),
        label=str(item),
        purpose=item.cannula_purpose,
        size_fr=int(item.size_fr or 0),
        points=_points(item.pressure_flow_points),
        length_cm=_f(item.length_cm),
        multistage=item.multistage,
        return_points=_points(item.return_pressure_flow_points),
    )


def selection_catalogue(items: Iterable[CatalogueItem]) -> dict[str, list[Any]]:
    """Active items with the figures selection needs, as ecmo_core dataclasses (items missing a figure are
    left out and listed under ``incomplete`` so the page can say why)."""
    out: dict[str, list[Any]] = {
        "oxygenators": [],
        "pumps": [],
        "tubing_packs": [],
        "cannulas": [],
        "incomplete": [],
    }
    for item in items:
        if not item.active:
            continue
        if item.kind == CatalogueKind.OXYGENATOR:
            if item.rated_flow_l_min is None or item.priming_volume_ml is None:
                out["incomplete"].append(f"{item}: rated flow and priming volume needed")
                continue
            out["oxygenators"].append(
                Oxygenator(
                    str(item.pk),
                    str(item),
                    float(item.rated_flow_l_min),
                    float(item.priming_volume_ml),
                    _f(item.membrane_surface_m2),
                    _f(item.max_duration_days),
                )
            )
        elif item.kind == CatalogueKind.PUMP_HEAD:
            if item.rated_flow_l_min is None:
                out["incomplete"].append(f"{item}: maximum flow needed")
                continue
            out["pumps"].append(
                Pump(
                    str(item.pk), str(item), float(item.rated_flow_l_min), float(item.priming_volume_ml or 0)
                )
            )
        elif item.kind == CatalogueKind.TUBING_PACK:
            if item.priming_volume_ml is None:
                out["incomplete"].append(f"{item}: priming volume needed")
                continue
            out["tubing_packs"].append(
                TubingPack(str(item.pk), str(item), float(item.priming_volume_ml), _f(item.rated_flow_l_min))
            )
        elif item.kind == CatalogueKind.CANNULA:
            try:
                out["cannulas"].append(to_cannula(item))
            except InputError as err:
                out["incomplete"].append(f"{item}: {err.message}")
    return out


def as_json(item: CatalogueItem) -> dict[str, Any]:
    """The API's view of an item (units in the names; points as ``[[flow_l_min, pressure_drop_mmhg], …]``)."""
    return {
        "id": item.pk,
        "kind": item.kind,
        "maker": item.maker,
        "model": item.model,
        "rated_flow_l_min": _f(item.rated_flow_l_min),
        "priming_volume_ml": item.priming_volume_ml,
        "membrane_surface_m2": _f(item.membrane_surface_m2),
        "max_duration_days": item.max_duration_days,
        "cannula_purpose": item.cannula_purpose or None,
        "size_fr": item.size_fr,
        "length_cm": item.length_cm,
        "multistage": item.multistage,
        "pressure_flow_points": item.pressure_flow_points,
        "return_pressure_flow_points": item.return_pressure_flow_points,
        "source": item.source,
        "notes": item.notes,
        "active": item.active,
    }
