"""joinSession: a listener joins a session in a target language."""
