"""Automated decisions (GDPR Art. 22; issue 18, item 2).

Two things live here. The controller's facts: which decisions Harmony takes about people based solely on
automated processing, with the logic involved and their significance and envisaged consequences
(Art. 15(1)(h)), or that there are none — a setting with its wording in nl, en and fr
(:mod:`dsr.automated.declaration`), which the access letter and the Art. 22 letter state. And the Art. 22
request itself: a subject asks for human intervention, to express their view, or to contest such a
decision; the case records which decision and what was asked, then who reviewed it, when, and with what
outcome, with a text for the subject (:mod:`dsr.automated.operations`).
"""
