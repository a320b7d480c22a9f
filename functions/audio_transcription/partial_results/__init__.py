"""Turn Amazon Transcribe partial results into stable, de-duplicated segments (no AWS calls).

Import from the modules (``partial_results.processor``, ``.config``, ``.model``): this package
imports nothing itself, so the ``sendAudio`` handler can read ``ProcessorConfig`` through the
settings without importing ``amazon_transcribe``, which only the stream worker's layer ships.
"""
