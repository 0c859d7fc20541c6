"""Forms for the governance pages. Dates are plain dates (program-local days); times are program wall-clock."""

from __future__ import annotations

from typing import Any

from django import forms

from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.forms import LocalDateTimeField, ProgramForm, choice_field, version_field
from ecmo_web.governance import kpis
from ecmo_web.governance.actions.policies import SIGNOFF_ROLES
from ecmo_web.governance.models import MeasureKind, PdsaAct, PolicyTopic, PolicyVersion, SessionKind


class DateInput(forms.DateInput):
    input_type = "date"


def member_choices(program: Program, *, blank: bool = True) -> list[tuple[str, str]]:
    rows = (
        Membership.objects.filter(program=program, active=True)
        .select_related("user")
        .order_by("role", "user__last_name", "user__username")
    )
    people = [
        (str(m.user_id), f"{m.user.get_full_name() or m.user.get_username()} — {Role(m.role).label}")
        for m in rows
    ]
    return ([("", "—")] if blank else []) + people


def _date(label: str, required: bool = True, help_text: str = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, widget=DateInput, help_text=help_text)


class ProjectForm(ProgramForm):
    title = forms.CharField(max_length=200)
    aim = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What will improve, by how much, by when (e.g. 'Raise hourly-check completeness to 95 % by June')",
    )
    started_on = _date("Started on")
    lead = forms.ChoiceField(required=False, label="Project lead")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "lead").choices = member_choices(self.program)


class MeasureForm(ProgramForm):
    name = forms.CharField(max_length=160)
    kind = forms.ChoiceField(choices=MeasureKind.choices)
    kpi_key = forms.CharField(
        required=False,
        label="Program KPI",
        max_length=80,
        help_text="Link to a program KPI by its key (optional)",
    )
    computed = forms.BooleanField(
        required=False, label="Compute it week by week from the program's records (needs a program KPI)"
    )
    unit = forms.CharField(required=False, max_length=40, help_text="e.g. %, hours, per 1000 ECMO days")
    higher_is_better = forms.TypedChoiceField(
        label="Better is", choices=[("1", "higher"), ("0", "lower")], coerce=lambda v: v == "1", initial="1"
    )
    baseline_points = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100,
        label="Baseline points",
        help_text="Freeze the median on the first N points; empty for the median of all points",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = kpis.keys()
        if known is not None:  # the KPI registry is installed: choose a KPI by its name
            self.fields["kpi_key"] = forms.ChoiceField(
                required=False,
                label="Program KPI",
                choices=[("", "— none —"), *sorted(((k, kpis.label(k)) for k in known), key=lambda c: c[1])],
            )


class PointForm(ProgramForm):
    period_start = _date("Period starting")
    value = forms.FloatField()
    note = forms.CharField(required=False, max_length=200)


class CycleForm(ProgramForm):
    change = forms.CharField(max_length=200, label="Change tested")
    plan = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="The plan and the prediction")
    started_on = _date("Started on")
    ended_on = _date("Ended on", required=False)
    study = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Results",
        help_text="Study: what happened",
    )
    act = forms.ChoiceField(choices=[("", "not decided yet"), *PdsaAct.choices], required=False, label="Act")


class ConcludeForm(ProgramForm):
    version = version_field()
    ended_on = _date("Ended on")
    study = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Results")
    act = forms.ChoiceField(choices=PdsaAct.choices, label="Act")


class PolicyForm(ProgramForm):
    title = forms.CharField(max_length=200)
    topic = forms.ChoiceField(choices=PolicyTopic.choices)


class VersionForm(ProgramForm):
    summary = forms.CharField(max_length=300, help_text="What changed in this version")
    text_body = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), label="Text")
    authors = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    required_roles = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="Sign-off required from",
        choices=[(r, Role(r).label) for r in Role.values if r in SIGNOFF_ROLES],
        initial=[Role.PERFUSIONIST, Role.INTENSIVIST],
    )
    effective_on = _date("Effective from")
    review_on = _date("Review by")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "authors").choices = member_choices(self.program, blank=False)


class SignoffForm(ProgramForm):
    comment = forms.CharField(required=False, max_length=300)


class LinkForm(ProgramForm):
    version = forms.ChoiceField(label="Policy followed")
    note = forms.CharField(required=False, max_length=300)

    def __init__(self, *args: Any, versions: list[PolicyVersion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "version").choices = [("", "—")] + [
            (str(v.pk), f"{v.policy.title} — version {v.number}") for v in versions
        ]


class CompetencyForm(ProgramForm):
    name = forms.CharField(max_length=160)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    validity_months = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=120,
        label="Valid for (months)",
        help_text="Empty: never expires",
    )
    required_for_roles = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, choices=Role.choices, label="Skill set of", required=False
    )


class AwardForm(ProgramForm):
    competency = forms.ChoiceField()
    holder = forms.ChoiceField(label="Person assessed")
    awarded_on = _date("Assessed on")
    note = forms.CharField(required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "holder").choices = member_choices(self.program)
        choice_field(self, "competency").choices = [("", "—")] + [
            (str(c.pk), c.name) for c in self.program.competencies.all()
        ]


class SessionForm(ProgramForm):
    kind = forms.ChoiceField(choices=SessionKind.choices)
    title = forms.CharField(max_length=200)
    held_at = LocalDateTimeField(label="Held at")
    duration_min = forms.IntegerField(min_value=5, max_value=720, label="Duration (min)", initial=60)
    facilitator = forms.ChoiceField(required=False)
    attendees = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "facilitator").choices = member_choices(self.program)
        choice_field(self, "attendees").choices = member_choices(self.program, blank=False)


class ShiftForm(ProgramForm):
    name = forms.CharField(max_length=80, help_text="e.g. Day shift, Night shift")
    starts_at = LocalDateTimeField(label="Starts")
    ends_at = LocalDateTimeField(label="Ends")
    members_on = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="On the shift")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "members_on").choices = member_choices(self.program, blank=False)
