"""Audio transcription component."""

from components.audio_transcription.component import AudioTranscription, AudioTranscriptionArgs

__all__ = ["AudioTranscription", "AudioTranscriptionArgs"]
