from __future__ import annotations

from django.apps import AppConfig

from ecmo_web.contributions import Contributions, NavItem


class GovernanceConfig(AppConfig):
    name = "ecmo_web.governance"
    label = "governance"
    verbose_name = "Governance: QI, policies, education"

    def contributions(self) -> Contributions:
        from ecmo_web.governance import api, profile
        from ecmo_web.governance.actions.policies import remind_reviews

        return Contributions(
            urls="ecmo_web.governance.urls",
            api_routers=(("/", api.router),),
            navigation=(NavItem("Governance", "governance_home", "run.view", order=70),),
            periodic=(("policy review reminders", lambda now: len(remind_reviews(now))),),
            profile_sources=(profile.qi, profile.policy_signoff, profile.education),
        )
