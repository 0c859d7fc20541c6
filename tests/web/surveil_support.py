"""Builders shared by the surveillance tests: synthetic telemetry, circuit components, CSRF-aware posts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from django.test import Client
from django.utils.crypto import get_random_string

from ecmo_core.surveillance import Sample
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import Component, EcmoRun

MINUTE = dt.timedelta(minutes=1)


def minutes(start: dt.datetime, end: dt.datetime, every: dt.timedelta = MINUTE) -> Iterable[dt.datetime]:
    t = start
    while t <= end:
        yield t
        t += every


def circuit_samples(
    start: dt.datetime,
    end: dt.datetime,
    *,
    flow: float = 4.8,
    rpm: float = 3400,
    pre: float = 250,
    post: float = 234,
    access: float = -60,
    every: dt.timedelta = MINUTE,
    source: str = "device",
) -> list[Sample]:
    """Steady circuit telemetry (flow, speed, access, pre and post pressures) every ``every``."""
    out: list[Sample] = []
    for t in minutes(start, end, every):
        out += [
            Sample(t, "blood_flow_l_min", flow, source),
            Sample(t, "pump_speed_rpm", rpm, source),
            Sample(t, "access_pressure_mmhg", access, source),
            Sample(t, "pre_oxygenator_pressure_mmhg", pre, source),
            Sample(t, "post_oxygenator_pressure_mmhg", post, source),
        ]
    return out


def fit(
    run: EcmoRun, user: Any, kind: str, at: dt.datetime, lot: str = "LOT-1", reason: str = ""
) -> Component:
    return run_actions.install_component(
        actor=user,
        run=run,
        kind=kind,
        maker="Generic",
        model=kind.title(),
        installed_at=at,
        lot=lot,
        reason_replaced=reason,
    )


def csrf_token(client: Client, url: str | None = None) -> str:
    """A CSRF token for ``client``: the cookie a page would set, and the same secret for the form or header."""
    existing = client.cookies.get("csrftoken")
    if existing is not None and existing.value:
        return str(existing.value)
    token = get_random_string(32)
    client.cookies["csrftoken"] = token
    return token


def post_form(client: Client, url: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client, url)
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def post_json(client: Client, url: str, payload: Any) -> Any:
    token = csrf_token(client)
    return client.post(
        url, json.dumps(payload, default=str), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
