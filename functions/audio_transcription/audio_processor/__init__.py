"""The ``sendAudio`` route handler (the audio processor)."""
