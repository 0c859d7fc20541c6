"""Every write of the perfusion app, one module per concern: the catalogue (CSV import), the program's
perfusion settings, and standby circuits (priming, checklist, closing, expiry). Circuit selection is a
decision: ``decisions.actions.record_decision`` records it and ``perfusion.selection`` applies it."""
