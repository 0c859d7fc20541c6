"""Demo step: the Demo program's notification channels (admin → Notification channels).

Added after the surveillance step, so the scenarios' past escalations are not sent again: on a running demo the
worker sends new escalations to these addresses (``.invalid``: nothing leaves the machine).
"""

from __future__ import annotations

from ecmo_web.demo.seed import DemoContext
from ecmo_web.surveillance import notify


def seed(ctx: DemoContext) -> None:
    assert ctx.program is not None
    director = ctx.users["director"]
    notify.add_channel(
        actor=director,
        program=ctx.program,
        name="Intensivist on call",
        kind="email",
        target="icu-oncall@demo.invalid",
        roles=["intensivist"],
    )
    notify.add_channel(
        actor=director,
        program=ctx.program,
        name="Perfusion team: critical alerts",
        kind="email",
        target="perfusion@demo.invalid",
        roles=["perfusionist", "ecmo_specialist"],
        firing="critical",
    )
