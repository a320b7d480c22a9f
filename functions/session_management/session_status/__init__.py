"""getSessionStatus: the state of the caller's session."""
