"""createSession: a speaker opens a session."""
