"""Exports for access (Art. 15(3)) and portability (Art. 20): a ZIP with data.json (validated against the
JSON Schema in the top-level ``exports/``), a CSV per category, a readable overview (HTML and PDF) and a
manifest with checksums, made by a background job, downloaded by staff and managers, deleted after
``EXPORT_RETENTION_DAYS``. See ``exports/README.md`` for the format."""
