"""speakerControl: pause, resume, mute, unmute or end a session (its own speaker connection only)."""
