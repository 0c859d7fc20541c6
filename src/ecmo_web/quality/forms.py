"""Forms for the quality pages. Times are the program's wall-clock time (ProgramForm converts to UTC)."""

from __future__ import annotations

from typing import Any

from django import forms

from ecmo_core import quality as core
from ecmo_web.forms import LocalDateTimeField, ProgramForm, choice_field, version_field
from ecmo_web.quality.codes import code_list
from ecmo_web.quality.kpis import MODE_FILTERS
from ecmo_web.quality.models import EventSeverity, FactorKind
from ecmo_web.runs.models import EcmoRun
from ecmo_web.timezones import to_local


class DateInput(forms.DateInput):
    """A browser date picker: the value must be ISO (YYYY-MM-DD) whatever the locale."""

    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class AdverseEventForm(ProgramForm):
    code = forms.ChoiceField(label="Complication", choices=())
    severity = forms.ChoiceField(label="Severity", choices=EventSeverity.choices)
    onset_at = LocalDateTimeField(label="Onset")
    component = forms.ChoiceField(label="Component involved", required=False, choices=())
    lot = forms.CharField(
        label="Lot", required=False, max_length=60, help_text="Taken from the component when left empty"
    )
    alert = forms.ChoiceField(label="Alert that preceded it", required=False, choices=())
    action_taken = forms.CharField(
        label="Action taken", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    description = forms.CharField(
        label="What happened", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, run: EcmoRun, **kwargs: Any) -> None:
        super().__init__(*args, program=run.program, **kwargs)
        self.run = run
        choice_field(self, "code").choices = [("", "— choose —"), *code_list().code_choices()]
        components = [
            c for circuit in run.circuits.prefetch_related("components") for c in circuit.components.all()
        ]
        choice_field(self, "component").choices = [("", "— none —")] + [
            (
                str(c.pk),
                f"{c.get_kind_display()} {c.maker} {c.model} · lot {c.lot or '—'}"
                + (" (in use)" if c.removed_at is None else ""),
            )
            for c in components
        ]
        choice_field(self, "alert").choices = [("", "— none —")] + [
            (str(a.pk), f"{to_local(a.opened_at, run.program):%d %b %H:%M} · {a.message[:60]}")
            for a in run.alerts.order_by("-opened_at")[:50]
        ]


class CaseForm(ProgramForm):
    run = forms.ChoiceField(label="Run", choices=())
    event = forms.ChoiceField(label="Adverse event", required=False, choices=())
    title = forms.CharField(label="Title", max_length=200)
    meeting_on = forms.DateField(label="Meeting date", required=False, widget=DateInput())
    summary = forms.CharField(label="Case summary", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, runs: list[EcmoRun], events: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "run").choices = [("", "— choose —")] + [
            (str(r.pk), f"{r.patient.code} · started {to_local(r.started_at, self.program):%d %b %Y}")
            for r in runs
        ]
        choice_field(self, "event").choices = [("", "— none —")] + [
            (
                str(e.pk),
                f"{e.run.patient.code} · {to_local(e.onset_at, self.program):%d %b %H:%M} · {e.code_label}",
            )
            for e in events
        ]


class DiscussionForm(ProgramForm):
    discussion = forms.CharField(label="Discussion", required=False, widget=forms.Textarea(attrs={"rows": 6}))
    version = version_field()


class ContributionForm(ProgramForm):
    text = forms.CharField(label="Your input", widget=forms.Textarea(attrs={"rows": 4}))


class FactorForm(ProgramForm):
    kind = forms.ChoiceField(label="Kind", choices=FactorKind.choices)
    text = forms.CharField(label="Contributing factor", max_length=500)


class ActionForm(ProgramForm):
    text = forms.CharField(label="Action", max_length=500)
    owner = forms.ChoiceField(label="Owner", choices=())
    due_on = forms.DateField(label="Due", widget=DateInput())

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "owner").choices = members


class CloseActionForm(ProgramForm):
    note = forms.CharField(label="What was done", max_length=500)


class KpiFilterForm(ProgramForm):
    start = forms.DateField(label="From", widget=DateInput())
    end = forms.DateField(label="To (not included)", widget=DateInput())
    mode = forms.ChoiceField(label="Mode", required=False, choices=[("", "All modes"), *MODE_FILTERS.items()])
    unit = forms.CharField(
        label="Unit", required=False, max_length=60, help_text="Location begins with, e.g. CICU"
    )


class AuditForm(ProgramForm):
    title = forms.CharField(label="Title", max_length=200)
    criterion = forms.ChoiceField(label="Criterion", choices=[(c.key, c.label) for c in core.AUDIT_CRITERIA])
    standard_pct = forms.FloatField(label="Standard (%)", min_value=1, max_value=100, help_text="e.g. 90")
    sample_size = forms.IntegerField(
        label="Sample size",
        required=False,
        min_value=1,
        help_text="The most recent cases; empty for every case",
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AuditRunForm(ProgramForm):
    period_start = forms.DateField(label="From", widget=DateInput())
    period_end = forms.DateField(label="To (not included)", widget=DateInput())
