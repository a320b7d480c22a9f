"""listenerControl and leaveSession: switch language or leave."""
