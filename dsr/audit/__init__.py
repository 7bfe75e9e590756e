"""The append-only, hash-chained audit trail: who did what, when, with before and after."""
