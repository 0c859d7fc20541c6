"""``{% decision_policies decision %}``: the decision page's panel listing the policy versions the decision
followed, with a form to link one (for members who record decisions)."""

from __future__ import annotations

from typing import Any

from django import template

from ecmo_web.governance.forms import LinkForm
from ecmo_web.governance.models import DecisionPolicyLink, PolicyVersion
from ecmo_web.permissions import can

register = template.Library()


@register.inclusion_tag("governance/_decision_policies.html", takes_context=True)
def decision_policies(context: Any, decision: Any) -> dict[str, Any]:
    user = context["request"].user
    program = decision.run.program
    links = list(
        DecisionPolicyLink.objects.filter(decision=decision).select_related("version__policy", "linked_by")
    )
    may_link = can(user, "decision.record", decision)
    form = None
    if may_link:
        linked = {link.version_id for link in links}
        versions = [
            v
            for v in PolicyVersion.objects.filter(policy__program=program, fully_signed_at__isnull=False)
            .select_related("policy")
            .order_by("policy__title", "-number")
            if v.pk not in linked
        ]
        form = LinkForm(program=program, versions=versions) if versions else None
    return {
        "decision": decision,
        "links": links,
        "form": form,
        "program": program,
        "csrf_token": context.get("csrf_token"),
    }
