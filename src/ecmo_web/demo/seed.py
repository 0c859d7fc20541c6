"""Load the synthetic demo program. Refuses a database that holds anything but demo data.

The seed runs a list of steps (``STEP_MODULES``), each a module with ``seed(ctx)``; the base step creates the
program, users, patients, runs and circuits, and later steps (telemetry and alerts, decisions, rounds) build on
the runs it made. Clinical writes go through the same actions as the app, so the demo has a real audit trail.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from ecmo_web.accounts.models import Program
from ecmo_web.demo.clock import ScenarioClock
from ecmo_web.runs.models import EcmoRun, Patient

DEMO_PROGRAM = "Demo"
OUTSIDER_PROGRAM = "Elsewhere (demo)"
DEFAULT_PASSWORD = "steward-demo"  # noqa: S105 - the published demo password (core-api §7), synthetic data only

STEP_MODULES: list[str] = [
    "ecmo_web.demo.base",
    "ecmo_web.surveillance.demo",
    "ecmo_web.decisions.demo",
    "ecmo_web.rounds.demo",
    "ecmo_web.governance.demo",
]


class NotADemoDatabase(RuntimeError):
    pass


@dataclass
class DemoContext:
    now: dt.datetime
    password: str
    clock: ScenarioClock
    program: Program | None = None
    users: dict[str, Any] = field(default_factory=dict)  # username → user
    runs: dict[str, EcmoRun] = field(default_factory=dict)  # patient code → run
    n_day: dict[str, int] = field(default_factory=dict)  # patient code → which run day is day N
    progress: Any = None  # callable(str) for progress lines

    def at(self, code: str, stamp: str) -> dt.datetime:
        return self.clock.at(self.n_day[code], stamp)

    def say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)


def ensure_demo_only() -> None:
    """Raise unless every program and patient in the database is synthetic demo data."""
    real_programs = Program.objects.filter(is_demo=False)
    if real_programs.exists():
        names = ", ".join(real_programs.values_list("name", flat=True)[:3])
        raise NotADemoDatabase(
            f"this database holds non-demo programs ({names}); seed-demo only runs on an "
            "empty or demo-only database"
        )
    if Patient.objects.exclude(code__startswith="DEMO-").exists():
        raise NotADemoDatabase(
            "this database holds patients without a DEMO- code; seed-demo refuses to touch it"
        )
    if get_user_model().objects.filter(memberships__program__is_demo=False).exists():
        raise NotADemoDatabase("this database has users in non-demo programs")


def seed_demo(*, now: dt.datetime, password: str = DEFAULT_PASSWORD, progress: Any = None) -> DemoContext:
    ensure_demo_only()
    # The database holds only demo data (checked above): start from empty so that seeding twice gives the same
    # demo rather than duplicates.
    call_command("flush", interactive=False, verbosity=0)
    program = Program.objects.filter(name=DEMO_PROGRAM).first()
    tz_name = program.time_zone if program else "Europe/London"
    ctx = DemoContext(
        now=now, password=password, clock=ScenarioClock.for_now(now, tz_name), progress=progress
    )
    for module_name in STEP_MODULES:
        module = importlib.import_module(module_name)
        parts = module_name.split(
            "."
        )  # ecmo_web.demo.base → "base"; ecmo_web.surveillance.demo → "surveillance"
        ctx.say(f"seeding {parts[-2] if parts[-1] == 'demo' else parts[-1]} …")
        with transaction.atomic():
            module.seed(ctx)
    return ctx
