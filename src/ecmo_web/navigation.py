"""A program-level navigation entry (rounds board, calculators, audit …).

Apps declare theirs in ``AppConfig.contributions()``; ``contributions.nav_items()`` lists them in order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str  # reversed with the program id: path("programs/<int:program_id>/…")
    action: str  # shown only when can(user, action, program)
    order: int = 50
