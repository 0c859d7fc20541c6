"""Extra columns on the program's run list (oxygenator age here; alerts …), declared by apps in
``AppConfig.contributions()`` (``run_columns``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ecmo_web.runs.models import EcmoRun


@dataclass(frozen=True)
class Cell:
    text: str
    tone: str = "neutral"  # neutral, ok, warning, critical, muted
    title: str = ""


Column = Callable[[Sequence[EcmoRun], dt.datetime], tuple[str, dict[int, Cell]]]


def columns(runs: Sequence[EcmoRun], now: dt.datetime) -> list[tuple[str, dict[int, Cell]]]:
    from ecmo_web import contributions

    return [column(runs, now) for column in contributions.run_columns()]


def _format_age(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h"


def oxygenator_age(runs: Sequence[EcmoRun], now: dt.datetime) -> tuple[str, dict[int, Cell]]:
    cells: dict[int, Cell] = {}
    for run in runs:
        current = [
            c
            for circuit in run.circuits.all()
            for c in circuit.components.all()
            if c.kind == "oxygenator" and c.removed_at is None
        ]
        if current:
            comp = current[-1]
            cells[run.pk] = Cell(_format_age(comp.age(now)), title=f"{comp.model} lot {comp.lot}")
        else:
            cells[run.pk] = Cell("—", "muted", "no oxygenator recorded")
    return "Oxygenator age", cells
