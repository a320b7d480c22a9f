"""The per-session audio buffer: the AudioChunks table (key ``sessionId`` + ``sequence``).

Why a table and not the shared SQS FIFO queue of the first design: a FIFO queue hands out
messages of *any* message group to whoever calls ReceiveMessage, so a stream worker cannot
read only its own session's chunks from a queue shared by all sessions (and while a group's
messages are in flight the group is locked to their receiver). A DynamoDB Query on
``sessionId = S AND sequence > last_fed`` is exactly "the next chunks of this session, in
order", durable and shared by nothing else. See README.md, "Why not SQS".

Row: ``sessionId`` (S), ``sequence`` (N), ``audio`` (B, PCM16LE 16 kHz mono), ``samples``,
``sampleOffset`` (N: index of the chunk's first sample in the session's accepted audio),
``receivedAt`` (N, epoch seconds), ``peak``, ``rmsDbfs``, ``clippingRatio`` (N),
``expiresAt`` (N, TTL). The worker deletes the chunks it has fed; TTL removes the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from common.dynamo import conditional

from audio_transcription.dynamo import decimal
from audio_transcription.quality import ChunkQuality


@dataclass(frozen=True)
class StoredChunk:
    """One chunk as the worker reads it."""

    session_id: str
    sequence: int
    pcm: bytes
    samples: int
    sample_offset: int
    received_at: float
    rms_dbfs: float

    @property
    def seconds(self) -> float:
        """Duration at 16 kHz."""
        return self.samples / 16000.0


def chunk_item(session_id: str, sequence: int, pcm: bytes, sample_offset: int, quality: ChunkQuality,
               received_at: float, expires_at: int) -> dict[str, Any]:
    """The AudioChunks row of one chunk."""
    return {
        "sessionId": session_id,
        "sequence": sequence,
        "audio": pcm,
        "samples": len(pcm) // 2,
        "sampleOffset": sample_offset,
        "receivedAt": decimal(received_at),
        "peak": decimal(quality.peak, 5),
        "rmsDbfs": decimal(quality.rms_dbfs, 2),
        "clippingRatio": decimal(quality.clipping_ratio, 6),
        "expiresAt": expires_at,
    }


class ChunkStore:
    """Reads and writes the AudioChunks table (a boto3 Table resource)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def put(self, session_id: str, sequence: int, pcm: bytes, sample_offset: int, quality: ChunkQuality,
            received_at: float, expires_at: int) -> bool:
        """Store an accepted chunk once; False when that sequence is already stored (a repeat)."""
        return conditional(self._table.put_item,
                           Item=chunk_item(session_id, sequence, pcm, sample_offset, quality, received_at, expires_at),
                           ConditionExpression="attribute_not_exists(#seq)",
                           ExpressionAttributeNames={"#seq": "sequence"}) is not None

    def read_after(self, session_id: str, after_sequence: int, limit: int = 20) -> list[StoredChunk]:
        """The session's next chunks in sequence order (strongly consistent read)."""
        response = self._table.query(
            KeyConditionExpression=Key("sessionId").eq(session_id) & Key("sequence").gt(after_sequence),
            ConsistentRead=True,
            Limit=limit,
        )
        out = []
        for item in response.get("Items", []):
            audio = item.get("audio")
            pcm = bytes(audio.value if hasattr(audio, "value") else (audio or b""))
            out.append(StoredChunk(
                session_id=session_id,
                sequence=int(item["sequence"]),
                pcm=pcm,
                samples=len(pcm) // 2,
                sample_offset=int(item.get("sampleOffset", 0)),
                received_at=float(item.get("receivedAt", 0)),
                rms_dbfs=float(item.get("rmsDbfs", -120)),
            ))
        return out

    def delete(self, session_id: str, sequences: list[int]) -> None:
        """Remove fed chunks (batched; unprocessed items are retried by the batch writer)."""
        if not sequences:
            return
        with self._table.batch_writer() as batch:
            for sequence in sequences:
                batch.delete_item(Key={"sessionId": session_id, "sequence": sequence})
