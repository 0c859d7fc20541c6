"""Base demo step: the program, one user per role, the five synthetic runs with cannulas, circuit components
(with lots and changes) and concurrent MCS. Values follow shared/clinical/demo-scenarios.md."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from ecmo_web.accounts.models import Membership, Program, Role, Unit
from ecmo_web.audit.chain import append, snapshot
from ecmo_web.demo.seed import OUTSIDER_PROGRAM, DemoContext
from ecmo_web.runs import actions
from ecmo_web.runs.models import CatalogueItem, ComponentKind, Outcome

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


def _cannula(purpose: str, site: str, size_fr: int, inserted_at: str, **extra: Any) -> dict[str, Any]:
    return {"purpose": purpose, "site": site, "size_fr": size_fr, "inserted_at": inserted_at, **extra}


# The assigning authority (HL7 PID-3.4) of the demo MRNs: the listener matches an MRN only within it.
DEMO_MRN_AUTHORITY = "DEMO-HOSP"

# The five synthetic runs of shared/clinical/demo-scenarios.md. ``n_day``: which run day is the seed day N;
# times are "Dk HH:MM" on the run, program-local. ``target``: (parameter, low, high, agent, from, note).
RUNS: list[dict[str, Any]] = [
    {"code": "DEMO-0001", "n_day": 6, "sex": "male", "age": 52, "indication": "respiratory",
     "diagnosis": "Influenza A ARDS", "mode": "vv", "flow": "D0 10:05", "weight_kg": 96, "height_cm": 178,
     "bed": "CICU bed 4", "console": "DEMO-CON-04", "oxygenator_lot": "DEMO-OXA-0412",
     "pump_head_lot": "DEMO-PHB-0198",
     "identifiers": {"name": "Demo Patient One", "mrn": "DEMO-MRN-100001"},
     "cannulas": [_cannula("drainage", "right_femoral_vein", 25, "D0 09:40", length_cm=55,
                           tip_position="IVC/RA junction", maker_model="multistage"),
                  _cannula("return", "right_internal_jugular", 21, "D0 09:55", tip_position="SVC/RA junction")],
     "target": ("anti_xa_iu_ml", 0.30, 0.50, "ufh", "D0 10:05", "UFH 18 U/kg/h on adjusted weight 82.4 kg")},
    {"code": "DEMO-0002", "n_day": 4, "sex": "male", "age": 58, "indication": "cardiac",
     "diagnosis": "Anterior STEMI, cardiogenic shock", "mode": "va", "flow": "D0 14:10", "weight_kg": 92,
     "height_cm": 178, "bed": "CICU bed 6", "console": "DEMO-CON-06", "oxygenator_lot": "DEMO-OXA-0430",
     "pump_head_lot": "DEMO-PHB-0205",
     "identifiers": {"name": "Demo Patient Two", "mrn": "DEMO-MRN-100002"},
     "cannulas": [_cannula("drainage", "right_femoral_vein", 25, "D0 14:00", tip_position="RA"),
                  _cannula("return", "left_femoral_artery", 17, "D0 14:10"),
                  _cannula("distal_perfusion", "left_superficial_femoral_artery", 7, "D0 15:55")],
     "target": ("anti_xa_iu_ml", 0.30, 0.70, "ufh", "D0 20:00", "")},
    {"code": "DEMO-0003", "n_day": 7, "sex": "male", "age": 49, "indication": "ecpr",
     "diagnosis": "Witnessed in-hospital VF arrest, NSTEMI", "mode": "va", "flow": "D0 02:49", "weight_kg": 84,
     "height_cm": 176, "bed": "CICU bed 2", "console": "DEMO-CON-02", "oxygenator_lot": "DEMO-OXA-0455",
     "pump_head_lot": "DEMO-PHB-0221",
     "identifiers": {"name": "Demo Patient Three", "mrn": "DEMO-MRN-100003"},
     "cannulas": [_cannula("drainage", "right_femoral_vein", 25, "D0 02:44"),
                  _cannula("return", "left_femoral_artery", 17, "D0 02:44"),
                  _cannula("distal_perfusion", "left_superficial_femoral_artery", 7, "D0 04:40")],
     "target": ("anti_xa_iu_ml", 0.30, 0.70, "ufh", "D0 04:00", "")},
    {"code": "DEMO-0004", "n_day": 12, "sex": "female", "age": 36, "indication": "respiratory",
     "diagnosis": "Pneumococcal pneumonia ARDS", "mode": "vv", "flow": "D0 16:40", "weight_kg": 70,
     "height_cm": 165, "bed": "CICU bed 9", "console": "DEMO-CON-09", "oxygenator_lot": "DEMO-OXA-0391",
     "pump_head_lot": "DEMO-PHB-0180",
     "identifiers": {"name": "Demo Patient Four", "mrn": "DEMO-MRN-100004"},
     "cannulas": [_cannula("dual_lumen", "right_internal_jugular", 31, "D0 16:30", length_cm=15,
                           tip_position="depth 15 cm at skin; return jet to tricuspid valve (TOE)")],
     "target": ("aptt_s", 45, 65, "bivalirudin", "D0 16:40", "bivalirudin 0.04 mg/kg/h")},
    {"code": "DEMO-0005", "n_day": 30, "sex": "female", "age": 29, "indication": "cardiac",
     "diagnosis": "Fulminant myocarditis", "mode": "va", "flow": "D0 21:15", "weight_kg": 62, "height_cm": 168,
     "bed": "CICU bed 1", "console": "DEMO-CON-01", "oxygenator_lot": "DEMO-OXA-0377",
     "pump_head_lot": "DEMO-PHB-0170",
     "identifiers": {"name": "Demo Patient Five", "mrn": "DEMO-MRN-100005"},
     "cannulas": [_cannula("drainage", "right_femoral_vein", 23, "D0 21:15"),
                  _cannula("return", "left_femoral_artery", 15, "D0 21:15"),
                  _cannula("distal_perfusion", "left_superficial_femoral_artery", 6, "D0 21:15")],
     "target": ("aptt_s", 60, 80, "ufh", "D0 22:00", "")},
]  # fmt: skip


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
    for spec in RUNS:
        code = spec["code"]
        ctx.n_day[code] = spec["n_day"]
        run = actions.start_run(
            actor=perf, program=program, patient_code=code, sex=spec["sex"],
            birth_year=ctx.clock.day_n.year - spec["age"], indication=spec["indication"],
            indication_detail=spec["diagnosis"], mode=spec["mode"], started_at=ctx.at(code, spec["flow"]),
            weight_kg=spec["weight_kg"], height_cm=spec["height_cm"], location=spec["bed"],
            console_serial=spec["console"], identifiers=spec["identifiers"],
            identifier_authority=DEMO_MRN_AUTHORITY,
        )  # fmt: skip
        ctx.runs[code] = run
        for cannula in spec["cannulas"]:
            actions.add_cannula(
                actor=perf, run=run, **{**cannula, "inserted_at": ctx.at(code, cannula["inserted_at"])}
            )
        at = ctx.at(code, spec["flow"])
        oxy_lot, console = spec["oxygenator_lot"], spec["console"]
        for kind, lot, serial in [
            (ComponentKind.CONSOLE, "", console),
            (ComponentKind.PUMP_HEAD, spec["pump_head_lot"], ""),
            (ComponentKind.OXYGENATOR, oxy_lot, ""),
            (ComponentKind.TUBING_PACK, f"DEMO-TUB-{oxy_lot[-4:]}", ""),
            (ComponentKind.HEATER, "", f"DEMO-HC-{console[-2:]}"),
        ]:
            actions.install_component(
                actor=perf,
                run=run,
                kind=kind,
                maker="",
                model="",
                catalogue_item=catalogue[kind],
                lot=lot,
                serial=serial,
                installed_at=at,
            )
        parameter, low, high, agent, stamp, note = spec["target"]
        actions.set_target(
            actor=ctx.users["intensivist"],
            run=run,
            parameter=parameter,
            low=low,
            high=high,
            agent=agent,
            effective_from=ctx.at(code, stamp),
            note=note,
        )

    # Run 2: Impella CP for LV unloading (ECPELLA), weaned by P-level.
    impella = actions.add_mcs_device(
        actor=ctx.users["cardiologist"], run=ctx.runs["DEMO-0002"], kind="impella", model="Impella CP",
        site="right femoral artery", inserted_at=ctx.at("DEMO-0002", "D0 19:35"),
        notes="LV unloading: pulse pressure 6, aortic valve closed",
    )  # fmt: skip
    for stamp, level, flow in [("D0 20:00", 6, 2.1), ("D1 06:00", 5, 1.9), ("D2 06:00", 4, 1.6),
                               ("D3 06:00", 4, 1.8), ("D4 06:00", 3, 1.4)]:  # fmt: skip
        actions.record_mcs_setting(
            actor=perf,
            device=impella,
            at=ctx.at("DEMO-0002", stamp),
            impella_p_level=level,
            flow_l_min=flow,
            note="purge heparin counted in the total",
        )
    # Run 3: the pump head is changed on D5 for thrombus (haemolysis, flow per rpm falling).
    actions.install_component(
        actor=perf, run=ctx.runs["DEMO-0003"], kind=ComponentKind.PUMP_HEAD, maker="", model="",
        catalogue_item=catalogue[ComponentKind.PUMP_HEAD], lot="DEMO-PHB-0348",
        installed_at=ctx.at("DEMO-0003", "D5 14:32"),
        reason_replaced="pump-head thrombus: flow per rpm -21 %, pfHb 62 mg/dL",
    )  # fmt: skip
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
