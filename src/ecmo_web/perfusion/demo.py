"""Demo step: the illustrative catalogue (figures labelled "illustrative, not from a maker's IFU") and six
dual-lumen cannulas whose points come from public digitised curves (labelled with that source), a circuit
and cannula selection on the V-A run DEMO-0002 with who took part and who decided, and the program's primed
circuits on standby — one ready, one about to expire and one expired with its notice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ecmo_web.decisions import actions as decisions
from ecmo_web.demo.seed import DemoContext
from ecmo_web.kernel import SystemActor
from ecmo_web.perfusion.actions import standby
from ecmo_web.perfusion.actions.catalogue import import_catalogue
from ecmo_web.runs.models import CatalogueItem

CATALOGUE_CSV = Path(__file__).parent / "data" / "demo_catalogue.csv"
# Real dual-lumen cannulas with points computed from public digitised curves (source on each row).
PUBLIC_CURVES_CSV = Path(__file__).parent / "data" / "public_dual_lumen_curves.csv"
DEMO = SystemActor("system:demo")


def _item(model: str) -> CatalogueItem:
    return CatalogueItem.objects.get(maker="Generic", model=model)


def seed(ctx: DemoContext) -> None:
    assert ctx.program is not None
    import_catalogue(actor=DEMO, text=CATALOGUE_CSV.read_text(encoding="utf-8"), reason="demo catalogue")
    import_catalogue(
        actor=DEMO,
        text=PUBLIC_CURVES_CSV.read_text(encoding="utf-8"),
        reason="public digitised dual-lumen curves",
    )
    users = ctx.users
    # DEMO-0002, 92 kg, 178 cm, V-A: BSA √(178 × 92 / 3600) = 2.13 m²; CI 2.4 → 5.12 → 5.2 L/min. The selection
    # is recorded after cannulation (the run starts at flow), with the parts already on the run from the base step.
    run2 = ctx.runs["DEMO-0002"]
    decisions.record_decision(
        actor=users["perfusionist"],
        run=run2,
        kind="circuit_selection",
        title="Circuit and cannulas for V-A (recorded after cannulation)",
        made_at=ctx.at("DEMO-0002", "D0 14:30"),
        content={
            "configuration": "va",
            "weight_kg": 92,
            "height_cm": 178,
            "hb_g_dl": 12.1,
            "cardiac_index_l_min_m2": 2.4,
            "drainage_cannula": _item("Multistage venous drainage 25 Fr 55 cm").pk,
            "return_cannula": _item("Return 17 Fr 18 cm").pk,
            "install_on_run": False,
            "note": "17 Fr return chosen for the small femoral artery; flow capped by the return pressure",
        },
        recommended_by=users["perfusionist"].pk,
        recommendation="25 Fr multistage drainage; 19 Fr return passes the limit, 17 Fr does not at 5.2 L/min",
        participants=[
            {"user": users["perfusionist"].pk, "contribution": "proposed the circuit and cannulas"},
            {"user": users["surgeon"].pk, "contribution": "cannulated"},
            {"user": users["cardiologist"].pk, "contribution": "took part"},
        ],
        dissent=[
            {
                "user": users["perfusionist"].pk,
                "reason": "a 17 Fr return exceeds the 150 mmHg limit above about 4.3 L/min",
                "resolution": "accepted: small artery on ultrasound; watch post-oxygenator pressure",
            }
        ],
        decided_by=users["surgeon"].pk,
        decided_at=ctx.at("DEMO-0002", "D0 14:35"),
    )
    # Standby circuits: primed 10 days ago (ready), 28.5 days ago (expires in about 1.5 days), 31 days ago (expired).
    perf = users["perfusionist"]
    adult = {
        "oxygenator": _item("Oxygenator A (PMP 1.8 m²)"),
        "pump": _item("Centrifugal pump head B"),
        "tubing_pack": _item("3/8 in tubing pack"),
    }
    for label, days_ago, parts, lot, checklist in (
        ("Adult standby A", 10, adult, "DEMO-OXA-0481", [k for k, _ in standby.CHECKLIST]),
        ("Adult standby B", 28.5, adult, "DEMO-OXA-0466", ["deaired", "connections", "labelled"]),
        (
            "Paediatric standby",
            31,
            {"oxygenator": _item("Oxygenator P (PMP 0.8 m²)"), "tubing_pack": _item("1/4 in tubing pack")},
            "DEMO-OXP-0112",
            [k for k, _ in standby.CHECKLIST],
        ),
    ):
        standby.prime_standby_circuit(
            actor=perf,
            program=ctx.program,
            label=label,
            location="Perfusion store, CICU",
            prime_type="crystalloid",
            primed_at=ctx.now - dt.timedelta(days=days_ago),
            lot=lot,
            checklist=checklist,
            now=ctx.now,
            oxygenator=parts["oxygenator"],
            pump=parts.get("pump"),
            tubing_pack=parts.get("tubing_pack"),
        )
    standby.expire_standby_circuits(ctx.now)
