"""Escalation reports, deadline warnings and the privacy manager's dashboard (DESIGN.md, "Deadlines").

The privacy manager's fear is a missed deadline found by the regulator: everything here exists to make each
risk visible before it happens, computed from the same clock as the case page (:mod:`dsr.cases.deadlines`).
"""
