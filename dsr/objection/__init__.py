"""Objection (GDPR Art. 21): direct marketing stopped at once with a suppression list of keyed hashes that
marketing imports are checked against; other objections decided by the privacy manager after balancing."""
