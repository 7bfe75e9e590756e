"""Verifying the subject's identity, proportionately (Art. 12(6); EDPB 01/2022 §§73–79)."""
