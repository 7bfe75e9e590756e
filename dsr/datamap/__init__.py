"""The data map: where a data subject's data lives in Harmony's systems, and a read-only lookup.

Sources are Fides dataset YAML files (``datasets/``, plus ``DSR_DATAMAP_DIR``) loaded by
:func:`dsr.datamap.sources.load_sources`; :func:`dsr.datamap.lookup.find_records` finds a subject's records
in a SQL source.
"""
