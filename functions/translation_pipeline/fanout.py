"""Fan-out beyond one invocation: a language's listeners split into shards, posted by parallel invocations.

One invocation posts ``broadcast_concurrency`` messages at a time, so its broadcast time grows
with the audience (2,000 listeners x 2 messages at 64 in flight and 25 ms a post is ~1.6 s).
Above ``FANOUT_SHARD_LISTENERS`` listeners in a language, the TranslationProcessor keeps the
first shard for itself and hands every other shard, with the segment's finished messages, to
an asynchronous invocation of its own function (a ``shardPost`` event), so every shard is
posted at once and delivery time stays near that of one shard.

Order per connection is kept: a connection is in exactly one shard, and a shard carries all
of the segment's messages for its language in order, posted to each connection by one task.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

SHARD_POST = "shardPost"
# Lambda's asynchronous invoke payload limit (1 MB = 1,048,576 bytes), less room for the envelope.
MAX_SHARD_EVENT_BYTES = 1_000_000
MAX_SHARD_CONNECTIONS = 5_000
MAX_MESSAGE_BYTES = 128 * 1024
_MAX_ID_CHARS = 256


class InvalidShardPost(ValueError):
    """The payload is not a shard this function can post."""


@dataclass(frozen=True)
class ShardPost:
    """Messages to post, in order, to each of a shard's connections."""

    session_id: str
    segment_id: str
    language: str
    connection_ids: tuple[str, ...]
    messages: tuple[bytes, ...]
    shard: int
    shards: int
    emitted_at: float | None = None

    def to_event(self) -> dict[str, Any]:
        """The async invoke payload (messages are UTF-8 JSON, carried as strings)."""
        event: dict[str, Any] = {"type": SHARD_POST, "sessionId": self.session_id, "segmentId": self.segment_id,
                                 "language": self.language, "shard": self.shard, "shards": self.shards,
                                 "connectionIds": list(self.connection_ids),
                                 "messages": [m.decode("utf-8") for m in self.messages]}
        if self.emitted_at is not None:
            event["emittedAt"] = self.emitted_at
        return event

    @classmethod
    def from_event(cls, event: Any) -> ShardPost:
        """Validate a ``shardPost`` payload; raises ``InvalidShardPost`` saying what is wrong."""
        if not isinstance(event, Mapping) or event.get("type") != SHARD_POST:
            raise InvalidShardPost(f"payload must be an object with type '{SHARD_POST}'")
        unknown = set(event) - {"type", "sessionId", "segmentId", "language", "shard", "shards",
                                "connectionIds", "messages", "emittedAt"}
        if unknown:
            raise InvalidShardPost(f"unknown field(s): {', '.join(sorted(unknown))}")
        for key in ("sessionId", "segmentId", "language"):
            value = event.get(key)
            if not isinstance(value, str) or not value or len(value) > _MAX_ID_CHARS:
                raise InvalidShardPost(f"{key} must be a non-empty string")
        if not str(event["segmentId"]).startswith(f"{event['sessionId']}#"):
            raise InvalidShardPost("segmentId must be '<sessionId>#<sequence>'")
        shard, shards = event.get("shard"), event.get("shards")
        if any(isinstance(v, bool) or not isinstance(v, int) for v in (shard, shards)) or not 1 <= shard <= shards:
            raise InvalidShardPost("shard and shards must be integers with 1 <= shard <= shards")
        ids = event.get("connectionIds")
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_SHARD_CONNECTIONS:
            raise InvalidShardPost(f"connectionIds must be a list of 1 to {MAX_SHARD_CONNECTIONS} connection ids")
        if any(not isinstance(c, str) or not c or len(c) > _MAX_ID_CHARS for c in ids):
            raise InvalidShardPost("every connection id must be a non-empty string")
        if len(set(ids)) != len(ids):
            raise InvalidShardPost("connectionIds must not repeat (a repeat would be sent everything twice)")
        messages = event.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidShardPost("messages must be a non-empty list")
        encoded = []
        for m in messages:
            if not isinstance(m, str) or not m:
                raise InvalidShardPost("every message must be a non-empty string")
            data = m.encode("utf-8")
            if len(data) > MAX_MESSAGE_BYTES:
                raise InvalidShardPost(f"a message is over {MAX_MESSAGE_BYTES} bytes")
            try:
                if not isinstance(json.loads(m), dict):
                    raise ValueError
            except ValueError:
                raise InvalidShardPost("every message must be a JSON object") from None
            encoded.append(data)
        emitted_at = event.get("emittedAt")
        if emitted_at is not None and (isinstance(emitted_at, bool) or not isinstance(emitted_at, (int, float)) or emitted_at < 0):
            raise InvalidShardPost("emittedAt must be a non-negative number")
        return cls(event["sessionId"], event["segmentId"], event["language"], tuple(ids), tuple(encoded),
                   shard, shards, None if emitted_at is None else float(emitted_at))


def split_shards(connection_ids: Sequence[str], shard_size: int) -> list[list[str]]:
    """Connections in shards of at most ``shard_size`` (sizes differ by at most one), or one shard
    when there are not more than ``shard_size``; 0 turns sharding off."""
    count = len(connection_ids)
    if shard_size <= 0 or count <= shard_size:
        return [list(connection_ids)]
    shards = -(-count // shard_size)
    base, extra = divmod(count, shards)
    out, start = [], 0
    for i in range(shards):
        size = base + (1 if i < extra else 0)
        out.append(list(connection_ids[start:start + size]))
        start += size
    return out


def shard_events(session_id: str, segment_id: str, language: str, shards: Sequence[Sequence[str]],
                 messages: Sequence[bytes], emitted_at: float | None) -> list[ShardPost]:
    """One ``ShardPost`` per shard; a shard whose event would pass the async payload limit is split again."""
    out: list[ShardPost] = []
    total = len(shards)
    for index, ids in enumerate(shards, start=1):
        out.extend(_fit(ShardPost(session_id, segment_id, language, tuple(ids), tuple(messages), index, total, emitted_at)))
    return out


def _fit(post: ShardPost) -> list[ShardPost]:
    if len(post.connection_ids) <= 1 or len(json.dumps(post.to_event()).encode("utf-8")) <= MAX_SHARD_EVENT_BYTES:
        return [post]
    half = len(post.connection_ids) // 2
    first = ShardPost(post.session_id, post.segment_id, post.language, post.connection_ids[:half], post.messages,
                      post.shard, post.shards, post.emitted_at)
    second = ShardPost(post.session_id, post.segment_id, post.language, post.connection_ids[half:], post.messages,
                       post.shard, post.shards, post.emitted_at)
    return _fit(first) + _fit(second)


class ShardDispatcher:
    """Hands shards to asynchronous invocations of this function (``InvocationType=Event``), several at once."""

    def __init__(self, lambda_client: Any, default_function: str = "", parallel: int = 8) -> None:
        self._lambda = lambda_client
        self._default = default_function
        self._executor = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="shard")

    def dispatch_all(self, posts: Sequence[ShardPost], function_name: str | None = None) -> list[Exception | None]:
        """Invoke one async invocation per post, in parallel; per post None (accepted) or the error."""
        def one(post: ShardPost) -> Exception | None:
            try:
                self.dispatch(post, function_name)
                return None
            except Exception as exc:  # that shard only: the caller posts it itself
                return exc
        return list(self._executor.map(one, posts))

    def dispatch(self, post: ShardPost, function_name: str | None = None) -> None:
        """Invoke the function (the caller's ARN, alias included, so shards run the same version) with one shard.

        Raises what the client raises: the caller posts that shard itself instead."""
        target = function_name or self._default
        if not target:
            raise RuntimeError("no function to invoke for a shard (AWS_LAMBDA_FUNCTION_NAME unset)")
        self._lambda.invoke(FunctionName=target, InvocationType="Event",
                            Payload=json.dumps(post.to_event(), separators=(",", ":")).encode("utf-8"))
