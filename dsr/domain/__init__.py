"""Pure domain core: no Flask, no SQLAlchemy; time comes in as an argument."""
