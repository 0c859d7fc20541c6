"""Pages of circuit surveillance: the hourly check, check history with amendments, lab entry, CSV import with a
preview, alert actions, the trends page with its data, the hour-by-hour flowsheet, the program's open alerts and the settings page.

Views stay thin: they load through ``get_checked``, call an action and render.
"""

from ecmo_web.surveillance.views.alerts import (
    alert_acknowledge,
    alert_escalate,
    alert_resolve,
    program_alerts,
    run_alerts,
)
from ecmo_web.surveillance.views.checks import PREFILL_MAX_AGE, check_amend, check_list, check_new
from ecmo_web.surveillance.views.csv_import import csv_import
from ecmo_web.surveillance.views.flowsheet import flowsheet_page
from ecmo_web.surveillance.views.labs import labs_new
from ecmo_web.surveillance.views.program_settings import settings_page
from ecmo_web.surveillance.views.trends import trends, trends_data

__all__ = [
    "PREFILL_MAX_AGE",
    "alert_acknowledge",
    "alert_escalate",
    "alert_resolve",
    "check_amend",
    "check_list",
    "check_new",
    "csv_import",
    "flowsheet_page",
    "labs_new",
    "program_alerts",
    "run_alerts",
    "settings_page",
    "trends",
    "trends_data",
]
