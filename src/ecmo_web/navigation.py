"""Program-level navigation entries contributed by apps (rounds board, calculators, audit …)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str  # reversed with the program id: path("programs/<int:program_id>/…")
    action: str  # shown only when can(user, action, program)
    order: int = 50


_items: list[NavItem] = []


def register(item: NavItem) -> None:
    if item not in _items:
        _items.append(item)
        _items.sort(key=lambda i: i.order)


def items() -> list[NavItem]:
    return list(_items)
