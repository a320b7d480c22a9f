"""heartbeat: liveness, and the notices to refresh before API Gateway's 2-hour cut-off."""
