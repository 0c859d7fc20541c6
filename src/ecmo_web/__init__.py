"""ECMO Steward web layer: Django models, actions, views, API and commands (thin adapters over ecmo_core)."""
