"""Demo step: a second synthetic program in SI units (kPa, g/L, 10⁹/L), so the demo shows one program in each
convention. "Demo" keeps the US convention (mmHg, g/dL, mg/dL, 10³/µL); "Demo (SI units)" has one VV run with
six hours of console telemetry, a blood gas, morning labs and target bands: gases in kPa, Hb and fibrinogen in
g/L, platelets in 10⁹/L, circuit pressures and blood pressure in mmHg (as a UK unit charts them).
"""

from __future__ import annotations

import datetime as dt
import random

from django.contrib.auth import get_user_model

from ecmo_web.accounts.models import Membership, Program, Role
from ecmo_web.audit.chain import append, snapshot
from ecmo_web.demo.seed import DEMO_EMAIL_DOMAIN, SI_DEMO_PROGRAM, DemoContext
from ecmo_web.runs import actions as run_actions
from ecmo_web.surveillance import actions

# Its own staff (the "Demo" personas keep landing on "Demo"): username → (role, display name).
MEMBERS = {
    "si_perfusionist": (Role.PERFUSIONIST, "Alex Kerr"),
    "si_intensivist": (Role.INTENSIVIST, "Dr Jamie Rennie"),
    "si_nurse": (Role.BEDSIDE_NURSE, "Morgan Baird"),
}
STEADY = {
    "blood_flow_l_min": 4.2,
    "pump_speed_rpm": 3350.0,
    "access_pressure_mmhg": -55.0,
    "pre_oxygenator_pressure_mmhg": 240.0,
    "post_oxygenator_pressure_mmhg": 218.0,
    "sweep_gas_l_min": 3.5,
    "fdo2": 0.7,
    "pre_oxygenator_so2": 0.68,
    "post_oxygenator_so2": 0.995,
    "blood_temperature_c": 36.8,
    "mean_arterial_pressure_mmhg": 74.0,
    "heart_rate_per_min": 96.0,
    "spo2": 0.93,
}


def seed(ctx: DemoContext) -> None:
    program = Program.objects.create(
        name=SI_DEMO_PROGRAM,
        time_zone="Europe/London",
        is_demo=True,
        pressure_unit="kPa",  # blood gases in kPa, as UK units chart them
        circuit_pressure_unit="mmHg",  # the console's circuit pressures stay mmHg (ecmo_core.units)
        hemoglobin_unit="g/L",
        fibrinogen_unit="g/L",
        platelet_unit="10⁹/L",
    )
    admin = ctx.users["admin"]
    for username, (role, name) in MEMBERS.items():
        first, _, last = name.rpartition(" ")
        user = get_user_model().objects.create_user(
            username=username, password=ctx.password, first_name=first, last_name=last,
            email=f"{username}{DEMO_EMAIL_DOMAIN}",
        )  # fmt: skip
        ctx.users[username] = user
        m = Membership.objects.create(user=user, program=program, role=role)
        append(actor=admin, action="membership.added", obj=m, after=snapshot(m))
    perf, intensivist = ctx.users["si_perfusionist"], ctx.users["si_intensivist"]
    started = ctx.now - dt.timedelta(days=2, hours=3)
    run = run_actions.start_run(
        actor=perf, program=program, patient_code="DEMO-SI-01", sex="female", birth_year=ctx.now.year - 47,
        indication="respiratory", indication_detail="Influenza A pneumonia, ARDS", mode="vv",
        started_at=started, weight_kg=68, height_cm=165, location="ICU bed 4", identifiers={},
    )  # fmt: skip
    run_actions.set_target(
        actor=intensivist, run=run, parameter="mean_arterial_pressure_mmhg",
        low=65, high=90, effective_from=started,
    )  # fmt: skip
    run_actions.set_target(
        actor=intensivist, run=run, parameter="blood_flow_l_min",
        low=3.8, high=4.8, effective_from=started,
    )  # fmt: skip
    noise = random.Random(11)  # fixed seed: the same demo every time
    samples = []
    t = ctx.now - dt.timedelta(hours=6)
    while t <= ctx.now - dt.timedelta(minutes=1):
        for parameter, value in STEADY.items():
            jitter = {
                "blood_flow_l_min": 0.05,
                "pump_speed_rpm": 20,
                "access_pressure_mmhg": 3,
                "heart_rate_per_min": 4,
            }.get(parameter, 0)
            samples.append(
                {
                    "parameter": parameter,
                    "value": round(value + noise.uniform(-jitter, jitter), 3),
                    "observed_at": t.isoformat(),
                }
            )
        t += dt.timedelta(minutes=3)
    actions.ingest_samples(actor_or_system=perf, run=run, samples=samples, source="console", now=ctx.now)
    morning = ctx.now - dt.timedelta(hours=2)
    labs = {
        "hemoglobin_g_dl": 9.4,  # 94 g/L
        "fibrinogen_mg_dl": 310.0,  # 3.10 g/L
        "platelets_10e3_ul": 142.0,  # 142 × 10⁹/L
        "post_oxygenator_po2_mmhg": 412.0,  # 54.9 kPa
        "post_oxygenator_pco2_mmhg": 34.0,  # 4.5 kPa
        "arterial_po2_mmhg": 68.0,  # 9.1 kPa
        "arterial_pco2_mmhg": 44.0,  # 5.9 kPa
    }
    actions.ingest_samples(
        actor_or_system=perf,
        run=run,
        samples=[{"parameter": p, "value": v, "observed_at": morning.isoformat()} for p, v in labs.items()],
        source="lab",
        kind="manual",
        now=ctx.now,
    )
    ctx.runs["DEMO-SI-01"] = run
