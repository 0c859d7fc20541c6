"""Base demo step: the program, one user per role, the five synthetic runs with cannulas, circuit components
(with lots and changes) and concurrent MCS. The values are data (``demo/story/program.toml`` and each run's
``DEMO-000N.toml``), following shared/clinical/demo-scenarios.md."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from ecmo_web.accounts.models import Membership, Program, Unit
from ecmo_web.audit.chain import append, snapshot
from ecmo_web.demo import story
from ecmo_web.demo.seed import DemoContext
from ecmo_web.runs import actions
from ecmo_web.runs.models import CatalogueItem, ComponentKind

# username → (role, display name), from the data file; the seed-demo command lists these after loading.
STAFF: dict[str, tuple[str, str]] = {
    username: (role, name) for username, (role, name) in story.load("program")["staff"].items()
}

# (kind, maker, model, rated flow L/min or None): what the demo adds to the device catalogue (seed-demo's refusal
# check recognises these rows as the demo's own).
CATALOGUE: list[tuple[str, str, str, float | None]] = [
    (kind, maker, model, rated or None)
    for kind, (maker, model, rated) in story.load("program")["catalogue"].items()
]


# The assigning authority (HL7 PID-3.4) of the demo MRNs: the listener matches an MRN only within it.
DEMO_MRN_AUTHORITY = "DEMO-HOSP"


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
    data = story.load("program")
    staff: dict[str, list[str]] = data["staff"]
    program = Program.objects.create(
        name=data["program"]["name"], time_zone=data["program"]["time_zone"], is_demo=True
    )
    ctx.program = program
    icu, *other_units = data["program"]["units"]
    icu = Unit.objects.create(program=program, name=icu)
    for name in other_units:
        Unit.objects.create(program=program, name=name)
    admin_user = _user(ctx, "admin", staff["admin"][1])
    for username, (role, name) in staff.items():
        user = ctx.users.get(username) or _user(ctx, username, name)
        m = Membership.objects.create(user=user, program=program, role=role, unit=icu)
        append(actor=admin_user, action="membership.added", obj=m, after=snapshot(m))
    # The admin screens (catalogue, memberships, audit trail) are for roles holding those actions; the admin
    # itself checks the program matrix, is_staff only lets them in.
    get_user_model().objects.filter(username__in=data["program"]["staff_screens"]).update(is_staff=True)
    outsider_spec = data["outsider"]
    elsewhere = Program.objects.create(
        name=outsider_spec["program"], time_zone=data["program"]["time_zone"], is_demo=True
    )
    outsider = _user(ctx, outsider_spec["username"], outsider_spec["name"])
    Membership.objects.create(user=outsider, program=elsewhere, role=outsider_spec["role"])
    catalogue = {
        kind: CatalogueItem.objects.create(kind=kind, maker=maker, model=model, rated_flow_l_min=rated)
        for kind, maker, model, rated in CATALOGUE
    }
    ctx.catalogue = catalogue  # type: ignore[attr-defined]

    perf = ctx.users["perfusionist"]
    for run_story in story.runs():
        spec = run_story["patient"]
        code = spec["code"]
        ctx.n_day[code] = spec["n_day"]
        run = actions.start_run(
            actor=perf, program=program, patient_code=code, sex=spec["sex"],
            birth_year=ctx.clock.day_n.year - spec["age"], indication=spec["indication"],
            indication_detail=spec["diagnosis"], mode=spec["mode"], started_at=ctx.at(code, spec["flow"]),
            weight_kg=spec["weight_kg"], height_cm=spec["height_cm"], location=spec["bed"],
            console_serial=spec["console"], identifiers=dict(spec["identifiers"]),
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
        target = spec["target"]
        actions.set_target(
            actor=ctx.users["intensivist"],
            run=run,
            parameter=target["parameter"],
            low=target["low"],
            high=target["high"],
            agent=target["agent"],
            effective_from=ctx.at(code, target["from"]),
            note=target["note"],
        )

    for run_story in story.runs():
        code = run_story["patient"]["code"]
        for device in run_story.get("story", {}).get("mcs_devices", []):
            mcs = actions.add_mcs_device(
                actor=ctx.users[device["by"]], run=ctx.runs[code], kind=device["kind"], model=device["model"],
                site=device["site"], inserted_at=ctx.at(code, device["inserted_at"]), notes=device["notes"],
            )  # fmt: skip
            for stamp, level, flow in device["settings"]:
                actions.record_mcs_setting(
                    actor=perf,
                    device=mcs,
                    at=ctx.at(code, stamp),
                    impella_p_level=level,
                    flow_l_min=flow,
                    note=device["setting_note"],
                )
    # Component changes and the end of a run (run 1's oxygenator change, run 3's pump head, run 5's decannulation).
    for run_story in story.runs():
        code = run_story["patient"]["code"]
        for change in run_story.get("story", {}).get("component_changes", []):
            actions.install_component(
                actor=perf, run=ctx.runs[code], kind=change["kind"], maker="", model="",
                catalogue_item=catalogue[change["kind"]], lot=change["lot"],
                installed_at=ctx.at(code, change["at"]), reason_replaced=change["reason"],
            )  # fmt: skip
        end = run_story.get("story", {}).get("end")
        if end:
            run = ctx.runs[code]
            actions.end_run(
                actor=ctx.users[end["by"]],
                run=run,
                ended_at=ctx.at(code, end["at"]),
                outcome=end["outcome"],
                reason=end["reason"],
            )
            if end.get("survived_to_discharge") is not None:
                actions.record_discharge(
                    actor=ctx.users[end["by"]], run=run, survived_to_discharge=end["survived_to_discharge"]
                )
