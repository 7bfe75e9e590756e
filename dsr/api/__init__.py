"""The JSON API under /api/v1, for the web form and other systems. Bearer tokens; errors are JSON."""
