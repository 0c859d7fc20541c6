"""``GET /api/v1/runs/{run_id}/trends`` (core-api §6): at most N points per parameter, for charts over any span.

One query per request: samples in [since, until] are counted per parameter and, where there are more than a
few times ``points``, pre-aggregated in SQL into ``4 × points`` fine buckets (each giving its lowest and its
highest value, at its first and its last time) so that a month of 1 Hz telemetry never leaves the database row
by row. ``ecmo_core.downsample.min_max_buckets`` then keeps the min and the max of each of ``points / 2``
buckets: every spike survives, and a gap stays a gap. See docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db.models import Count, F, FloatField, IntegerField, Max, Min
from django.db.models.functions import Cast, Floor
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema

from ecmo_core.downsample import MAX_POINTS, min_max_buckets
from ecmo_core.surveillance import PARAMETERS
from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance.models import Sample
from ecmo_web.surveillance.queries import _Epoch

router = Router(tags=["surveillance"])

DEFAULT_POINTS = 500
MAX_PARAMETERS = 24
RAW_FACTOR = 4
"""Up to ``RAW_FACTOR × points`` samples of a parameter are read as they are; beyond, SQL fine buckets."""


class PointOut(Schema):
    at: dt.datetime
    value: float


class SeriesOut(Schema):
    parameter: str
    label: str
    unit: str
    samples: int
    points: list[PointOut]


class TrendsOut(Schema):
    run_id: int
    since: dt.datetime
    until: dt.datetime
    points: int
    series: list[SeriesOut]


def _time(name: str, value: str | None, default: dt.datetime) -> dt.datetime:
    if value in (None, ""):
        return default
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            {name: f"{value!r} is not an ISO 8601 date and time (e.g. 2026-01-01T10:00:00Z)"}
        ) from None
    if parsed.tzinfo is None:
        raise ValidationError({name: "must include a UTC offset or Z"})
    return parsed


def _points(value: str | None) -> int:
    if value in (None, ""):
        return DEFAULT_POINTS
    text = str(value).strip()
    if not text.isdigit() or not 2 <= int(text) <= MAX_POINTS:
        raise ValidationError({"points": f"must be a whole number from 2 to {MAX_POINTS}, got {value!r}"})
    return int(text)


def _parameters(values: list[str] | None) -> list[str]:
    codes = [code.strip() for value in values or [] for code in value.split(",") if code.strip()]
    if not codes:
        raise ValidationError(
            {"parameter": "name at least one parameter code, e.g. parameter=blood_flow_l_min"}
        )
    unknown = [code for code in codes if code not in PARAMETERS]
    if unknown:
        raise ValidationError({"parameter": f"unknown parameter code {unknown[0]!r}; see core-api §4"})
    if len(set(codes)) > MAX_PARAMETERS:
        raise ValidationError({"parameter": f"at most {MAX_PARAMETERS} parameters per request"})
    return list(dict.fromkeys(codes))


@router.get("/runs/{run_id}/trends", response=TrendsOut)
def trends(
    request: HttpRequest,
    run_id: int,
    parameter: list[str] | None = Query(None),  # noqa: B008 - django-ninja's way to declare a repeated query parameter
    since: str | None = None,
    until: str | None = None,
    points: str | None = None,
) -> dict[str, Any]:
    """Each ``parameter`` (repeat it, or separate codes by commas) in [``since``, ``until``] as at most
    ``points`` points (default 500): the lowest and highest sample of each of ``points / 2`` equal buckets.
    Defaults: from the run's start to its end (or now)."""
    run = get_checked(EcmoRun.objects.select_related("program"), request.user, "run.view", pk=run_id)
    codes = _parameters(parameter)
    limit = _points(points)
    end = _time("until", until, run.ended_at or timezone.now())
    start = _time("since", since, run.started_at)
    if not start < end:
        raise ValidationError({"since": f"must be before until ({end.isoformat()})"})
    data = trend_points(run, codes, since=start, until=end, points=limit)
    series = []
    for code in codes:
        times, values, count = data[code]
        spec = PARAMETERS[code]
        series.append(
            {
                "parameter": code,
                "label": spec.description,
                "unit": spec.unit,
                "samples": count,
                "points": [
                    {"at": dt.datetime.fromtimestamp(t, dt.UTC), "value": v}
                    for t, v in zip(times.tolist(), values.tolist(), strict=True)
                ],
            }
        )
    return {"run_id": run.pk, "since": start, "until": end, "points": limit, "series": series}


def trend_points(
    run: EcmoRun, parameters: list[str], *, since: dt.datetime, until: dt.datetime, points: int
) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """``{code: (epoch seconds, values, samples in range)}`` with at most ``points`` points per code."""
    base = Sample.objects.filter(run=run, observed_at__gte=since, observed_at__lte=until)
    counts = dict(
        base.filter(parameter__in=parameters)
        .values("parameter")
        .annotate(n=Count("id"))
        .values_list("parameter", "n")
    )
    start_s, end_s = since.timestamp(), until.timestamp()
    raw = [code for code in parameters if counts.get(code, 0) <= RAW_FACTOR * points]
    dense = [code for code in parameters if code not in raw]
    rows: dict[str, list[tuple[float, float]]] = {code: [] for code in parameters}
    if raw:
        query = base.filter(parameter__in=raw).annotate(t=_Epoch(F("observed_at")))
        for code, t, value in query.values_list("parameter", "t", "value"):
            rows[code].append((float(t), float(value)))
    if dense:
        width = (end_s - start_s) / (RAW_FACTOR * points)
        bucket = Cast(Floor((_Epoch(F("observed_at")) - start_s) / width), IntegerField())
        query = (
            base.filter(parameter__in=dense)
            .annotate(bucket=bucket)
            .values("parameter", "bucket")
            .annotate(
                low=Min("value"),
                high=Max("value"),
                first=Min(_Epoch(F("observed_at")), output_field=FloatField()),
                last=Max(_Epoch(F("observed_at")), output_field=FloatField()),
            )
            .values_list("parameter", "low", "high", "first", "last")
        )
        for code, low, high, first, last in query:
            rows[code] += [(float(first), float(low)), (float(last), float(high))]
    result = {}
    for code in parameters:
        pairs = np.array(rows[code], dtype=np.float64).reshape(-1, 2)
        times, values = min_max_buckets(pairs[:, 0], pairs[:, 1], start=start_s, end=end_s, points=points)
        result[code] = (times, values, counts.get(code, 0))
    return result
