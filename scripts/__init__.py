"""Project scripts (build, deploy helpers)."""
