"""Repository over the Connections table and its BySessionLanguage index.

A listener row with a ``sessionId`` *is* that listener's membership: it is what the counter
in the Sessions row counts and what the translation pipeline queries to broadcast. Every
write that adds or removes membership is conditional on the current ``sessionId``, so of two
racing cleanups (``$disconnect``, the sweep, a Gone reply) exactly one wins and decrements.
"""

from __future__ import annotations

from typing import Any

from common.dynamo import conditional
from common.tables import ROLE_LISTENER, is_live

from session_management.records import Connection


class ConnectionRepository:
    """Reads ignore expired rows; membership changes are conditional writes."""

    def __init__(self, table: Any, index_name: str) -> None:
        self._table = table
        self._index = index_name

    def get(self, connection_id: str, now: int) -> Connection | None:
        """The live connection row, or None."""
        item = self._table.get_item(Key={"connectionId": connection_id}, ConsistentRead=True).get("Item")
        return Connection.from_item(item) if is_live(item, now) else None

    def put(self, connection: Connection) -> None:
        """Store a new connection ($connect); a reused id replaces a stale row."""
        self._table.put_item(Item=connection.to_item())

    def delete(self, connection_id: str, *, session_id: str | None = None, idle_before: int | None = None) -> Connection | None:
        """Delete the row and return it as it was; None when there was no row or a condition failed.

        ``session_id``: only while the row is still in that session (hand-over of a refresh).
        ``idle_before``: only while its last heartbeat is older than that (the sweep must not
        remove a connection that heartbeated after it was judged stale).
        """
        conditions = ["attribute_exists(connectionId)"]
        values: dict[str, Any] = {}
        if session_id is not None:
            conditions.append("sessionId = :session")
            values[":session"] = session_id
        if idle_before is not None:
            conditions.append("(attribute_not_exists(lastHeartbeatAt) OR lastHeartbeatAt < :cutoff)")
            values[":cutoff"] = idle_before
        kwargs: dict[str, Any] = {"Key": {"connectionId": connection_id}, "ConditionExpression": " AND ".join(conditions),
                                  "ReturnValues": "ALL_OLD"}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        response = conditional(self._table.delete_item, **kwargs)
        if response is None:
            return None
        item = response.get("Attributes")
        return Connection.from_item(item) if item else None

    def restore(self, connection: Connection) -> bool:
        """Put back a row this invocation deleted (rollback); never overwrites a row that reappeared."""
        return conditional(self._table.put_item, Item=connection.to_item(),
                           ConditionExpression="attribute_not_exists(connectionId)") is not None

    def attach(self, connection_id: str, session_id: str, target_language: str | None = None,
               replaces_session_id: str | None = None, refresh_digest: str | None = None) -> bool:
        """Put the connection into a session (listeners with their language and refresh-token hash).

        Succeeds only when the row exists and is in no session, or still in
        ``replaces_session_id`` (a session the caller has checked is over).
        """
        values: dict[str, Any] = {":session": session_id}
        if target_language:
            update = "SET sessionId = :session, targetLanguage = :language"
            values[":language"] = target_language
            if refresh_digest:
                update += ", refreshTokenDigest = :digest"
                values[":digest"] = refresh_digest
        else:
            # A speaker row must never carry a targetLanguage, or it would appear in the listener index.
            update = "SET sessionId = :session REMOVE targetLanguage"
        condition = "attribute_exists(connectionId) AND (attribute_not_exists(sessionId)"
        if replaces_session_id:
            condition += " OR sessionId = :previous"
            values[":previous"] = replaces_session_id
        condition += ")"
        return self._conditional_update(connection_id, update, condition, values)

    def detach(self, connection_id: str, session_id: str) -> bool:
        """Take the connection out of ``session_id``; False when it was not in it (someone else did)."""
        return self._conditional_update(connection_id, "REMOVE sessionId, targetLanguage, refreshTokenDigest",
                                        "sessionId = :session", {":session": session_id})

    def rotate_refresh(self, connection_id: str, session_id: str, refresh_digest: str) -> bool:
        """Store a new refresh-token hash while the listener is still in ``session_id``."""
        return self._conditional_update(connection_id, "SET refreshTokenDigest = :digest", "sessionId = :session",
                                        {":session": session_id, ":digest": refresh_digest})

    def set_language(self, connection_id: str, session_id: str, target_language: str) -> bool:
        """Switch a listener's language while it is still in ``session_id``."""
        return self._conditional_update(connection_id, "SET targetLanguage = :language", "sessionId = :session",
                                        {":session": session_id, ":language": target_language})

    def touch(self, connection_id: str, now: int) -> Connection | None:
        """Record a heartbeat; returns the updated row, or None when the connection is unknown or expired."""
        response = conditional(
            self._table.update_item,
            Key={"connectionId": connection_id},
            UpdateExpression="SET lastHeartbeatAt = :now",
            ConditionExpression="attribute_exists(connectionId) AND expiresAt > :now",
            ExpressionAttributeValues={":now": now},
            ReturnValues="ALL_NEW",
        )
        if response is None:
            return None
        return Connection.from_item(response["Attributes"])

    def listeners(self, session_id: str, now: int) -> list[Connection]:
        """Every live listener row of a session (one paginated Query of the index; speaker rows
        have no targetLanguage and so are not in it)."""
        kwargs: dict[str, Any] = {
            "IndexName": self._index,
            "KeyConditionExpression": "sessionId = :session",
            "ExpressionAttributeValues": {":session": session_id},
        }
        found: list[Connection] = []
        while True:
            page = self._table.query(**kwargs)
            for item in page.get("Items", []):
                if is_live(item, now) and item.get("role", ROLE_LISTENER) == ROLE_LISTENER:
                    found.append(Connection.from_item(item))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _conditional_update(self, connection_id: str, update: str, condition: str, values: dict[str, Any]) -> bool:
        return conditional(self._table.update_item, Key={"connectionId": connection_id}, UpdateExpression=update,
                           ConditionExpression=condition, ExpressionAttributeValues=values) is not None
