"""The demo story, read from data files: ``src/ecmo_web/demo/story/*.toml`` (see docs/demo.md).

``program.toml`` holds the staff and the catalogue, one ``DEMO-000N.toml`` per run holds the patient, the circuit,
the telemetry table, the labs, the checks and what people did with each alert, ``rounds.toml`` the rounds. A
clinician reviews the story there; the seed steps (``demo/base.py``, ``surveillance/demo.py``, ``rounds/demo.py``)
only turn it into database rows through the app's actions. Times are ``"Dk HH:MM"`` (day k of the run, program
time), turned into datetimes by ``DemoContext.at``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

STORY = Path(__file__).with_name("story")


@cache
def load(name: str) -> dict[str, Any]:
    """One data file by name (``"program"``, ``"rounds"``, ``"DEMO-0001"``)."""
    with (STORY / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


def runs() -> list[dict[str, Any]]:
    """Every run's file, in patient-code order."""
    return [load(path.stem) for path in sorted(STORY.glob("DEMO-*.toml"))]
