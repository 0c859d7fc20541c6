"""ECMO Steward clinical core: pure Python formulas, scores, models and surveillance rules.

No Django, no I/O, no clock: callers pass ``now``. Import-linter enforces this boundary.
"""
