"""Rounds API (core-api §6): ``GET /api/v1/rounds/{date}`` — the board for each of the caller's programs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Router, Schema

from ecmo_web.accounts.models import Program
from ecmo_web.permissions import programs_for
from ecmo_web.rounds import board

router = Router(tags=["rounds"])


class BoardOut(Schema):
    program_id: int
    program: str
    date: dt.date
    session: dict[str, Any] | None
    attendance: list[dict[str, Any]]
    cards: list[dict[str, Any]]


@router.get("/rounds/{date}", response=list[BoardOut])
def rounds_board(request: HttpRequest, date: str, program_id: int | None = None) -> list[dict[str, Any]]:
    """The rounds board of ``date`` (YYYY-MM-DD) for each program the caller may see (or ``program_id``): the
    session's attendance with roles, and one card per run with the perfusion section generated from the circuit's
    last 24 h, the discipline sections with their authors, goals (carried over until ticked off) and open
    decisions. A day without a session has an empty board (``session`` null)."""
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise ValidationError({"date": "use YYYY-MM-DD"}) from None
    ids = programs_for(request.user, "run.view")
    if program_id is not None:
        if program_id not in ids:
            from django.http import Http404

            raise Http404("not found")
        ids = [program_id]
    if not ids and not programs_for(request.user, "calculator.use"):
        return []
    if not ids:
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied("your role does not see rounds")
    return [
        board.as_json(board.build(p, day, request.user))
        for p in Program.objects.filter(pk__in=ids).order_by("name")
    ]
