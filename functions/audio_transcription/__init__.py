"""Audio transcription: speaker audio into Amazon Transcribe Streaming, partial results into segments.

Packages: ``audio_processor`` (the ``sendAudio`` route handler), ``stream_worker`` (one
Transcribe stream per live session) and ``partial_results`` (the plain processor that turns
partial results into stable, de-duplicated segments). See README.md.
"""
