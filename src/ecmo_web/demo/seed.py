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
SI_DEMO_PROGRAM = (
    "Demo (SI units)"  # the same demo staff, one run, shown in kPa and g/L (ecmo_web.bedside.demo)
)
DEFAULT_PASSWORD = "steward-demo"  # noqa: S105 - the published demo password (core-api §7), synthetic data only

STEP_MODULES: list[str] = [
    "ecmo_web.demo.base",
    "ecmo_web.surveillance.demo",
    "ecmo_web.surveillance.demo_channels",
    "ecmo_web.surveillance.hl7_demo",
    "ecmo_web.decisions.demo",
    "ecmo_web.rounds.demo",
    "ecmo_web.perfusion.demo",
    "ecmo_web.registry.demo",
    "ecmo_web.quality.demo",
    "ecmo_web.governance.demo",
    "ecmo_web.bedside.demo",
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


DEMO_EMAIL_DOMAIN = "@demo.invalid"  # every demo user's address; a real installation's users have others


def _demo_catalogue_files() -> list[tuple[str, str, str]]:
    """(kind, maker, model) of the catalogue items the demo imports from its data files."""
    import csv
    import io
    from importlib import resources

    # Read by resource name: the seed must not import the perfusion app's demo step (import contracts).
    data = resources.files("ecmo_web.perfusion").joinpath("data")
    items = []
    for name in ("demo_catalogue.csv", "public_dual_lumen_curves.csv"):
        text = data.joinpath(name).read_text(encoding="utf-8")
        items += [(row["kind"], row["maker"], row["model"]) for row in csv.DictReader(io.StringIO(text))]
    return items


def _not_demo() -> list[str]:
    """What in the database the demo did not create (empty: demo data alone, or nothing)."""
    from django.apps import apps
    from django.db.models import Q

    from ecmo_web.audit.models import AuditEvent
    from ecmo_web.runs.models import CatalogueItem

    found: list[str] = []
    users = get_user_model().objects.all()
    if users.filter(is_superuser=True).exists():
        found.append("a superuser (as made by createsuperuser)")
    others = users.exclude(email__endswith=DEMO_EMAIL_DOMAIN).values_list("username", flat=True)[:3]
    if others:
        found.append(f"users the demo did not create ({', '.join(others)})")
    programs = Program.objects.exclude(
        is_demo=True, name__in=[DEMO_PROGRAM, OUTSIDER_PROGRAM, SI_DEMO_PROGRAM]
    )
    if programs.exists():
        found.append(f"non-demo programs ({', '.join(programs.values_list('name', flat=True)[:3])})")
    if Patient.objects.exclude(code__startswith="DEMO-").exists():
        found.append("patients without a DEMO- code")
    from ecmo_web.demo.base import CATALOGUE

    demo_items = Q(pk__in=[])
    for kind, maker, model_name in [(k, mk, md) for k, mk, md, _ in CATALOGUE] + _demo_catalogue_files():
        demo_items |= Q(kind=kind, maker=maker, model=model_name)
    if CatalogueItem.objects.exclude(demo_items).exists():
        found.append("device catalogue items the demo did not add")
    events = AuditEvent.objects.exclude(actor__email__endswith=DEMO_EMAIL_DOMAIN).exclude(
        actor__isnull=True, actor_name__startswith="system"
    )
    demo_programs = Q(program_id__isnull=True) | Q(program_id__in=Program.objects.filter(is_demo=True))
    if events.exists() or AuditEvent.objects.exclude(demo_programs).exists():
        found.append("audit events the demo did not write")
    for model in apps.get_models():  # rows of any app that belong to a program other than the demo's
        path = getattr(model, "program_path", None)
        if not path:
            continue
        # rows with no program at all (catalogue audit events, say) are not "outside the demo programs": the audit
        # events among them were judged by their actor above
        outside = model._default_manager.exclude(**{f"{path}__is_demo": True}).exclude(
            **{f"{path}__isnull": True}
        )
        if outside.exists():
            found.append(f"{model._meta.verbose_name_plural} outside the demo programs")
            break
    return found


def ensure_demo_only() -> None:
    """Raise unless the database is empty or holds nothing but what the demo created: no superuser, no user,
    program, patient, catalogue item, audit event or program record of anyone else's."""
    found = _not_demo()
    if found:
        raise NotADemoDatabase(
            f"this database holds {'; '.join(found)}. seed-demo only runs on an empty database or over "
            "an earlier demo, and changed nothing."
        )


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
