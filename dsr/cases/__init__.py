"""Cases: one request from one person, with one or more rights, its clock and its history.

The room between the platform and the features (docs/architecture.md): the case and its workflow
(``lifecycle``), the checks every operation starts with (``guards``), the registry of what must be settled
before a case completes (``obligations``), the queue and ``case_or_404`` (``queries``). It imports no feature;
the case page modules here (``page``, ``actions``, ``checklist``, ``intake``, ``triage``, ``history``,
``forms``) are web shell and may.
"""
