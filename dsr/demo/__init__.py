"""Demo data for a newcomer: users for each role and a realistic queue."""
