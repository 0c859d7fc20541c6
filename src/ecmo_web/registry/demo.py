"""Demo step: what the registry app shows on the synthetic program.

- pre-ECMO blood gases for Runs 1 and 4 and pre-ECMO lactate and MAP for Runs 2 and 5 (demo-scenarios §1, §2, §4,
  §5, entered as lab values an hour before flow), so the ELSO completeness check shows two runs complete on blood
  gases and the others flagged for what the scenarios do not give;
- an ELSO export of the decannulated Run 5, recorded as sent to the registry by the quality lead;
- a de-identified research extract by the researcher;
- a study in the register (registry kind, ethics approval, all five runs enrolled) with contributors in CRediT
  roles — the perfusionists among them — and an abstract with its authors.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ecmo_web.demo.seed import DemoContext
from ecmo_web.kernel import SystemActor
from ecmo_web.registry import actions, jobs
from ecmo_web.surveillance import actions as surveillance_actions

DEMO = SystemActor("system:demo")

# (patient, [(parameter, value)]) — the scenarios' pre-ECMO values; P/F on FiO2 1.0 gives PaO2 = P/F.
PRE_ECMO = {
    "DEMO-0001": [("arterial_ph", 7.22), ("arterial_pco2_mmhg", 72.0), ("arterial_po2_mmhg", 68.0)],
    "DEMO-0002": [("lactate_mmol_l", 6.8), ("mean_arterial_pressure_mmhg", 52.0)],
    "DEMO-0004": [("arterial_ph", 7.24), ("arterial_pco2_mmhg", 68.0), ("arterial_po2_mmhg", 62.0)],
    "DEMO-0005": [("lactate_mmol_l", 7.6)],
}


def seed(ctx: DemoContext) -> None:
    assert ctx.program is not None
    program = ctx.program
    for code, values in PRE_ECMO.items():
        run = ctx.runs[code]
        at = run.started_at - dt.timedelta(hours=1)
        surveillance_actions.ingest_samples(
            actor_or_system=DEMO,
            run=run,
            samples=[{"observed_at": at, "parameter": p, "value": v, "source": "lab"} for p, v in values],
            kind="lab",
            batch_ref=f"demo:pre-ecmo:{code}",
            now=ctx.now,
            evaluate=False,
        )
    run5 = ctx.runs["DEMO-0005"]
    elso_job = actions.request_export(
        actor=ctx.users["quality"], program=program, kind="elso", run_ids=[run5.pk]
    )
    jobs.run_job(elso_job.pk)
    elso_job.refresh_from_db()
    actions.record_submission(
        actor=ctx.users["quality"], job=elso_job, note="Uploaded to the ELSO registry portal"
    )
    research_job = actions.request_export(actor=ctx.users["researcher"], program=program, kind="research")
    jobs.run_job(research_job.pk)

    director = ctx.users["director"]
    study = actions.create_study(
        actor=director,
        program=program,
        title="Oxygenator longevity and circuit surveillance (demo)",
        kind="registry",
        status="active",
        protocol_ref="DEMO-PROT-7 v2",
        ethics_ref="DEMO-REC-2026-014",
        ethics_approved_on=timezone.localdate(ctx.now) - dt.timedelta(days=90),
        registration="DEMO-REG-0001",
    )
    for code in sorted(ctx.runs):
        actions.enrol_run(actor=director, study=study, run=ctx.runs[code])
    contributors = [
        ("perfusionist", "perfusion", "investigation"),
        ("perfusionist", "perfusion", "data_curation"),
        ("perfusionist2", "perfusion", "investigation"),
        ("director", "intensive care", "conceptualization"),
        ("director", "intensive care", "supervision"),
        ("researcher", "research", "formal_analysis"),
        ("researcher", "research", "writing_original_draft"),
        ("intensivist", "intensive care", "writing_review_editing"),
    ]
    for username, discipline, role in contributors:
        user = ctx.users[username]
        actions.add_contributor(
            actor=director,
            study=study,
            name=user.get_full_name() or username,
            discipline=discipline,
            credit_role=role,
            user=user,
        )
    names = [
        ctx.users[u].get_full_name() or u for u in ("perfusionist", "researcher", "perfusionist2", "director")
    ]
    actions.add_output(
        actor=director,
        study=study,
        kind="abstract",
        title="Membrane resistance as an early sign of oxygenator failure: a single-centre demo cohort",
        authors=names,
        reference="Demo ECMO meeting 2026, abstract 42",
    )
