"""Files on a case: scanned letters, recognised by content and bounded in size."""
