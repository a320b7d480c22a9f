"""Every minute: push status to speakers, remove stale connections, end abandoned sessions."""
