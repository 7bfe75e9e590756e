"""Data subjects: the people a request is about, and finding them again."""
