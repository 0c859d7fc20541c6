"""The flowsheet (/runs/{id}/flowsheet/?day=N): one ECMO day hour by hour, as ICU nurses chart it.

- [x] columns are the hours of the local calendar day (Europe/London here); day 0 is the local day flow started
- [x] a console value goes into its hour as the median of that hour; a lab into the hour it was drawn; the
      hourly check's values and inspection items into the hour it was recorded; an hour without a value is blank
- [x] local time boundaries: 23:30 UTC in summer is 00:30 the next local day; the autumn change has 25 hours
      (01:00 BST, 01:00 GMT), the spring change 23
- [x] values in the program's units (kPa, g/L, %), units in the row labels
- [x] permission run.view through get_checked: an outsider gets 404, the auditor reads it; a day outside the run
      is a 404; the query count does not grow with the run's length or the number of rows
- [x] the run page links to it; the page has no inline script; today's sheet marks the current hour
"""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from typing import Any

import time_machine

from ecmo_web.accounts.models import Program
from ecmo_web.runs import actions as run_actions
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance import actions, flowsheet
from tests.web.conftest import T0
from tests.web.surveil_support import circuit_samples

H = dt.timedelta(hours=1)
MIN = dt.timedelta(minutes=1)


def _ingest(run: EcmoRun, samples: list[Any], now: dt.datetime, source: str | None = None) -> None:
    actions.ingest_samples(actor_or_system=actions.DEMO, run=run, samples=samples, now=now, source=source)


def _sample(parameter: str, value: float, at: dt.datetime) -> dict[str, Any]:
    return {"parameter": parameter, "value": value, "observed_at": at.isoformat()}


class _Grid(HTMLParser):
    """The flowsheet table as rendered: hour labels, and {section: {row label: [cell texts]}}."""

    def __init__(self) -> None:
        super().__init__()
        self.hours: list[str] = []
        self.sections: dict[str, dict[str, list[str]]] = {}
        self.section = ""
        self.row: list[str] | None = None
        self.text: list[str] | None = None
        self.hour = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tbody" and a.get("data-section"):
            self.section = str(a["data-section"])
            self.sections[self.section] = {}
        elif tag == "tr" and a.get("data-row"):
            self.row = self.sections[self.section].setdefault(str(a["data-row"]), [])
        elif tag == "th" and "fs-hour" in (a.get("class") or ""):
            self.hour, self.text = True, []
        elif tag == "td" and self.row is not None:
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self.hour and self.text is not None:
            self.hours.append("".join(self.text).strip())
            self.hour, self.text = False, None
        elif tag == "td" and self.row is not None and self.text is not None:
            self.row.append("".join(self.text).strip())
            self.text = None
        elif tag == "tr":
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)


def _page(client: Any, run: EcmoRun, day: int | None = None) -> _Grid:
    response = client.get(f"/runs/{run.pk}/flowsheet/", {} if day is None else {"day": day})
    assert response.status_code == 200
    grid = _Grid()
    grid.feed(response.content.decode())
    return grid


def _grid(
    client: Any, run: EcmoRun, day: int | None = None
) -> tuple[list[str], dict[str, dict[str, list[str]]]]:
    grid = _page(client, run, day)
    return grid.hours, grid.sections


def _section(sections: dict[str, dict[str, list[str]]], prefix: str) -> dict[str, list[str]]:
    return next(rows for title, rows in sections.items() if title.startswith(prefix))


def test_values_go_into_their_hour_and_empty_hours_stay_blank(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    # T0 = 20 Nov 10:00 UTC = 10:00 in London (GMT). Console flow 4.0, 4.2, 9.9 (a spike) in the 10:00 hour.
    now = T0 + 3 * H
    _ingest(
        run,
        [
            _sample("blood_flow_l_min", 4.0, T0 + 5 * MIN),
            _sample("blood_flow_l_min", 4.2, T0 + 25 * MIN),
            _sample("blood_flow_l_min", 9.9, T0 + 45 * MIN),
            _sample("blood_flow_l_min", 3.5, T0 + 2 * H + 10 * MIN),
            _sample("fdo2", 0.6, T0 + 2 * H),
            _sample("heart_rate_per_min", 88, T0 + 2 * H),
        ],
        now,
    )
    _ingest(run, [_sample("anti_xa_iu_ml", 0.42, T0 + H + 40 * MIN)], now, source="lab")
    actions.record_check(
        actor=perfusionist,
        run=run,
        observed_at=T0 + 2 * H + 5 * MIN,
        data={"blood_flow_l_min": 3.6, "pump_speed_rpm": 3100, "pre_oxygenator_pressure_mmhg": 250,
              "post_oxygenator_pressure_mmhg": 232, "air_in_circuit": False, "clamps_present": False},
        now=now,
    )  # fmt: skip
    with time_machine.travel(now, tick=False):
        hours, sections = _grid(client_for(perfusionist), run)
    assert hours == [f"{h:02d}:00" for h in range(24)]
    console = _section(sections, "Console and monitor")
    assert console["Flow"][10] == "4.20"  # the median, not the mean (6.03) the spike would make
    assert console["Flow"][12] == "3.50"
    assert [console["Flow"][i] for i in (9, 11, 13)] == ["", "", ""]
    assert console["FdO2"][12] == "60" and console["Heart rate"][12] == "88"
    labs = _section(sections, "Labs")
    assert labs["Anti-Xa"][11] == "0.42" and labs["Anti-Xa"].count("") == 23
    check = _section(sections, "Hourly check")
    assert check["Checked at · by"][12].startswith("12:05")
    assert check["Flow"][12] == "3.60" and check["Flow"][11] == ""
    assert check["Membrane ΔP (pre − post)"][12] == "18"
    assert check["Air in the circuit"][12] == "none"
    assert check["Safety equipment"][12] == "missing: clamps"


def test_the_day_is_the_local_day_across_midnight_in_summer(
    program: Program, perfusionist: Any, client_for: Any
) -> None:
    # 1 July, London on BST (UTC+1): flow started 22:00 UTC = 23:00 local on ECMO day 0.
    start = dt.datetime(2026, 7, 1, 22, 0, tzinfo=dt.UTC)
    run = run_actions.start_run(
        actor=perfusionist, program=program, patient_code="TEST-0002", sex="female", birth_year=1980,
        indication="respiratory", indication_detail="ARDS", mode="vv", started_at=start, weight_kg=60,
        height_cm=165, identifiers={},
    )  # fmt: skip
    now = start + 4 * H
    _ingest(
        run,
        [
            _sample("blood_flow_l_min", 4.1, start + 10 * MIN),
            _sample("blood_flow_l_min", 4.6, start + 90 * MIN),
        ],
        now,
    )
    with time_machine.travel(now, tick=False):
        client = client_for(perfusionist)
        _, day0 = _grid(client, run, 0)
        _, day1 = _grid(client, run, 1)
        _, default = _grid(client, run)
    assert _section(day0, "Console")["Flow"][23] == "4.10"  # 22:10 UTC = 23:10 BST, 1 July
    assert _section(day1, "Console")["Flow"][0] == "4.60"  # 23:30 UTC = 00:30 BST, 2 July
    assert default == day1  # today (ECMO day 1) unless a day is chosen
    assert flowsheet.last_day(run, now) == 1
    # The current hour (02:00 UTC = 03:00 BST on 2 July) is marked on today's sheet only.
    assert flowsheet.build(run, day=1, now=now).now_index == 3
    assert flowsheet.build(run, day=0, now=now).now_index is None


def test_the_clock_changes_give_25_and_23_hour_days() -> None:
    london = flowsheet.program_tz(Program(time_zone="Europe/London"))
    autumn = flowsheet.hours_of(dt.date(2026, 10, 25), london)
    assert len(autumn) == 25
    assert [h.label for h in autumn[:4]] == ["00:00 BST", "01:00 BST", "01:00 GMT", "02:00 GMT"]
    assert autumn[0].start == dt.datetime(2026, 10, 24, 23, 0, tzinfo=dt.UTC)
    assert autumn[-1].end == dt.datetime(2026, 10, 26, 0, 0, tzinfo=dt.UTC)
    spring = flowsheet.hours_of(dt.date(2026, 3, 29), london)
    assert len(spring) == 23 and [h.label for h in spring[:3]] == ["00:00 GMT", "02:00 BST", "03:00 BST"]
    assert [h.label for h in flowsheet.hours_of(dt.date(2026, 11, 20), london)][:2] == ["00:00", "01:00"]


def test_a_value_in_the_repeated_hour_of_the_autumn_change_lands_in_the_second_one(
    program: Program, perfusionist: Any, client_for: Any
) -> None:
    start = dt.datetime(2026, 10, 24, 12, 0, tzinfo=dt.UTC)
    run = run_actions.start_run(
        actor=perfusionist, program=program, patient_code="TEST-0003", sex="male", birth_year=1975,
        indication="respiratory", indication_detail="ARDS", mode="vv", started_at=start, weight_kg=80,
        height_cm=180, identifiers={},
    )  # fmt: skip
    now = dt.datetime(2026, 10, 26, 1, 0, tzinfo=dt.UTC)
    # 00:30 UTC on 25 Oct = 01:30 BST; 01:30 UTC = 01:30 GMT (the second 01:00 hour).
    _ingest(
        run,
        [
            _sample("pump_speed_rpm", 3000, dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)),
            _sample("pump_speed_rpm", 3200, dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)),
        ],
        now,
    )
    with time_machine.travel(now, tick=False):
        hours, sections = _grid(client_for(perfusionist), run, 1)
    assert len(hours) == 25
    speed = _section(sections, "Console")["Pump speed"]
    assert (hours[1], speed[1]) == ("01:00 BST", "3000")
    assert (hours[2], speed[2]) == ("01:00 GMT", "3200")


def test_a_kpa_program_reads_kpa_and_g_per_litre(run: EcmoRun, perfusionist: Any, client_for: Any) -> None:
    program = run.program
    program.pressure_unit, program.circuit_pressure_unit, program.hemoglobin_unit = "kPa", "kPa", "g/L"
    program.save(update_fields=["pressure_unit", "circuit_pressure_unit", "hemoglobin_unit"])
    now = T0 + 2 * H
    _ingest(run, circuit_samples(T0, T0 + 10 * MIN, pre=250, post=235, every=5 * MIN), now)
    _ingest(
        run,
        [_sample("arterial_pco2_mmhg", 45.0, T0 + H), _sample("hemoglobin_g_dl", 9.4, T0 + H)],
        now,
        source="lab",
    )
    with time_machine.travel(now, tick=False):
        client = client_for(perfusionist)
        _, sections = _grid(client, run)
        body = client.get(f"/runs/{run.pk}/flowsheet/").content.decode()
    assert _section(sections, "Console")["Pre-oxygenator pressure"][10] == "33.3"
    labs = _section(sections, "Labs")
    assert labs["PaCO2"][11] == "6.0" and labs["Hb"][11] == "94"
    assert 'Pre-oxygenator pressure <span class="fs-unit">kPa</span>' in body
    assert 'Hb <span class="fs-unit">g/L</span>' in body
    grid = body[body.index('<table class="fs-grid">') :]
    assert "mmHg" not in grid


def test_permissions_bad_days_and_a_fixed_query_count(
    run: EcmoRun, personas: dict[str, Any], client_for: Any, django_assert_max_num_queries: Any
) -> None:
    now = T0 + 3 * 24 * H
    _ingest(run, circuit_samples(T0, now, every=30 * MIN), now)
    for hour in range(0, 72, 6):
        _ingest(run, [_sample("anti_xa_iu_ml", 0.4, T0 + hour * H)], now, source="lab")
    url = f"/runs/{run.pk}/flowsheet/"
    with time_machine.travel(now, tick=False):
        assert client_for(personas["outsider"]).get(url).status_code == 404
        assert client_for(personas["nobody"]).get(url).status_code == 404
        auditor = client_for(personas["auditor"])
        assert auditor.get(url, {"day": 4}).status_code == 404
        assert auditor.get(url, {"day": "x"}).status_code == 404
        auditor.get(url)  # warm the session and the menu caches
        with django_assert_max_num_queries(14) as short:
            assert auditor.get(url, {"day": 0}).status_code == 200
        with django_assert_max_num_queries(len(short.captured_queries)):
            assert auditor.get(url, {"day": 2}).status_code == 200


def test_the_run_page_links_to_the_flowsheet_and_the_page_has_no_inline_script(
    run: EcmoRun, perfusionist: Any, client_for: Any
) -> None:
    client = client_for(perfusionist)
    body = client.get(f"/runs/{run.pk}/").content.decode()
    assert f'href="/runs/{run.pk}/flowsheet/"' in body
    page = client.get(f"/runs/{run.pk}/flowsheet/").content.decode()
    # CSP forbids inline scripts: every script tag loads a file.
    assert all(tag.startswith("<script src=") for tag in re.findall(r"<script[^>]*>", page))
    assert 'class="fs-wrap" tabindex="0" role="region"' in page
