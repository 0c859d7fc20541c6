"""Demo step: the decisions of the five demo runs (shared/clinical/demo-scenarios.md §1–5, §8), with who took part
in what role, who decided and the dissent; the weaning trials, the decannulation checklists, the retrieval with its
legs and O2 numbers, the mobilisation session, and the Impella checks.

The story is data: the ``[[steps]]`` of each run's ``demo/story/DEMO-000N.toml`` (docs/demo.md). Each step names a
decisions action (``do``) and its arguments; this module only resolves the story's words into objects — a
username into the person, ``"Dk HH:MM"`` into a time, a target parameter, an alert's rule or a component lot into
the run's record, ``as``/``session``/``decision`` into an earlier step's result — and calls the action, so the demo
has the same validation and audit trail as the app.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from ecmo_web.decisions import actions
from ecmo_web.decisions.models import Decision
from ecmo_web.demo import story
from ecmo_web.demo.seed import DemoContext
from ecmo_web.runs.models import Component, EcmoRun, RunTarget

TIME = re.compile(r"^(D\d+|next) \d\d:\d\d(:\d\d)?$")
# Keys whose value is a username standing for that member's id (``actor`` stands for the member).
PERSON_ID_KEYS = frozenset({"user", "decided_by", "recommended_by"})


def _target(run: EcmoRun, parameter: str) -> list[int]:
    return list(RunTarget.objects.filter(run=run, parameter=parameter).values_list("pk", flat=True)[:1])


def _alerts(run: EcmoRun, *rule_ids: str) -> list[int]:
    from ecmo_web.surveillance.models import Alert

    return list(
        Alert.objects.filter(run=run, rule_id__in=rule_ids).order_by("opened_at").values_list("pk", flat=True)
    )


def _component(run: EcmoRun, lot: str) -> Component | None:
    return Component.objects.filter(circuit__run=run, lot=lot).first()


class _Story:
    """One run's steps being played."""

    def __init__(self, ctx: DemoContext, code: str) -> None:
        self.ctx, self.code, self.run = ctx, code, ctx.runs[code]
        self.named: dict[str, Any] = {}

    def value(self, key: str, value: Any, *, top: bool) -> Any:
        """A story value as the action wants it: a top-level time is a datetime, a time inside content is ISO."""
        if isinstance(value, str):
            if TIME.match(value):
                at = self.ctx.at(self.code, value)
                return at if top else at.isoformat()
            if key in PERSON_ID_KEYS:
                return self.ctx.users[value].pk
            return value
        if isinstance(value, dict):
            return {k: self.value(k, v, top=False) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(key, v, top=False) for v in value]
        return value

    def play(self, step: dict[str, Any]) -> None:
        step = dict(step)
        action = getattr(actions, step.pop("do"))
        name = step.pop("as", None)
        run = self.run
        kwargs: dict[str, Any] = {}
        params = inspect.signature(action).parameters
        if "run" in params:
            kwargs["run"] = run
        if "program" in params:
            kwargs["program"] = run.program
        for key, value in step.items():
            if key == "actor":
                kwargs[key] = self.ctx.users[value]
            elif key == "decision" and "item" in step:
                continue  # names the checklist the item belongs to
            elif key in ("session", "decision"):
                kwargs[key] = self.named[value]
            elif key == "item":
                kwargs[key] = self.named[step["decision"]].checklist_items.get(key=value)
            elif key == "target_ids":
                kwargs[key] = [pk for parameter in value for pk in _target(run, parameter)]
            elif key == "alert_ids":
                kwargs[key] = _alerts(run, *value)
            elif key == "component":
                kwargs[key] = _component(run, value)
            elif key in ("device", "mcs_device"):
                kwargs[key] = run.mcs_devices.filter(model=value).first()
            else:
                kwargs[key] = self.value(key, value, top=True)
        result = action(**kwargs)
        if name:
            self.named[name] = result


def seed(ctx: DemoContext) -> None:
    for data in story.runs():
        played = _Story(ctx, data["patient"]["code"])
        for step in data.get("steps", []):
            played.play(step)


def decisions_of(run: EcmoRun) -> list[Decision]:
    return list(Decision.objects.filter(run=run))
