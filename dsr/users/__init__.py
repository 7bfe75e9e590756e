"""User management by the privacy manager."""
