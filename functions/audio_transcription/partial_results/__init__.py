"""Turn Amazon Transcribe partial results into stable, de-duplicated segments (no AWS calls)."""

from audio_transcription.partial_results.config import ProcessorConfig
from audio_transcription.partial_results.model import Segment, Word
from audio_transcription.partial_results.processor import PartialResultProcessor

__all__ = ["PartialResultProcessor", "ProcessorConfig", "Segment", "Word"]
