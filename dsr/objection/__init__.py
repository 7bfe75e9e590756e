"""Objection (GDPR Art. 21): direct marketing stopped at once, its subject put on the suppression list
(:mod:`dsr.suppression`); other objections decided by the privacy manager after balancing."""
