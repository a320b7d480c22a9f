"""Typed views of Sessions and Connections rows (docs/data-model.md), converted from DynamoDB items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from common.tables import ROLE_LISTENER, ROLE_SPEAKER, SESSION_ACTIVE


def _int(value: Any, default: int | None = 0) -> int | None:
    if value is None:
        return default
    if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        return int(value)
    return default


@dataclass(frozen=True)
class Session:
    """One Sessions row."""

    session_id: str
    speaker_connection_id: str
    speaker_user_id: str
    source_language: str
    status: str
    paused: bool
    muted: bool
    listener_count: int
    created_at: int
    updated_at: int
    expires_at: int
    speaker_disconnected_at: int | None = None
    ended_at: int | None = None
    end_reason: str | None = None
    speaker_refresh_digest: str | None = None

    @property
    def active(self) -> bool:
        """The session has not been ended."""
        return self.status == SESSION_ACTIVE

    def ends_at(self, max_duration_seconds: int) -> int:
        """When the sweep ends the session at the latest."""
        return self.created_at + max_duration_seconds

    def broadcast_allowed(self) -> bool:
        """Captions and audio may be sent to listeners (active, not paused, not muted)."""
        return self.active and not self.paused and not self.muted

    def accepts_audio_from(self, connection_id: str) -> bool:
        """Audio from this connection may enter the session: only its own speaker, only while it may broadcast."""
        return bool(connection_id) and connection_id == self.speaker_connection_id and self.broadcast_allowed()

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Session:
        """Build from a DynamoDB item (numbers arrive as Decimal)."""
        return cls(
            session_id=str(item["sessionId"]),
            speaker_connection_id=str(item.get("speakerConnectionId") or ""),
            speaker_user_id=str(item.get("speakerUserId") or ""),
            source_language=str(item.get("sourceLanguage") or ""),
            status=str(item.get("status") or ""),
            paused=bool(item.get("paused", False)),
            muted=bool(item.get("muted", False)),
            listener_count=max(0, _int(item.get("listenerCount")) or 0),
            created_at=_int(item.get("createdAt")) or 0,
            updated_at=_int(item.get("updatedAt")) or 0,
            expires_at=_int(item.get("expiresAt")) or 0,
            speaker_disconnected_at=_int(item.get("speakerDisconnectedAt"), None),
            ended_at=_int(item.get("endedAt"), None),
            end_reason=item.get("endReason"),
            speaker_refresh_digest=item.get("speakerRefreshDigest") or None,
        )

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item; optional attributes are left out rather than stored empty."""
        item: dict[str, Any] = {
            "sessionId": self.session_id,
            "speakerConnectionId": self.speaker_connection_id,
            "speakerUserId": self.speaker_user_id,
            "sourceLanguage": self.source_language,
            "status": self.status,
            "paused": self.paused,
            "muted": self.muted,
            "listenerCount": self.listener_count,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "expiresAt": self.expires_at,
        }
        optional = {"speakerDisconnectedAt": self.speaker_disconnected_at, "endedAt": self.ended_at,
                    "endReason": self.end_reason, "speakerRefreshDigest": self.speaker_refresh_digest}
        item.update({k: v for k, v in optional.items() if v is not None})
        return item


@dataclass(frozen=True)
class Connection:
    """One Connections row."""

    connection_id: str
    role: str
    user_id: str
    source_ip: str
    connected_at: int
    last_heartbeat_at: int
    expires_at: int
    session_id: str | None = None
    target_language: str | None = None
    refresh_digest: str | None = None

    @property
    def is_speaker(self) -> bool:
        """The connection was authorized as a speaker."""
        return self.role == ROLE_SPEAKER

    @property
    def is_listener(self) -> bool:
        """The connection was authorized as a listener."""
        return self.role == ROLE_LISTENER

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Connection:
        """Build from a DynamoDB item (also from the BySessionLanguage projection)."""
        connected_at = _int(item.get("connectedAt")) or 0
        return cls(
            connection_id=str(item["connectionId"]),
            role=str(item.get("role") or ""),
            user_id=str(item.get("userId") or ""),
            source_ip=str(item.get("sourceIp") or ""),
            connected_at=connected_at,
            last_heartbeat_at=_int(item.get("lastHeartbeatAt"), connected_at) or 0,
            expires_at=_int(item.get("expiresAt")) or 0,
            session_id=item.get("sessionId") or None,
            target_language=item.get("targetLanguage") or None,
            refresh_digest=item.get("refreshTokenDigest") or None,
        )

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item; ``userId``, ``sessionId`` and ``targetLanguage`` only when set
        (an empty string may not be an index key, and speaker rows must stay out of the index)."""
        item: dict[str, Any] = {
            "connectionId": self.connection_id,
            "role": self.role,
            "sourceIp": self.source_ip,
            "connectedAt": self.connected_at,
            "lastHeartbeatAt": self.last_heartbeat_at,
            "expiresAt": self.expires_at,
        }
        optional = {"userId": self.user_id, "sessionId": self.session_id, "targetLanguage": self.target_language,
                    "refreshTokenDigest": self.refresh_digest}
        item.update({k: v for k, v in optional.items() if v})
        return item
