"""Start a stream worker for a session: claim the lease, then invoke the worker asynchronously."""

from __future__ import annotations

import json
import uuid
from typing import Any

from common.observability import logger

from audio_transcription.stream_worker.lease import LeaseStore

REASON_START = "start"
REASON_HANDOVER = "handover"
REASON_RESTART = "restart"


def new_lease_id() -> str:
    """A fresh, unguessable lease id."""
    return uuid.uuid4().hex


def invoke_worker(lambda_client: Any, function_name: str, session_id: str, lease_id: str, reason: str) -> None:
    """Async-invoke the stream worker with its lease (raises on failure)."""
    payload = {"sessionId": session_id, "leaseId": lease_id, "reason": reason}
    lambda_client.invoke(FunctionName=function_name, InvocationType="Event",
                         Payload=json.dumps(payload).encode("utf-8"))


def start_worker(leases: LeaseStore, lambda_client: Any, function_name: str, session_id: str, now: float,
                 grace: float, reason: str = REASON_START) -> str | None:
    """Claim a free lease and invoke a worker with it; returns the lease id, or None when a
    worker already holds the lease (or the invoke failed, in which case the claim is undone so
    the next chunk tries again)."""
    lease_id = new_lease_id()
    if not leases.claim(session_id, lease_id, now, grace):
        return None
    try:
        invoke_worker(lambda_client, function_name, session_id, lease_id, reason)
    except Exception:
        logger.exception("stream worker invoke failed", extra={"sessionId": session_id})
        leases.abandon(session_id, lease_id)
        return None
    logger.info("stream worker started", extra={"sessionId": session_id, "leaseId": lease_id, "reason": reason})
    return lease_id
