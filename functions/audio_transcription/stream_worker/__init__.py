"""The per-session stream worker: lease, Transcribe stream, handover."""
