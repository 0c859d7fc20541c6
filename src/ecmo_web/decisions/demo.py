"""Demo step: the decisions of the five demo runs (shared/clinical/demo-scenarios.md §1–5, §8), with who took part
in what role, who decided and the dissent; the weaning trials, the decannulation checklists, the retrieval with its
legs and O2 numbers, the mobilisation session, and the Impella checks. Everything goes through the same actions as
the app, so the demo has a real audit trail.
"""

from __future__ import annotations

from typing import Any

from ecmo_core.pathways import AMBULATION_FLAGS
from ecmo_web.decisions import actions
from ecmo_web.decisions.models import Decision
from ecmo_web.demo.seed import DemoContext
from ecmo_web.runs.models import Component, EcmoRun, RunTarget

RESP_RUN1 = {
    "age_years": 52,
    "immunocompromised": False,
    "ventilation_hours_before_ecmo": 30,
    "diagnosis": "viral_pneumonia",
    "cns_dysfunction": False,
    "nonpulmonary_infection": False,
    "neuromuscular_blockade": True,
    "inhaled_nitric_oxide": True,
    "bicarbonate_infusion": False,
    "cardiac_arrest": False,
    "paco2_mmhg": 72,
    "peak_inspiratory_pressure_cmh2o": 36,
}
RESP_RUN4 = {
    "age_years": 36,
    "immunocompromised": False,
    "ventilation_hours_before_ecmo": 52,
    "diagnosis": "bacterial_pneumonia",
    "cns_dysfunction": False,
    "nonpulmonary_infection": False,
    "neuromuscular_blockade": True,
    "inhaled_nitric_oxide": False,
    "bicarbonate_infusion": False,
    "cardiac_arrest": False,
    "paco2_mmhg": 68,
    "peak_inspiratory_pressure_cmh2o": 38,
}


def _people(ctx: DemoContext, *names: str, contribution: str = "took part") -> list[dict[str, Any]]:
    return [{"user": ctx.users[n].pk, "contribution": contribution} for n in names]


def _target(run: EcmoRun, parameter: str) -> list[int]:
    return list(RunTarget.objects.filter(run=run, parameter=parameter).values_list("pk", flat=True)[:1])


def _alerts(run: EcmoRun, *rule_ids: str) -> list[int]:
    from ecmo_web.surveillance.models import Alert

    return list(
        Alert.objects.filter(run=run, rule_id__in=rule_ids).order_by("opened_at").values_list("pk", flat=True)
    )


def _component(run: EcmoRun, lot: str) -> Component | None:
    return Component.objects.filter(circuit__run=run, lot=lot).first()


def seed(ctx: DemoContext) -> None:
    run1(ctx)
    run2(ctx)
    run3(ctx)
    run4(ctx)
    run5(ctx)


def run1(ctx: DemoContext) -> None:
    code, run, u = "DEMO-0001", ctx.runs["DEMO-0001"], ctx.users
    at = lambda stamp: ctx.at(code, stamp)  # noqa: E731
    call = actions.create_session(
        actor=u["intensivist"],
        program=run.program,
        kind="ecmo_call",
        title="Referral: influenza A ARDS (DEMO-0001)",
        started_at=at("D0 06:15"),
        location="phone conference",
        attendees=[{"user": u[n].pk} for n in ("intensivist", "surgeon", "perfusionist", "ecmo_specialist")]
        + [{"name": "Referring intensivist (district hospital)", "role": "referring intensivist"}],
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="candidacy",
        title="V-V ECMO for influenza A ARDS",
        session=call,
        made_at=at("D0 06:30"),
        inputs={
            "P/F": "68 on FiO2 1.0 for 7 h",
            "PEEP / Pplat / PIP": "16 / 32 / 36 cmH2O",
            "VT": "420 mL",
            "pH / PaCO2": "7.22 / 72 mmHg for 4 h",
            "SOFA": "10",
            "Chest X-ray": "4/4 quadrants",
            "Ventilated": "30 h; proned once (16 h); NMB; inhaled NO without effect",
        },
        content={
            "modality": "vv",
            "indications": ["eolia_pf_80_6h", "optimal_care"],
            "pf_ratio_mmhg": 68,
            "pf_hours": 7,
            "arterial_ph": 7.22,
            "paco2_mmhg": 72,
            "hypercapnia_hours": 4,
        },
        calculations=[
            {"calculator": "resp", "arguments": RESP_RUN1},
            {
                "calculator": "preserve",
                "arguments": {
                    "age_years": 52,
                    "bmi_kg_m2": 30.3,
                    "immunocompromised": False,
                    "ventilation_days_before_ecmo": 1.25,
                    "sofa_points": 10,
                    "prone_before_ecmo": True,
                    "peep_cmh2o": 16,
                    "plateau_pressure_cmh2o": 32,
                },
            },
            {
                "calculator": "murray_lung_injury",
                "arguments": {
                    "chest_xray_quadrants": 4,
                    "pf_ratio_mmhg": 68,
                    "peep_cmh2o": 16,
                    "static_compliance_ml_cmh2o": 26.3,
                },
            },
        ],
        options=[
            {
                "label": "V-V ECMO: mobile team cannulates on site, retrieval by road",
                "note": "EOLIA P/F < 80 for > 6 h met; RESP 4 (class II)",
            },
            {"label": "Prone again and continue conventional ventilation", "note": "P/F 68 after one prone"},
        ],
        recommendation="Accept for V-V ECMO. Mobile team to cannulate on site (femoral drainage, jugular return) and "
        "retrieve by road; perfusionist to bring the primed transport circuit and spares.",
        recommended_by=u["intensivist"].pk,
        decided_by=u["intensivist"].pk,
        decided_at=at("D0 06:32"),
    )
    transport = actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="transport",
        title="Primary retrieval by road, 82 km",
        session=call,
        made_at=at("D0 06:35"),
        content={
            "transport_type": "primary",
            "vehicle": "road",
            "origin": "District hospital ICU (82 km)",
            "destination": "CICU bed 4",
            "call_at": at("D0 06:10").isoformat(),
            "team": "2 ECMO consultants (intensivist, surgeon), perfusionist, retrieval nurse",
            "sweep_gas_l_min": 3,
            "ventilator_o2_l_min": 5,
            "oxygen_carried_l": 4360,
            "battery_runtime_min": 90,
        },
        participants=_people(ctx, "surgeon", "perfusionist", "bedside_nurse"),
        recommendation="Depart 07:00 with the primed circuit, backup console and hand crank, 2 × 680 L portable O2 "
        "and the 3,000 L vehicle supply; 2 u RBC.",
        recommended_by=u["perfusionist"].pk,
        decided_by=u["intensivist"].pk,
        decided_at=at("D0 06:35"),
    )
    perf = u["perfusionist"]
    for item in transport.checklist_items.filter(status="pending"):
        actions.mark_checklist_item(
            actor=perf,
            item=item,
            status="done",
            done_at=at("D0 06:55"),
            note="O2: 2 × 680 L portable + 3,000 L vehicle" if item.key == "oxygen" else "",
        )
    actions.complete_checklist(actor=perf, decision=transport, completed_at=at("D0 07:00"))
    for route, dep, arr, planned, cylinder, battery, source in [
        ("Team by road to the referring hospital, 82 km", "D0 07:05", "D0 08:20", None, False, False, "—"),
        ("Cannulation and stabilisation", "D0 09:20", "D0 11:40", None, False, False, "wall"),
        ("ICU → ambulance", "D0 11:45", "D0 11:58", 15, True, True, "2 × 680 L portable"),
        ("Road", "D0 12:05", "D0 13:25", 90, True, False, "3,000 L vehicle"),
        ("Ambulance → ICU", "D0 13:30", "D0 13:42", 15, True, True, "portable"),
    ]:
        actions.add_transport_leg(
            actor=perf,
            decision=transport,
            route=route,
            planned_minutes=planned,
            uses_cylinder_oxygen=cylinder,
            on_battery=battery,
            oxygen_source=source,
            departed_at=at(dep),
            arrived_at=at(arr),
        )
    actions.add_transport_event(
        actor=perf,
        decision=transport,
        at=at("D0 12:48"),
        category="vehicle",
        description="Inverter tripped",
        action_taken="40 s on battery, flow unchanged",
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="modality",
        title="V-V femoro-jugular",
        made_at=at("D0 09:00"),
        content={
            "mode": "vv",
            "lv_unloading": "none",
            "rationale": "Isolated respiratory failure; LV and RV function preserved on echo. Drainage right "
            "femoral 25 Fr multistage, return right internal jugular 21 Fr.",
        },
        participants=_people(ctx, "surgeon", "perfusionist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=perf,
        run=run,
        kind="flow_target",
        title="Blood flow from the V-V model",
        made_at=at("D0 14:00"),
        inputs={
            "SaO2 target": "0.88 (ELSO accepts the high 80s with adequate DO2)",
            "VO2": "about 3 mL/kg/min on 96 kg",
            "Recirculation": "about 0.10 (estimate)",
        },
        content={
            "target_arterial_so2": 0.88,
            "vo2_ml_min": 290,
            "hb_g_dl": 11.8,
            "cardiac_output_l_min": 6.0,
            "recirculation_fraction": 0.10,
            "sweep_gas_l_min_target": 3.0,
            "fdo2_target": 1.0,
            "note": "lung rest: FiO2 0.3–0.6, PEEP ≥ 10, Pplat < 25",
        },
        participants=_people(ctx, "perfusionist", "intensivist"),
        recommended_by=perf.pk,
        recommendation="Run 4.8 L/min (the model's flow for SaO2 0.88); sweep 3 L/min to bring PaCO2 down by no "
        "more than half in 24 h.",
        decided_by=u["intensivist"].pk,
        decided_at=at("D0 14:10"),
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="anticoagulation",
        title="UFH to anti-Xa 0.30–0.50",
        made_at=at("D0 10:05"),
        target_ids=_target(run, "anti_xa_iu_ml"),
        content={
            "agent": "ufh",
            "test": "anti_xa_iu_ml",
            "low": 0.30,
            "high": 0.50,
            "apply_target": False,
            "note": "UFH 18 U/kg/h on adjusted weight 82.4 kg after a 5,000 U bolus",
        },
        participants=_people(ctx, "pharmacist", "perfusionist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="anticoagulation",
        title="Anti-Xa 0.22: heparin up 2 U/kg/h",
        made_at=at("D0 20:15"),
        target_ids=_target(run, "anti_xa_iu_ml"),
        content={
            "agent": "ufh",
            "test": "anti_xa_iu_ml",
            "low": 0.30,
            "high": 0.50,
            "apply_target": False,
            "note": "nomogram: 18 → 20 U/kg/h, recheck in 6 h",
        },
        calculations=[
            {
                "calculator": "titrate",
                "arguments": {"measured_value": 0.22, "current_rate_units_kg_h": 18, "weight_kg": 82.4},
            }
        ],
        participants=_people(ctx, "bedside_nurse", "pharmacist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=perf,
        run=run,
        kind="circuit_change",
        title="Elective oxygenator change after rounds",
        made_at=at("D6 09:40"),
        alert_ids=_alerts(run, "oxygenator.delta_p_rise"),
        component=_component(run, "DEMO-OXA-0587"),
        inputs={
            "Resistance ΔP/Q": "5.23 vs baseline 3.33 (+57 %)",
            "Post-oxygenator PO2": "331 on FdO2 1.0",
            "D-dimer / fibrinogen / platelets": "12.6 / 340 / 108",
            "Inflow fibrin": "4 mm, growing",
        },
        content={
            "reason": "Membrane resistance +57 % with D-dimer rising while fibrinogen and platelets fall "
            "(membrane consumption); gas transfer adequate but drifting.",
            "component_kind": "oxygenator",
            "urgency": "planned",
            "planned_for": at("D6 14:00").isoformat(),
        },
        options=[
            {"label": "Change the oxygenator electively at 14:00", "note": "two perfusionists, spare primed"},
            {"label": "Observe until gas transfer fails", "note": "risk of an emergency change"},
        ],
        recommendation="Change the oxygenator at 14:00 with two perfusionists, < 90 s off flow; new ΔP baseline "
        "over the 6 h after; anti-Xa at 20:00.",
        recommended_by=perf.pk,
        participants=_people(ctx, "perfusionist2", "ecmo_specialist"),
        decided_by=u["intensivist"].pk,
        decided_at=at("D6 09:45"),
    )


def run2(ctx: DemoContext) -> None:
    code, run, u = "DEMO-0002", ctx.runs["DEMO-0002"], ctx.users
    at = lambda stamp: ctx.at(code, stamp)  # noqa: E731
    impella = run.mcs_devices.first()
    actions.record_decision(
        actor=u["cardiologist"],
        run=run,
        kind="candidacy",
        title="V-A ECMO for AMI cardiogenic shock",
        made_at=at("D0 13:55"),
        inputs={
            "BP": "60/42 on noradrenaline 0.4 + adrenaline 0.1 µg/kg/min",
            "Lactate": "6.8 mmol/L",
            "HCO3": "17",
            "Creatinine": "168 µmol/L (new)",
            "GCS before intubation": "13",
            "Arrest": "one VF episode, single shock, ROSC < 2 min",
        },
        content={"modality": "va", "indications": ["cardiogenic_shock"]},
        calculations=[
            {
                "calculator": "save",
                "arguments": {
                    "age_years": 58,
                    "weight_kg": 92,
                    "diagnoses": ["other"],
                    "liver_failure": False,
                    "cns_dysfunction": False,
                    "acute_renal_failure": True,
                    "chronic_renal_failure": False,
                    "intubation_hours_before_ecmo": 2,
                    "peak_inspiratory_pressure_cmh2o": 26,
                    "cardiac_arrest": True,
                    "diastolic_bp_mmhg": 42,
                    "pulse_pressure_mmhg": 18,
                    "bicarbonate_mmol_l": 17,
                },
            },
            {
                "calculator": "encourage",
                "arguments": {
                    "age_years": 58,
                    "female": False,
                    "bmi_kg_m2": 29.0,
                    "glasgow_coma_scale": 13,
                    "creatinine_umol_l": 168,
                    "lactate_mmol_l": 6.8,
                    "prothrombin_activity_pct": 68,
                },
            },
        ],
        options=[
            "Peripheral V-A ECMO in the cath lab now",
            "Impella alone",
            "Continue escalating vasopressors",
        ],
        recommendation="Peripheral V-A in the cath lab; unload the LV early if it distends.",
        recommended_by=u["cardiologist"].pk,
        participants=_people(ctx, "intensivist", "perfusionist", "surgeon"),
        decided_by=u["cardiologist"].pk,
    )
    actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="modality",
        title="LV unloading with an Impella CP (ECPELLA)",
        made_at=at("D0 18:40"),
        mcs_device=impella,
        content={
            "mode": "va",
            "lv_unloading": "impella",
            "pulse_pressure_mmhg": 6,
            "aortic_valve_opening": False,
            "pulmonary_oedema": True,
            "lv_smoke": True,
            "rationale": "LV distension: pulse pressure 6, aortic valve closed, smoke in the LV, frothy "
            "secretions. Impella CP via the right femoral artery, start at P6 and wean by "
            "P-level; purge heparin counted in the total.",
        },
        options=["Impella CP", "IABP", "Atrial septostomy"],
        recommended_by=u["perfusionist"].pk,
        recommendation="Unload with an Impella CP now; the perfusionist manages the Impella and the ECMO flow "
        "together (reduce ECMO flow as the Impella takes over).",
        participants=_people(ctx, "intensivist", "surgeon"),
        decided_by=u["cardiologist"].pk,
        decided_at=at("D0 18:45"),
    )
    actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="flow_target",
        title="V-A flow and post-oxygenator PO2",
        made_at=at("D0 20:00"),
        content={
            "blood_flow_target_l_min": 4.0,
            "sweep_gas_l_min_target": 3.0,
            "fdo2_target": 0.55,
            "post_oxygenator_po2_low_mmhg": 150,
            "post_oxygenator_po2_high_mmhg": 200,
            "note": "post-oxygenator PO2 about 150 to avoid hyperoxaemia (ref §4.3)",
        },
        recommended_by=u["perfusionist"].pk,
        participants=_people(ctx, "perfusionist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="anticoagulation",
        title="UFH to anti-Xa 0.30–0.70",
        made_at=at("D0 20:00"),
        target_ids=_target(run, "anti_xa_iu_ml"),
        content={
            "agent": "ufh",
            "test": "anti_xa_iu_ml",
            "low": 0.30,
            "high": 0.70,
            "apply_target": False,
            "note": "start once post-PCI ACT < 200 s; Impella purge heparin counted; aspirin and ticagrelor",
        },
        participants=_people(ctx, "pharmacist", "cardiologist", "perfusionist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="modality",
        title="Differential hypoxia: ventilation first, V-AV if it recurs",
        made_at=at("D3 06:30"),
        content={
            "mode": "va",
            "lv_unloading": "impella",
            "right_radial_po2_mmhg": 54,
            "right_radial_spo2": 0.87,
            "native_flow_l_min": 2.5,
            "native_so2": 0.85,
            "upper_body_flow_l_min": 1.5,
            "post_oxygenator_so2": 1.0,
            "rationale": "Right radial PaO2 54 and SpO2 87 % with post-oxygenator PO2 168: native output "
            "perfuses the upper body (watershed). FiO2 0.40 → 0.70, PEEP 8 → 12, diuresis.",
        },
        options=["Optimise ventilation and diuresis", "Convert to V-AV now"],
        recommendation="Optimise ventilation; convert to V-AV if PaO2 < 60 recurs on FiO2 ≥ 0.8.",
        recommended_by=u["perfusionist"].pk,
        participants=_people(ctx, "perfusionist", "cardiologist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="mcs",
        title="Wean the Impella to P3",
        made_at=at("D3 18:00"),
        mcs_device=impella,
        content={"change": "P4 → P3 in the morning if pulse pressure ≥ 25", "impella_p_level": 3},
        recommended_by=u["perfusionist"].pk,
        participants=_people(ctx, "intensivist"),
        decided_by=u["cardiologist"].pk,
    )
    for stamp, level, flow, purge, note in [
        ("D0 20:30", 6, 2.1, 520, "inlet 3.5 cm below the aortic valve (TTE)"),
        ("D1 06:30", 5, 1.9, 500, "position unchanged on TTE"),
        ("D2 06:30", 4, 1.6, 490, "position unchanged"),
        ("D3 06:30", 4, 1.8, 480, "position unchanged"),
        ("D4 06:30", 3, 1.4, 470, "position unchanged"),
    ]:
        actions.record_mcs_check(
            actor=u["perfusionist"],
            device=impella,
            at=at(stamp),
            position_confirmed=True,
            position_note=note,
            limb_perfusion_ok=True,
            readings={
                "impella_p_level": level,
                "impella_flow_l_min": flow,
                "purge_pressure_mmhg": purge,
                "purge_flow_ml_h": 12,
            },
            note="right leg pulses present",
        )


def run3(ctx: DemoContext) -> None:
    code, run, u = "DEMO-0003", ctx.runs["DEMO-0003"], ctx.users
    at = lambda stamp: ctx.at(code, stamp)  # noqa: E731
    call = actions.create_session(
        actor=u["intensivist"],
        program=run.program,
        kind="ecmo_call",
        title="ECPR call: ward 5, witnessed VF arrest",
        started_at=at("D0 02:25"),
        location="ward 5",
        attendees=[
            {"user": u[n].pk}
            for n in (
                "intensivist",
                "cardiologist",
                "surgeon",
                "perfusionist",
                "ecmo_specialist",
                "bedside_nurse2",
            )
        ],
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="candidacy",
        title="ECPR for witnessed in-hospital VF arrest",
        session=call,
        made_at=at("D0 02:25"),
        inputs={
            "Rhythm": "VF, three shocks by 02:21",
            "EtCO2 on CPR": "18–24 mmHg",
            "Gas on CPR": "pH 7.02, PaO2 88, lactate 9.4",
        },
        content={
            "modality": "ecpr",
            "indications": ["refractory_vt_vf"],
            "age_years": 49,
            "witnessed": True,
            "initial_rhythm_shockable": True,
            "etco2_mmhg": 18,
            "signs_of_life_or_intermittent_rosc": True,
            "life_limiting_disease": False,
            "pao2_mmhg": 88,
            "lactate_mmol_l": 9.4,
            "collapse_at": at("D0 02:14").isoformat(),
            "cpr_started_at": at("D0 02:14:40").isoformat(),
            "ecpr_call_at": at("D0 02:25").isoformat(),
            "puncture_at": at("D0 02:38").isoformat(),
            "flow_at": at("D0 02:49").isoformat(),
        },
        calculations=[
            {
                "calculator": "save",
                "arguments": {},
                "not_computed_reason": "haemodynamics not measurable during CPR",
            }
        ],
        recommendation="ECPR: mechanical CPR, femoral cannulation in the ward, then the cath lab.",
        recommended_by=u["intensivist"].pk,
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="modality",
        title="Peripheral V-A, no LV vent",
        made_at=at("D0 03:10"),
        content={
            "mode": "va",
            "lv_unloading": "none",
            "aortic_valve_opening": True,
            "pulmonary_oedema": False,
            "lv_smoke": False,
            "pulse_pressure_mmhg": 18,
            "rationale": "Sinus rhythm from 03:02, aortic valve opening; distal perfusion cannula once stable.",
        },
        participants=_people(ctx, "surgeon", "perfusionist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="flow_target",
        title="Flow and post-oxygenator PO2 after arrest",
        made_at=at("D0 04:00"),
        content={
            "blood_flow_target_l_min": 3.8,
            "sweep_gas_l_min_target": 2.5,
            "fdo2_target": 0.5,
            "post_oxygenator_po2_low_mmhg": 130,
            "post_oxygenator_po2_high_mmhg": 180,
            "note": "post-oxygenator PO2 about 150: no hyperoxaemia after refractory arrest (ref §4.3); "
            "PaCO2 to fall by less than 20 mmHg in 24 h",
        },
        recommended_by=u["perfusionist"].pk,
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="anticoagulation",
        title="UFH to anti-Xa 0.30–0.70",
        made_at=at("D0 04:00"),
        target_ids=_target(run, "anti_xa_iu_ml"),
        content={
            "agent": "ufh",
            "test": "anti_xa_iu_ml",
            "low": 0.30,
            "high": 0.70,
            "apply_target": False,
            "note": "with aspirin and ticagrelor after the LAD stent",
        },
        participants=_people(ctx, "pharmacist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="circuit_change",
        title="Pump-head change for thrombus and haemolysis",
        made_at=at("D5 13:10"),
        alert_ids=_alerts(run, "pump.flow_per_rpm_fall", "hemolysis.pfhb_high"),
        component=_component(run, "DEMO-PHB-0348"),
        inputs={
            "Flow per 1000 rpm": "0.91 vs baseline 1.15 (-21 %)",
            "pfHb": "62 mg/dL (critical)",
            "Pump head": "dark deposit at the inlet on torch inspection; new whine since D4 18:00",
            "Access, ΔP/Q, MAP": "steady: not access, membrane or afterload",
        },
        content={
            "reason": "Pump-head thrombus: more speed buying less flow, pfHb 62, tea-coloured urine.",
            "component_kind": "pump_head",
            "urgency": "emergency",
        },
        options=["Change the pump head now", "Whole circuit change"],
        recommendation="Change the pump head now (< 60 s off flow), de-air carefully at the reconnection, keep the "
        "explanted head for inspection.",
        recommended_by=u["perfusionist"].pk,
        participants=_people(ctx, "surgeon", "ecmo_specialist"),
        decided_by=u["intensivist"].pk,
        decided_at=at("D5 13:15"),
    )


def run4(ctx: DemoContext) -> None:
    code, run, u = "DEMO-0004", ctx.runs["DEMO-0004"], ctx.users
    at = lambda stamp: ctx.at(code, stamp)  # noqa: E731
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="candidacy",
        title="V-V ECMO for pneumococcal ARDS",
        made_at=at("D0 15:30"),
        inputs={
            "P/F": "62 for 7 h",
            "PEEP / Pplat / PIP": "14 / 31 / 38 cmH2O",
            "VT": "350 mL",
            "pH / PaCO2": "7.24 / 68",
            "SOFA": "11",
            "Ventilated": "52 h; proned twice; NMB",
        },
        content={
            "modality": "vv",
            "indications": ["eolia_pf_80_6h", "optimal_care"],
            "pf_ratio_mmhg": 62,
            "pf_hours": 7,
            "arterial_ph": 7.24,
            "paco2_mmhg": 68,
            "hypercapnia_hours": 7,
        },
        calculations=[
            {
                "calculator": "resp",
                "arguments": RESP_RUN4,
                "note": "bacteraemia counted as part of the pneumonia; scored as a non-pulmonary infection (-3) RESP "
                "would be 2, class III",
            },
            {
                "calculator": "preserve",
                "arguments": {
                    "age_years": 36,
                    "bmi_kg_m2": 25.7,
                    "immunocompromised": False,
                    "ventilation_days_before_ecmo": 2.17,
                    "sofa_points": 11,
                    "prone_before_ecmo": True,
                    "peep_cmh2o": 14,
                    "plateau_pressure_cmh2o": 31,
                },
            },
            {
                "calculator": "murray_lung_injury",
                "arguments": {
                    "chest_xray_quadrants": 4,
                    "pf_ratio_mmhg": 62,
                    "peep_cmh2o": 14,
                    "static_compliance_ml_cmh2o": 20.6,
                },
            },
        ],
        recommendation="Accept for V-V ECMO with a dual-lumen jugular cannula under TOE.",
        recommended_by=u["intensivist"].pk,
        participants=_people(ctx, "perfusionist", "ecmo_specialist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="modality",
        title="V-V dual-lumen right internal jugular",
        made_at=at("D0 16:00"),
        content={
            "mode": "vv",
            "lv_unloading": "none",
            "rationale": "Single-site 31 Fr dual-lumen cannula under TOE: mobilisation possible later.",
        },
        participants=_people(ctx, "surgeon", "perfusionist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="flow_target",
        title="Blood flow from the V-V model",
        made_at=at("D0 18:00"),
        content={
            "target_arterial_so2": 0.88,
            "vo2_ml_min": 210,
            "hb_g_dl": 11.0,
            "cardiac_output_l_min": 5.5,
            "recirculation_fraction": 0.10,
            "sweep_gas_l_min_target": 4.0,
            "fdo2_target": 1.0,
        },
        recommended_by=u["perfusionist"].pk,
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="anticoagulation",
        title="Bivalirudin to aPTT 45–65 s",
        made_at=at("D0 16:40"),
        target_ids=_target(run, "aptt_s"),
        content={
            "agent": "bivalirudin",
            "test": "aptt_s",
            "low": 45,
            "high": 65,
            "apply_target": False,
            "note": "bivalirudin 0.04 mg/kg/h",
        },
        participants=_people(ctx, "pharmacist"),
        decided_by=u["intensivist"].pk,
    )
    walk = actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="ambulation",
        title="Walk with the dual-lumen cannula",
        made_at=at("D10 10:45"),
        content={
            "mean_arterial_pressure_mmhg": 78,
            "spo2": 0.95,
            "rass": 0,
            "team_size": 5,
            "flags": list(AMBULATION_FLAGS),
            "planned_activity": "edge of bed, stand, march, walk",
        },
        participants=_people(ctx, "physiotherapist", "perfusionist", "bedside_nurse"),
        recommended_by=u["physiotherapist"].pk,
        recommendation="Walk today: perfusionist holds the circuit, two physiotherapists, nurse, intensivist.",
        decided_by=u["intensivist"].pk,
    )
    actions.record_ambulation_session(
        actor=u["physiotherapist"],
        decision=walk,
        started_at=at("D10 11:00"),
        duration_min=22,
        ims_level=7,
        activities="edge of bed, standing, marching on the spot, walked with two helpers",
        distance_m=18,
        team_size=5,
        lowest_spo2=0.89,
        pre_check="depth 15 cm, sutures intact; Q 3.6 at 3100 rpm, no chatter, Pacc -60",
        post_check="depth unchanged, dressing dry; Q 3.6, Pacc -58",
        events="Q 3.3 with Pacc -72 on standing; lowest SpO2 89 %",
    )
    trial = actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="weaning_trial",
        title="Sweep-gas-off trial",
        made_at=at("D12 07:45"),
        content={
            "trial_type": "vv_sweep_off",
            "started_at": at("D12 10:00").isoformat(),
            "protocol_steps": "FdO2 to 0.21 at 08:00\nSweep 2 → 1 → 0.5 L/min, blood gas after each step\n"
            "10:00 sweep off and gas line capped; Q 2.5 L/min so the circuit does not clot\n"
            "Observe at least 2–3 h (here 6 h): gases, SpO2, RR, echo for cor pulmonale",
            "prerequisites": "VT 340 mL (6 mL/kg PBW), FiO2 0.40, PEEP 10, Pplat 24",
        },
        recommended_by=u["perfusionist"].pk,
        participants=_people(ctx, "ecmo_specialist", "bedside_nurse"),
        decided_by=u["intensivist"].pk,
    )
    vent = {
        "fio2": 0.40,
        "plateau_cmh2o": 24,
        "peep_cmh2o": 10,
        "tidal_volume_ml": 340,
        "blood_flow_l_min": 2.5,
        "sweep_gas_l_min": 0.0,
        "fdo2": 0.21,
    }
    for stamp, step, values in [
        (
            "D12 10:00",
            "sweep off",
            {
                "sao2": 0.96,
                "pao2_mmhg": 82,
                "paco2_mmhg": 43,
                "arterial_ph": 7.39,
                "rr_per_min": 20,
                "heart_rate_per_min": 90,
            },
        ),
        (
            "D12 10:30",
            "30 min",
            {
                "sao2": 0.95,
                "pao2_mmhg": 78,
                "paco2_mmhg": 45,
                "arterial_ph": 7.37,
                "rr_per_min": 22,
                "heart_rate_per_min": 92,
            },
        ),
        (
            "D12 12:00",
            "120 min; echo RV/LV 0.6",
            {
                "sao2": 0.94,
                "pao2_mmhg": 72,
                "paco2_mmhg": 46,
                "arterial_ph": 7.36,
                "rr_per_min": 23,
                "heart_rate_per_min": 94,
                "acute_cor_pulmonale": False,
            },
        ),
        (
            "D12 16:00",
            "360 min",
            {
                "sao2": 0.95,
                "pao2_mmhg": 75,
                "paco2_mmhg": 46,
                "arterial_ph": 7.36,
                "rr_per_min": 22,
                "heart_rate_per_min": 92,
            },
        ),
    ]:
        actions.record_observation(
            actor=u["ecmo_specialist"], decision=trial, at=at(stamp), step=step, values={**vent, **values}
        )
    actions.conclude_trial(
        actor=u["intensivist"], decision=trial, outcome="passed", concluded_at=at("D12 16:20")
    )
    actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="decannulation",
        title="Decannulate D13 09:00",
        made_at=at("D12 16:30"),
        content={
            "configuration": "vv",
            "technique": "percutaneous",
            "planned_for": at("D13 09:00").isoformat(),
            "plan": "Stop bivalirudin at 08:00; head-down tilt and brief NMB; remove the cannula at "
            "end-inspiration; figure-of-eight suture and 30 min of pressure; Doppler at 4 h.",
        },
        inputs={"Sweep-off trial": "passed at 6 h (PaO2 75, PaCO2 +3, no cor pulmonale)"},
        recommendation="Decannulate at D13 09:00. Overnight keep the sweep off and Q at 2.5. Restart if SpO2 < 88 % "
        "for 10 min, PaCO2 > 55, pH < 7.30 or RR > 35.",
        recommended_by=u["perfusionist"].pk,
        participants=_people(ctx, "perfusionist", "ecmo_specialist", "bedside_nurse", "physiotherapist"),
        dissent=[
            {
                "user": u["ecmo_specialist"].pk,
                "reason": "Clot risk at low flow overnight with the sweep off.",
                "resolution": "aPTT added at 22:00 (result 56 s).",
            }
        ],
        decided_by=u["intensivist"].pk,
        decided_at=at("D12 16:35"),
    )


def run5(ctx: DemoContext) -> None:
    code, run, u = "DEMO-0005", ctx.runs["DEMO-0005"], ctx.users
    at = lambda stamp: ctx.at(code, stamp)  # noqa: E731
    actions.record_decision(
        actor=u["cardiologist"],
        run=run,
        kind="candidacy",
        title="V-A ECMO for fulminant myocarditis",
        made_at=at("D0 20:45"),
        inputs={
            "LVEF": "10 %",
            "Lactate": "7.6",
            "BP": "54/38",
            "HCO3": "14",
            "Intubated": "6 h before ECMO",
        },
        content={"modality": "va", "indications": ["cardiogenic_shock"]},
        calculations=[
            {
                "calculator": "save",
                "arguments": {
                    "age_years": 29,
                    "weight_kg": 62,
                    "diagnoses": ["myocarditis"],
                    "liver_failure": False,
                    "cns_dysfunction": False,
                    "acute_renal_failure": False,
                    "chronic_renal_failure": False,
                    "intubation_hours_before_ecmo": 6,
                    "peak_inspiratory_pressure_cmh2o": 18,
                    "cardiac_arrest": False,
                    "diastolic_bp_mmhg": 38,
                    "pulse_pressure_mmhg": 16,
                    "bicarbonate_mmol_l": 14,
                },
            }
        ],
        recommendation="Peripheral V-A tonight; biopsy tomorrow.",
        recommended_by=u["cardiologist"].pk,
        participants=_people(ctx, "intensivist", "perfusionist", "surgeon"),
        decided_by=u["cardiologist"].pk,
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="modality",
        title="Peripheral V-A, no LV vent",
        made_at=at("D0 23:00"),
        content={
            "mode": "va",
            "lv_unloading": "none",
            "pulse_pressure_mmhg": 16,
            "aortic_valve_opening": True,
            "rising_pa_pressure_or_pcwp": False,
            "pulmonary_oedema": False,
            "lv_smoke": False,
            "rationale": "The aortic valve opens and pulse pressure stays ≥ 15: no LV vent; recheck on echo "
            "twice a day.",
        },
        participants=_people(ctx, "cardiologist", "perfusionist"),
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="flow_target",
        title="V-A flow and post-oxygenator PO2",
        made_at=at("D0 22:00"),
        content={
            "blood_flow_target_l_min": 4.0,
            "sweep_gas_l_min_target": 2.5,
            "fdo2_target": 0.6,
            "post_oxygenator_po2_low_mmhg": 150,
            "post_oxygenator_po2_high_mmhg": 200,
        },
        recommended_by=u["perfusionist"].pk,
        decided_by=u["intensivist"].pk,
    )
    actions.record_decision(
        actor=u["intensivist"],
        run=run,
        kind="anticoagulation",
        title="UFH to aPTT 60–80 s",
        made_at=at("D0 22:00"),
        target_ids=_target(run, "aptt_s"),
        content={"agent": "ufh", "test": "aptt_s", "low": 60, "high": 80, "apply_target": False},
        participants=_people(ctx, "pharmacist"),
        decided_by=u["intensivist"].pk,
    )
    trial = actions.record_decision(
        actor=u["perfusionist"],
        run=run,
        kind="weaning_trial",
        title="V-A flow-reduction trial",
        made_at=at("D6 09:30"),
        content={
            "trial_type": "va_flow_reduction",
            "started_at": at("D6 10:00").isoformat(),
            "protocol_steps": "UFH 2,000 U, ACT 205–212 s\nFrom 10:00 reduce flow 0.5 L/min every 10 min to "
            "below 1.5 L/min\nAt minimal flow: MAP, pulse pressure, lactate; echo VTI, LVEF, "
            "lateral S′, TAPSE\nThen 2.0 L/min overnight",
            "prerequisites": "Lactate 1.1, noradrenaline off, dobutamine 3 µg/kg/min, pulsatile, right radial "
            "PaO2 110 on FiO2 0.35",
        },
        recommended_by=u["perfusionist"].pk,
        participants=_people(ctx, "cardiologist"),
        decided_by=u["intensivist"].pk,
    )
    for stamp, step, values in [
        ("D6 10:00", "start", {"blood_flow_l_min": 3.2, "mean_arterial_pressure_mmhg": 78}),
        ("D6 10:10", "-0.5", {"blood_flow_l_min": 2.7, "mean_arterial_pressure_mmhg": 78}),
        ("D6 10:20", "-0.5", {"blood_flow_l_min": 2.2, "mean_arterial_pressure_mmhg": 77}),
        ("D6 10:30", "-0.5", {"blood_flow_l_min": 1.7, "mean_arterial_pressure_mmhg": 77}),
        ("D6 10:40", "minimal flow", {"blood_flow_l_min": 1.2, "mean_arterial_pressure_mmhg": 76}),
        (
            "D6 11:00",
            "echo at 1.2 L/min",
            {
                "blood_flow_l_min": 1.2,
                "mean_arterial_pressure_mmhg": 76,
                "pulse_pressure_mmhg": 38,
                "heart_rate_per_min": 96,
                "lactate_mmol_l": 1.0,
                "aortic_vti_cm": 14,
                "lvef_pct": 38,
                "lateral_s_prime_cm_s": 8,
                "tapse_mm": 20,
            },
        ),
    ]:
        actions.record_observation(
            actor=u["perfusionist"], decision=trial, at=at(stamp), step=step, values=values
        )
    actions.conclude_trial(
        actor=u["intensivist"], decision=trial, outcome="passed", concluded_at=at("D6 11:15")
    )
    decannulation = actions.record_decision(
        actor=u["surgeon"],
        run=run,
        kind="decannulation",
        title="Decannulate in theatre D7",
        made_at=at("D6 12:00"),
        content={
            "configuration": "va",
            "technique": "surgical",
            "planned_for": at("D7 10:00").isoformat(),
            "plan": "Theatre: arterial repair, DPC out, venous purse-string.",
        },
        participants=_people(ctx, "surgeon", "intensivist", "perfusionist"),
        decided_by=u["surgeon"].pk,
    )
    notes = {
        "family_informed": ("D7 08:00", "family told by the intensivist"),
        "products_available": ("D7 08:30", "2 u RBC cross-matched"),
        "team_present": ("D7 10:15", "surgeon, anaesthetist, perfusionist, scrub nurse"),
        "circuit_standby": ("D7 10:15", "primed circuit on standby"),
        "anticoagulation_held": ("D7 10:25", "UFH off 09:30, ACT 142 at 10:25"),
        "vasoactive_plan": ("D7 10:20", "dobutamine 3 µg/kg/min continued"),
        "pump_off_clamped": ("D7 10:42", "pump off and clamped 10:42 (run end)"),
        "arterial_repair": ("D7 11:20", "arterial repair, DPC out, venous purse-string"),
        "distal_perfusion_check": ("D7 11:30", "foot Doppler triphasic, calf NIRS 68/70 %"),
        "venous_doppler": ("D8 10:00", "non-occlusive femoral vein thrombus: adverse event"),
        "components_closed": ("D7 11:35", "components closed"),
    }
    for item in decannulation.checklist_items.filter(status="pending"):
        stamp, note = notes[item.key]
        actor = (
            u["perfusionist"]
            if item.key in ("circuit_standby", "pump_off_clamped", "components_closed")
            else u["surgeon"]
        )
        actions.mark_checklist_item(actor=actor, item=item, status="done", note=note, done_at=at(stamp))
    actions.complete_checklist(actor=u["surgeon"], decision=decannulation, completed_at=at("D8 10:30"))


def decisions_of(run: EcmoRun) -> list[Decision]:
    return list(Decision.objects.filter(run=run))
