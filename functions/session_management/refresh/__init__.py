"""refreshConnection: move a speaker or listener to a new connection without losing its place."""
