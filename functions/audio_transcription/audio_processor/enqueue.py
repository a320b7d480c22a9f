"""Store an admitted chunk in the session's buffer, and make sure a stream worker will read it.

Never lose an accepted chunk: a chunk is *accepted* once it is stored. If storing fails
after the session admitted its sequence, the admission is rolled back (so the client may
resend the same sequence) and the client gets AUDIO_NOT_ACCEPTED; if a later chunk was
admitted meanwhile the rollback is impossible, and the error says so (do not resend).
"""

from __future__ import annotations

from typing import Any

from common.envelope import ClientError
from common.observability import logger

from audio_transcription.audio_processor.session_gate import Admission, SessionGate, duplicate
from audio_transcription.audio_processor.validation import AudioMessage
from audio_transcription.chunks import ChunkStore
from audio_transcription.quality import ChunkQuality
from audio_transcription.stream_worker.lease import LeaseStore
from audio_transcription.stream_worker.starter import start_worker


def store_chunk(store: ChunkStore, gate: SessionGate, message: AudioMessage, admission: Admission,
                quality: ChunkQuality, now: float, ttl_seconds: int) -> None:
    """Write the chunk; on failure undo the admission and raise AUDIO_NOT_ACCEPTED (AUDIO_DUPLICATE for a
    late-window chunk that was already stored)."""
    try:
        stored = store.put(message.session_id, message.sequence, message.pcm, admission.sample_offset, quality,
                           received_at=now, expires_at=int(now) + ttl_seconds)
        if stored:
            return
        gate.rollback_late(message.session_id, message.samples)
        raise duplicate(message.session_id, message.sequence)
    except ClientError:
        raise
    except Exception:
        logger.exception("audio chunk could not be stored", extra={"sessionId": message.session_id,
                                                                   "sequence": message.sequence})
    try:
        if admission.late:
            undone = gate.rollback_late(message.session_id, message.samples)
        else:
            undone = gate.rollback(message.session_id, message.sequence, admission.previous_sequence, message.samples)
    except Exception:
        logger.exception("rollback of an unstored chunk failed", extra={"sessionId": message.session_id})
        undone = False
    raise ClientError("AUDIO_NOT_ACCEPTED",
                      "the chunk could not be stored; resend it with the same sequence" if undone
                      else "the chunk could not be stored and a later chunk was already accepted; it is lost",
                      status=503, sessionId=message.session_id, sequence=message.sequence, retry=undone)


def ensure_worker(leases: LeaseStore, lambda_client: Any, function_name: str, session_id: str,
                  admission: Admission, now: float, grace: float) -> str | None:
    """Start a stream worker when the session has none (the chunk is stored either way:
    if this fails, the next chunk tries again)."""
    if admission.worker_live:
        return None
    try:
        return start_worker(leases, lambda_client, function_name, session_id, now, grace)
    except Exception:
        logger.exception("could not start a stream worker", extra={"sessionId": session_id})
        return None
