"""Base demo step: the program, one user per role, the five synthetic runs with cannulas, circuit components
(with lots and changes) and concurrent MCS. Values follow shared/clinical/demo-scenarios.md."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from ecmo_web.accounts.models import Membership, Program, Role, Unit
from ecmo_web.audit.chain import append, snapshot
from ecmo_web.demo.seed import OUTSIDER_PROGRAM, DemoContext
from ecmo_web.runs import actions
from ecmo_web.runs.models import CatalogueItem, ComponentKind, EcmoRun, Outcome

# username → (role, display name). Extra staff let rounds show real attendance (two perfusionists, four nurses).
STAFF: dict[str, tuple[str, str]] = {
    "perfusionist": (Role.PERFUSIONIST, "Robin Ashdown"),
    "perfusionist2": (Role.PERFUSIONIST, "Sam Whitlock"),
    "intensivist": (Role.INTENSIVIST, "Dr Morgan Hale"),
    "ecmo_specialist": (Role.ECMO_SPECIALIST, "Jordan Pryce"),
    "bedside_nurse": (Role.BEDSIDE_NURSE, "Casey Lund"),
    "bedside_nurse2": (Role.BEDSIDE_NURSE, "Drew Feltham"),
    "bedside_nurse3": (Role.BEDSIDE_NURSE, "Ellis Varga"),
    "bedside_nurse4": (Role.BEDSIDE_NURSE, "Frankie Osei"),
    "surgeon": (Role.SURGEON, "Mr Taylor Brandt"),
    "cardiologist": (Role.CARDIOLOGIST, "Dr Rowan Mistry"),
    "pharmacist": (Role.PHARMACIST, "Quinn Adebayo"),
    "physiotherapist": (Role.PHYSIOTHERAPIST, "Avery Koh"),
    "director": (Role.DIRECTOR, "Dr Harper Lindqvist"),
    "quality": (Role.QUALITY, "Reese Calder"),
    "researcher": (Role.RESEARCHER, "Dr Skyler Novak"),
    "auditor": (Role.AUDITOR, "Emerson Tate"),
    "admin": (Role.ADMIN, "Kai Rutherford"),
}

CATALOGUE = [
    (ComponentKind.CONSOLE, "Generic", "Console C", None),
    (ComponentKind.PUMP_HEAD, "Generic", "Centrifugal pump head B", None),
    (ComponentKind.OXYGENATOR, "Generic", "Oxygenator A (PMP 1.8 m²)", 7.0),
    (ComponentKind.TUBING_PACK, "Generic", "3/8 in tubing pack", None),
    (ComponentKind.HEATER, "Generic", "Heater-cooler H", None),
]


def _user(ctx: DemoContext, username: str, full_name: str) -> Any:
    first, _, last = full_name.rpartition(" ")
    user = get_user_model().objects.create_user(
        username=username,
        password=ctx.password,
        first_name=first,
        last_name=last,
        email=f"{username}@demo.invalid",
    )
    ctx.users[username] = user
    return user


def seed(ctx: DemoContext) -> None:
    program = Program.objects.create(name="Demo", time_zone="Europe/London", is_demo=True)
    ctx.program = program
    icu = Unit.objects.create(program=program, name="Cardiothoracic ICU")
    Unit.objects.create(program=program, name="Mobile ECMO retrieval")
    admin_user = _user(ctx, "admin", STAFF["admin"][1])
    for username, (role, name) in STAFF.items():
        user = ctx.users.get(username) or _user(ctx, username, name)
        m = Membership.objects.create(user=user, program=program, role=role, unit=icu)
        append(actor=admin_user, action="membership.added", obj=m, after=snapshot(m))
    # The admin screens (catalogue, memberships, audit trail) are for roles holding those actions; the admin
    # itself checks the program matrix, is_staff only lets them in.
    get_user_model().objects.filter(
        username__in=["admin", "director", "perfusionist", "quality", "auditor"]
    ).update(is_staff=True)
    elsewhere = Program.objects.create(name=OUTSIDER_PROGRAM, time_zone="Europe/London", is_demo=True)
    outsider = _user(ctx, "outsider", "Alex Outsider")
    Membership.objects.create(user=outsider, program=elsewhere, role=Role.PERFUSIONIST)
    catalogue = {
        kind: CatalogueItem.objects.create(kind=kind, maker=maker, model=model, rated_flow_l_min=rated)
        for kind, maker, model, rated in CATALOGUE
    }
    ctx.catalogue = catalogue  # type: ignore[attr-defined]

    perf = ctx.users["perfusionist"]
    ctx.n_day.update({"DEMO-0001": 6, "DEMO-0002": 4, "DEMO-0003": 7, "DEMO-0004": 12, "DEMO-0005": 30})

    def circuit(run: EcmoRun, code: str, stamp: str, oxy_lot: str, head_lot: str, console: str) -> None:
        at = ctx.at(code, stamp)
        for kind, lot, serial in [
            (ComponentKind.CONSOLE, "", console),
            (ComponentKind.PUMP_HEAD, head_lot, ""),
            (ComponentKind.OXYGENATOR, oxy_lot, ""),
            (ComponentKind.TUBING_PACK, f"DEMO-TUB-{oxy_lot[-4:]}", ""),
            (ComponentKind.HEATER, "", f"DEMO-HC-{console[-2:]}"),
        ]:
            item = catalogue[kind]
            actions.install_component(
                actor=perf,
                run=run,
                kind=kind,
                maker="",
                model="",
                catalogue_item=item,
                lot=lot,
                serial=serial,
                installed_at=at,
            )

    # Run 1: V-V, influenza A ARDS; retrieved by road; oxygenator changed on day N (D6).
    r1 = actions.start_run(
        actor=perf,
        program=program,
        patient_code="DEMO-0001",
        sex="male",
        birth_year=ctx.clock.day_n.year - 52,
        indication="respiratory",
        indication_detail="Influenza A ARDS",
        mode="vv",
        started_at=ctx.at("DEMO-0001", "D0 10:05"),
        weight_kg=96,
        height_cm=178,
        location="CICU bed 4",
        console_serial="DEMO-CON-04",
        identifiers={"name": "Demo Patient One", "mrn": "DEMO-MRN-100001"},
    )
    actions.add_cannula(
        actor=perf,
        run=r1,
        purpose="drainage",
        site="right_femoral_vein",
        size_fr=25,
        length_cm=55,
        tip_position="IVC/RA junction",
        maker_model="multistage",
        inserted_at=ctx.at("DEMO-0001", "D0 09:40"),
    )
    actions.add_cannula(
        actor=perf,
        run=r1,
        purpose="return",
        site="right_internal_jugular",
        size_fr=21,
        tip_position="SVC/RA junction",
        inserted_at=ctx.at("DEMO-0001", "D0 09:55"),
    )
    circuit(r1, "DEMO-0001", "D0 10:05", "DEMO-OXA-0412", "DEMO-PHB-0198", "DEMO-CON-04")
    actions.set_target(
        actor=ctx.users["intensivist"],
        run=r1,
        parameter="anti_xa_iu_ml",
        low=0.30,
        high=0.50,
        agent="ufh",
        effective_from=ctx.at("DEMO-0001", "D0 10:05"),
        note="UFH 18 U/kg/h on adjusted weight 82.4 kg",
    )

    # Run 2: V-A for AMI shock, Impella CP for LV unloading (ECPELLA).
    cardio = ctx.users["cardiologist"]
    r2 = actions.start_run(
        actor=perf,
        program=program,
        patient_code="DEMO-0002",
        sex="male",
        birth_year=ctx.clock.day_n.year - 58,
        indication="cardiac",
        indication_detail="Anterior STEMI, cardiogenic shock",
        mode="va",
        started_at=ctx.at("DEMO-0002", "D0 14:10"),
        weight_kg=92,
        height_cm=178,
        location="CICU bed 6",
        console_serial="DEMO-CON-06",
        identifiers={"name": "Demo Patient Two", "mrn": "DEMO-MRN-100002"},
    )
    actions.add_cannula(
        actor=perf,
        run=r2,
        purpose="drainage",
        site="right_femoral_vein",
        size_fr=25,
        tip_position="RA",
        inserted_at=ctx.at("DEMO-0002", "D0 14:00"),
    )
    actions.add_cannula(
        actor=perf,
        run=r2,
        purpose="return",
        site="left_femoral_artery",
        size_fr=17,
        inserted_at=ctx.at("DEMO-0002", "D0 14:10"),
    )
    actions.add_cannula(
        actor=perf,
        run=r2,
        purpose="distal_perfusion",
        site="left_superficial_femoral_artery",
        size_fr=7,
        inserted_at=ctx.at("DEMO-0002", "D0 15:55"),
    )
    circuit(r2, "DEMO-0002", "D0 14:10", "DEMO-OXA-0430", "DEMO-PHB-0205", "DEMO-CON-06")
    impella = actions.add_mcs_device(
        actor=cardio,
        run=r2,
        kind="impella",
        model="Impella CP",
        site="right femoral artery",
        inserted_at=ctx.at("DEMO-0002", "D0 19:35"),
        notes="LV unloading: pulse pressure 6, aortic valve closed",
    )
    for stamp, level, flow in [
        ("D0 20:00", 6, 2.1),
        ("D1 06:00", 5, 1.9),
        ("D2 06:00", 4, 1.6),
        ("D3 06:00", 4, 1.8),
        ("D4 06:00", 3, 1.4),
    ]:
        actions.record_mcs_setting(
            actor=perf,
            device=impella,
            at=ctx.at("DEMO-0002", stamp),
            impella_p_level=level,
            flow_l_min=flow,
            note="purge heparin counted in the total",
        )
    actions.set_target(
        actor=ctx.users["intensivist"],
        run=r2,
        parameter="anti_xa_iu_ml",
        low=0.30,
        high=0.70,
        agent="ufh",
        effective_from=ctx.at("DEMO-0002", "D0 20:00"),
    )

    # Run 3: ECPR after in-hospital VF arrest; pump-head thrombus and change on D5.
    r3 = actions.start_run(
        actor=perf,
        program=program,
        patient_code="DEMO-0003",
        sex="male",
        birth_year=ctx.clock.day_n.year - 49,
        indication="ecpr",
        indication_detail="Witnessed in-hospital VF arrest, NSTEMI",
        mode="va",
        started_at=ctx.at("DEMO-0003", "D0 02:49"),
        weight_kg=84,
        height_cm=176,
        location="CICU bed 2",
        console_serial="DEMO-CON-02",
        identifiers={"name": "Demo Patient Three", "mrn": "DEMO-MRN-100003"},
    )
    actions.add_cannula(
        actor=perf,
        run=r3,
        purpose="drainage",
        site="right_femoral_vein",
        size_fr=25,
        inserted_at=ctx.at("DEMO-0003", "D0 02:44"),
    )
    actions.add_cannula(
        actor=perf,
        run=r3,
        purpose="return",
        site="left_femoral_artery",
        size_fr=17,
        inserted_at=ctx.at("DEMO-0003", "D0 02:44"),
    )
    actions.add_cannula(
        actor=perf,
        run=r3,
        purpose="distal_perfusion",
        site="left_superficial_femoral_artery",
        size_fr=7,
        inserted_at=ctx.at("DEMO-0003", "D0 04:40"),
    )
    circuit(r3, "DEMO-0003", "D0 02:49", "DEMO-OXA-0455", "DEMO-PHB-0221", "DEMO-CON-02")
    actions.set_target(
        actor=ctx.users["intensivist"],
        run=r3,
        parameter="anti_xa_iu_ml",
        low=0.30,
        high=0.70,
        agent="ufh",
        effective_from=ctx.at("DEMO-0003", "D0 04:00"),
    )
    actions.install_component(
        actor=perf,
        run=r3,
        kind=ComponentKind.PUMP_HEAD,
        maker="",
        model="",
        catalogue_item=catalogue[ComponentKind.PUMP_HEAD],
        lot="DEMO-PHB-0348",
        installed_at=ctx.at("DEMO-0003", "D5 14:32"),
        reason_replaced="pump-head thrombus: flow per rpm -21 %, pfHb 62 mg/dL",
    )

    # Run 4: V-V, dual-lumen; weaning (sweep-off trial passed on day N = D12).
    r4 = actions.start_run(
        actor=perf,
        program=program,
        patient_code="DEMO-0004",
        sex="female",
        birth_year=ctx.clock.day_n.year - 36,
        indication="respiratory",
        indication_detail="Pneumococcal pneumonia ARDS",
        mode="vv",
        started_at=ctx.at("DEMO-0004", "D0 16:40"),
        weight_kg=70,
        height_cm=165,
        location="CICU bed 9",
        console_serial="DEMO-CON-09",
        identifiers={"name": "Demo Patient Four", "mrn": "DEMO-MRN-100004"},
    )
    actions.add_cannula(
        actor=perf,
        run=r4,
        purpose="dual_lumen",
        site="right_internal_jugular",
        size_fr=31,
        length_cm=15,
        tip_position="depth 15 cm at skin; return jet to tricuspid valve (TOE)",
        inserted_at=ctx.at("DEMO-0004", "D0 16:30"),
    )
    circuit(r4, "DEMO-0004", "D0 16:40", "DEMO-OXA-0391", "DEMO-PHB-0180", "DEMO-CON-09")
    actions.set_target(
        actor=ctx.users["intensivist"],
        run=r4,
        parameter="aptt_s",
        low=45,
        high=65,
        agent="bivalirudin",
        effective_from=ctx.at("DEMO-0004", "D0 16:40"),
        note="bivalirudin 0.04 mg/kg/h",
    )

    # Run 5: V-A for fulminant myocarditis; weaned and decannulated D7; home D24.
    r5 = actions.start_run(
        actor=perf,
        program=program,
        patient_code="DEMO-0005",
        sex="female",
        birth_year=ctx.clock.day_n.year - 29,
        indication="cardiac",
        indication_detail="Fulminant myocarditis",
        mode="va",
        started_at=ctx.at("DEMO-0005", "D0 21:15"),
        weight_kg=62,
        height_cm=168,
        location="CICU bed 1",
        console_serial="DEMO-CON-01",
        identifiers={"name": "Demo Patient Five", "mrn": "DEMO-MRN-100005"},
    )
    for purpose, site, size in [
        ("drainage", "right_femoral_vein", 23),
        ("return", "left_femoral_artery", 15),
        ("distal_perfusion", "left_superficial_femoral_artery", 6),
    ]:
        actions.add_cannula(
            actor=perf,
            run=r5,
            purpose=purpose,
            site=site,
            size_fr=size,
            inserted_at=ctx.at("DEMO-0005", "D0 21:15"),
        )
    circuit(r5, "DEMO-0005", "D0 21:15", "DEMO-OXA-0377", "DEMO-PHB-0170", "DEMO-CON-01")
    actions.set_target(
        actor=ctx.users["intensivist"],
        run=r5,
        parameter="aptt_s",
        low=60,
        high=80,
        agent="ufh",
        effective_from=ctx.at("DEMO-0005", "D0 22:00"),
    )

    ctx.runs.update({"DEMO-0001": r1, "DEMO-0002": r2, "DEMO-0003": r3, "DEMO-0004": r4, "DEMO-0005": r5})
    # Run 1's oxygenator change and run 5's decannulation come after the steps that record what led to them
    # (telemetry, alerts, decisions); see finish().
    finish(ctx)


def finish(ctx: DemoContext) -> None:
    perf = ctx.users["perfusionist"]
    r1, r5 = ctx.runs["DEMO-0001"], ctx.runs["DEMO-0005"]
    actions.install_component(
        actor=perf,
        run=r1,
        kind=ComponentKind.OXYGENATOR,
        maker="",
        model="",
        catalogue_item=ctx.catalogue[ComponentKind.OXYGENATOR],  # type: ignore[attr-defined]
        lot="DEMO-OXA-0587",
        installed_at=ctx.at("DEMO-0001", "D6 14:22:20"),
        reason_replaced="planned – rising resistance (ΔP/Q +57 %)",
    )
    actions.end_run(
        actor=ctx.users["surgeon"],
        run=r5,
        ended_at=ctx.at("DEMO-0005", "D7 10:42"),
        outcome=Outcome.WEANED,
        reason="improved: weaning trial passed D6; decannulated in theatre",
    )
    r5.survived_to_discharge = True
    r5.save(update_fields=["survived_to_discharge"])
