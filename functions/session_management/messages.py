"""Parsing and validation of client messages (docs/protocol.md).

``parse_message`` turns a WebSocket text frame into one typed, validated message or raises
``ClientError`` with a stable code; nothing touches a table before a message has passed here.
Fields are strict: unknown fields, wrong types and oversized strings are errors, so a client
bug surfaces at once instead of being half-understood.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from common import languages
from common.envelope import ClientError, safe_text
from common.strict_json import DuplicateField, unique_keys

from session_management import refresh_tokens, session_ids

CREATE_SESSION = "createSession"
JOIN_SESSION = "joinSession"
LEAVE_SESSION = "leaveSession"
HEARTBEAT = "heartbeat"
REFRESH_CONNECTION = "refreshConnection"
GET_SESSION_STATUS = "getSessionStatus"
SPEAKER_CONTROL = "speakerControl"
LISTENER_CONTROL = "listenerControl"
SEND_AUDIO = "sendAudio"  # routed to the audio transcription component, listed for $default's answer

SESSION_ACTIONS = (CREATE_SESSION, JOIN_SESSION, LEAVE_SESSION, HEARTBEAT, REFRESH_CONNECTION,
                   GET_SESSION_STATUS, SPEAKER_CONTROL, LISTENER_CONTROL)
VALID_ACTIONS = (*SESSION_ACTIONS, SEND_AUDIO)

SPEAKER_COMMANDS = ("pause", "resume", "mute", "unmute", "end")
LISTENER_COMMANDS = ("switchLanguage", "leave")

# Control messages are tiny; anything near API Gateway's 128 KB is abuse or a bug.
MAX_BODY_BYTES = 8192
MAX_LANGUAGE_LENGTH = 16
MAX_CONNECTION_ID_LENGTH = 128
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
CONNECTION_ID_PATTERN = re.compile(r"^[A-Za-z0-9+/=_-]{1,128}$")


@dataclass(frozen=True)
class Message:
    """A validated client message; fields an action does not take are None."""

    action: str
    request_id: str | None = None
    session_id: str | None = None
    source_language: str | None = None
    target_language: str | None = None
    command: str | None = None
    previous_connection_id: str | None = None
    refresh_token: str | None = None


def invalid(field: str, message: str) -> ClientError:
    """An INVALID_FIELD error naming the field."""
    return ClientError("INVALID_FIELD", message, field=field)


def _string(value: Any, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise invalid(field, f"'{field}' must be a string")
    if not value.strip():
        raise invalid(field, f"'{field}' must not be empty")
    if len(value) > max_length:
        raise invalid(field, f"'{field}' is longer than {max_length} characters")
    return value


def _session_id(value: Any) -> str:
    raw = _string(value, "sessionId", 64)
    normalized = session_ids.normalize_session_id(raw)
    if normalized is None:
        raise invalid("sessionId", "'sessionId' is not a session id (it looks like 'golden-eagle-4821')")
    return normalized


def _source_language(value: Any) -> str:
    code = languages.canonical_source_language(_string(value, "sourceLanguage", MAX_LANGUAGE_LENGTH))
    if code is None:
        raise ClientError("UNSUPPORTED_LANGUAGE", f"sourceLanguage {safe_text(value, 16)!r} is not supported for live transcription",
                          field="sourceLanguage", supported=list(languages.TRANSCRIBE_STREAMING_LANGUAGES))
    return code


def _target_language(value: Any) -> str:
    code = languages.canonical_target_language(_string(value, "targetLanguage", MAX_LANGUAGE_LENGTH))
    if code is None:
        raise ClientError("UNSUPPORTED_LANGUAGE", f"targetLanguage {safe_text(value, 16)!r} is not supported",
                          field="targetLanguage", supported=sorted(languages.LISTENER_LANGUAGES))
    return code


def _choice(field: str, allowed: Iterable[str]) -> Callable[[Any], str]:
    allowed = tuple(allowed)

    def check(value: Any) -> str:
        text = _string(value, field, 32)
        if text not in allowed:
            raise ClientError("INVALID_FIELD", f"'{field}' must be one of {', '.join(allowed)}", field=field, allowed=list(allowed))
        return text
    return check


def _connection_id(value: Any) -> str:
    text = _string(value, "previousConnectionId", MAX_CONNECTION_ID_LENGTH)
    if not CONNECTION_ID_PATTERN.match(text):
        raise invalid("previousConnectionId", "'previousConnectionId' is not a connection id")
    return text


def _refresh_token(value: Any) -> str:
    text = _string(value, "refreshToken", 128)
    if not refresh_tokens.TOKEN_PATTERN.match(text):
        raise invalid("refreshToken", "'refreshToken' is not a refresh token (use the one from the last reply)")
    return text


# action -> {wire field: (attribute, required, validator)}
_FIELDS: dict[str, dict[str, tuple[str, bool, Callable[[Any], str]]]] = {
    CREATE_SESSION: {"sourceLanguage": ("source_language", True, _source_language)},
    JOIN_SESSION: {"sessionId": ("session_id", True, _session_id),
                   "targetLanguage": ("target_language", True, _target_language)},
    LEAVE_SESSION: {"sessionId": ("session_id", False, _session_id)},
    HEARTBEAT: {},
    REFRESH_CONNECTION: {"sessionId": ("session_id", True, _session_id),
                         "previousConnectionId": ("previous_connection_id", False, _connection_id),
                         "refreshToken": ("refresh_token", False, _refresh_token),
                         "targetLanguage": ("target_language", False, _target_language)},
    GET_SESSION_STATUS: {"sessionId": ("session_id", False, _session_id)},
    SPEAKER_CONTROL: {"sessionId": ("session_id", True, _session_id),
                      "command": ("command", True, _choice("command", SPEAKER_COMMANDS))},
    LISTENER_CONTROL: {"command": ("command", True, _choice("command", LISTENER_COMMANDS)),
                       "targetLanguage": ("target_language", False, _target_language),
                       "sessionId": ("session_id", False, _session_id)},
}


def decode_body(body: Any, is_base64: bool = False) -> dict[str, Any]:
    """The JSON object of a text frame, or ``ClientError`` (INVALID_MESSAGE, MESSAGE_TOO_LARGE, INVALID_JSON,
    DUPLICATE_FIELD: API Gateway routes on one ``action`` of a frame naming it twice and the
    handler would read another, so such frames are refused outright)."""
    if is_base64:
        raise ClientError("INVALID_MESSAGE", "binary frames are not accepted here; send a JSON text message")
    if not isinstance(body, str) or not body.strip():
        raise ClientError("INVALID_MESSAGE", "the message is empty; send a JSON object with an 'action'")
    if len(body.encode("utf-8", errors="surrogatepass")) > MAX_BODY_BYTES:
        raise ClientError("MESSAGE_TOO_LARGE", f"messages are limited to {MAX_BODY_BYTES} bytes", status=413, maxBytes=MAX_BODY_BYTES)
    try:
        decoded = json.loads(body, object_pairs_hook=unique_keys)
    except DuplicateField as error:
        raise ClientError("DUPLICATE_FIELD", f"the message names '{safe_text(error.name, 64)}' more than once",
                          field=safe_text(error.name, 64)) from None
    except (ValueError, RecursionError):
        raise ClientError("INVALID_JSON", "the message is not valid JSON", validActions=list(VALID_ACTIONS)) from None
    if not isinstance(decoded, dict):
        raise ClientError("INVALID_MESSAGE", "the message must be a JSON object with an 'action'", validActions=list(VALID_ACTIONS))
    return decoded


def request_id_of(body: Any) -> str | None:
    """The message's valid ``requestId`` if one can be read (to echo it in an error), else None."""
    try:
        decoded = decode_body(body)
    except ClientError:
        return None
    value = decoded.get("requestId")
    return value if isinstance(value, str) and REQUEST_ID_PATTERN.match(value) else None


def parse_message(body: Any, accepted: Iterable[str], is_base64: bool = False) -> Message:
    """Validate a text frame as one of the ``accepted`` actions."""
    accepted = tuple(accepted)
    decoded = decode_body(body, is_base64)
    action = decoded.get("action")
    if not isinstance(action, str) or not action:
        raise ClientError("INVALID_MESSAGE", "the message has no 'action' string", validActions=list(VALID_ACTIONS))
    if action not in accepted:
        raise ClientError("UNKNOWN_ACTION", f"unknown action {safe_text(action, 64)!r}", validActions=list(VALID_ACTIONS))
    request_id = decoded.get("requestId")
    if request_id is not None and (not isinstance(request_id, str) or not REQUEST_ID_PATTERN.match(request_id)):
        raise invalid("requestId", "'requestId' must be 1-64 characters of letters, digits and . _ : -")
    spec = _FIELDS[action]
    for name in decoded:
        if name not in spec and name not in ("action", "requestId"):
            raise ClientError("UNKNOWN_FIELD", f"'{safe_text(name, 64)}' is not a field of {action}", field=safe_text(name, 64),
                              allowedFields=sorted(spec))
    values: dict[str, Any] = {}
    for wire, (attribute, required, validate) in spec.items():
        if wire not in decoded or decoded[wire] is None:
            if required:
                raise ClientError("MISSING_FIELD", f"{action} needs '{wire}'", field=wire)
            continue
        values[attribute] = validate(decoded[wire])
    message = Message(action=action, request_id=request_id, **values)
    if action == LISTENER_CONTROL and message.command == "switchLanguage" and message.target_language is None:
        raise ClientError("MISSING_FIELD", "switchLanguage needs 'targetLanguage'", field="targetLanguage")
    return message
