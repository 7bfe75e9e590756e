"""Harmony's own systems, played by a separate SQLite database for the embedded demo.

``generate`` builds and fills it; ``sample_subjects`` picks real demo customers for demo cases. dsr reads
these systems only through the data map (:mod:`dsr.datamap`), as it would read Harmony's real systems.
"""

from dsr.demo.harmony.generate import GenerationReport, generate
from dsr.demo.harmony.sample import ERASURE_PROFILES, PROFILES, sample_subjects

__all__ = ["ERASURE_PROFILES", "PROFILES", "GenerationReport", "generate", "sample_subjects"]
