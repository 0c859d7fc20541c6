"""``GET /api/v1/runs/{run_id}/trends`` (core-api §6): at most N points per parameter, for charts over any span.

A few queries per request, whatever the span: over a span of more than ``points`` minutes the per-minute or
per-hour rollups maintained at ingest (``surveillance.rollup``) give each whole minute or hour inside it, and the
samples of the part-hours at either end (or of a short span) are grouped in SQL by a time prefix (the stored
time's text cut to the hour, 10 minutes, the minute … — no date arithmetic per row) at least as fine as the
chart's buckets; each group gives its lowest and its highest value at its first and its last time, so that dense
telemetry never leaves the database row by row; a parameter with only a few times ``points`` samples is then read as it is. ``ecmo_core.downsample.min_max_buckets`` then keeps the min and the max of each of ``points / 2``
buckets: every spike survives, and a gap stays a gap. See docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db.models import CharField, Count, F, Max, Min
from django.db.models.functions import Cast, Substr
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Schema

from ecmo_core.downsample import MAX_POINTS, min_max_buckets
from ecmo_core.surveillance import PARAMETERS
from ecmo_web.runs.models import EcmoRun
from ecmo_web.shortcuts import get_checked
from ecmo_web.surveillance import rollup
from ecmo_web.surveillance.api import router as surveillance_router
from ecmo_web.surveillance.models import Sample

# On the surveillance API's own router: importing this module (apps.py does) adds the endpoint to it.
router = surveillance_router

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


# Prefixes of a stored time "2026-01-01 10:23:45…" that group it by day, hour, 10 min, minute, 10 s, second.
_PREFIXES = ((10, 86_400), (13, 3_600), (15, 600), (16, 60), (18, 10), (19, 1))


def _prefix_length(width_s: float) -> int:
    """The coarsest time prefix whose groups are no wider than ``width_s`` (grouping text is cheap in SQL)."""
    return next((chars for chars, seconds in _PREFIXES if seconds <= width_s), 19)


def _tier(width_s: float) -> int | None:
    """The coarsest rollup no wider than ``width_s`` (None: the span is short enough to group the samples)."""
    return next((tier for tier in reversed(rollup.TIERS) if tier <= width_s), None)


def _grouped(base: Any, chars: int) -> Any:
    """Samples grouped by a time prefix: (parameter, n, low, high, first, last) per group."""
    return (
        base.annotate(bucket=Substr(Cast(F("observed_at"), CharField()), 1, chars))
        .values("parameter", "bucket")
        .annotate(
            n=Count("id"),
            low=Min("value"),
            high=Max("value"),
            first=Min("observed_at"),
            last=Max("observed_at"),
        )
        .values_list("parameter", "n", "low", "high", "first", "last")
    )


def trend_points(
    run: EcmoRun, parameters: list[str], *, since: dt.datetime, until: dt.datetime, points: int
) -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """``{code: (epoch seconds, values, samples in range)}`` with at most ``points`` points per code.

    A span of more than ``points`` minutes reads the per-minute or per-hour rollups (``surveillance.rollup``) of
    the whole buckets inside it, and groups the samples of the part-buckets at either end by a time prefix; a
    shorter span groups its samples by a time prefix in SQL. Each group gives its lowest value at its first time
    and its highest at its last. A parameter with only a few times ``points`` samples is then read as it is.
    Two to four queries, whatever the span.
    """
    base = Sample.objects.filter(
        run=run, parameter__in=parameters, observed_at__gte=since, observed_at__lte=until
    )
    start_s, end_s = since.timestamp(), until.timestamp()
    chars = _prefix_length((end_s - start_s) / points)
    tier = _tier((end_s - start_s) / points)
    counts = dict.fromkeys(parameters, 0)
    rows: dict[str, list[tuple[float, float]]] = {code: [] for code in parameters}
    groups: list[Any] = []
    if tier is None:
        groups.append(_grouped(base, chars))
    else:
        first, end = rollup.covered(since, until, tier)
        if first < end:
            for code, _, n, _, low, high, first_s, last_s in rollup.read(
                run.pk, parameters, width_s=tier, since=since, until=until
            ):
                counts[code] += n
                rows[code] += [(first_s, low), (last_s, high)]
            # Each end as its own range (with the span's bounds too, SQLite would scan the span on its index).
            inside = Sample.objects.filter(run=run, parameter__in=parameters)
            head = inside.filter(observed_at__gte=since, observed_at__lt=first)
            groups.append(_grouped(head, chars))
            groups.append(_grouped(inside.filter(observed_at__gte=end, observed_at__lte=until), chars))
        else:
            groups.append(_grouped(base, chars))
    for group in groups:
        for code, n, low, high, first_at, last_at in group:
            counts[code] += n
            rows[code] += [(first_at.timestamp(), float(low)), (last_at.timestamp(), float(high))]
    few = [code for code in parameters if counts[code] <= RAW_FACTOR * points]
    if few:
        for code in few:
            rows[code] = []
        for code, at, value in base.filter(parameter__in=few).values_list(
            "parameter", "observed_at", "value"
        ):
            rows[code].append((at.timestamp(), float(value)))
    result = {}
    for code in parameters:
        pairs = np.array(rows[code], dtype=np.float64).reshape(-1, 2)
        times, values = min_max_buckets(pairs[:, 0], pairs[:, 1], start=start_s, end=end_s, points=points)
        result[code] = (times, values, counts[code])
    return result
