"""Development tooling that is not part of the app (import-linter contract types)."""
