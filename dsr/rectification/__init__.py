"""Rectification (GDPR Art. 16) and the notices to recipients that rectification and erasure owe (Art. 19)."""
