"""What the quality app contributes at start-up: navigation entries and the adverse-event timeline lane."""

from __future__ import annotations
