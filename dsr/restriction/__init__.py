"""Restriction of processing (GDPR Art. 18): grounds, the records restricted, lifting after telling the subject."""
