"""Every write in governance, one module per concern: ``qi`` (projects, measures, data points, PDSA cycles),
``policies`` (policies, versions, sign-offs, decision links) and ``education`` (competencies, awards, sessions,
shifts). Each action checks permission, validates (ValidationError keyed by field), writes and appends its audit
event in one transaction.
"""
