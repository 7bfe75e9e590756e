"""Letters to the data subject: kinds, facts, rendering, issuing (issue 5)."""
