"""Registry, research and interoperability mappings from plain records.

Every mapping here takes the frozen dataclasses of :mod:`ecmo_core.exports.records` (built by the web layer from
the database, or by any other program) and returns plain Python data: dicts and lists ready for JSON, rows ready
for CSV. Nothing here touches a database, a file or the clock.

- :mod:`~ecmo_core.exports.elso` — ELSO Registry-style rows and the mandatory-field completeness check;
- :mod:`~ecmo_core.exports.ecls_cdm` — the ECLS CDM (OMOP extension) tables;
- :mod:`~ecmo_core.exports.fhir` — a FHIR R4 Bundle per run;
- :mod:`~ecmo_core.exports.research` — a HIPAA Safe Harbor de-identified dataset and its data dictionary.
"""
