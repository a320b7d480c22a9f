"""$default: answer unknown actions and malformed messages with a clear error."""
