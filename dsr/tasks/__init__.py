"""Notes and simple tasks on a case."""
