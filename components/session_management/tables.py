"""The session tables: Sessions, Connections (listeners by session and language), RateLimits."""

from __future__ import annotations

import pulumi

from components.shared.platform import Platform
from components.shared.tables import TTL_ATTRIBUTE, create_table

CONNECTIONS_BY_SESSION_INDEX = "BySessionLanguage"


class SessionTables:
    """Creates the three on-demand tables as children of `parent` (see docs/data-model.md)."""

    def __init__(self, name: str, platform: Platform, parent: pulumi.Resource) -> None:
        self.sessions = create_table(f"{name}-sessions", platform.physical_name("sessions"), "sessionId", parent,
                                     point_in_time_recovery=platform.config.session.pointInTimeRecovery)
        self.connections = create_table(
            f"{name}-connections", platform.physical_name("connections"), "connectionId", parent,
            extra_attributes=("sessionId", "targetLanguage"),
            indexes=[{
                "name": CONNECTIONS_BY_SESSION_INDEX,
                "hash_key": "sessionId",
                "range_key": "targetLanguage",
                # Speaker rows have no targetLanguage, so the index holds listeners only; the
                # sweep reads lastHeartbeatAt from it to find silent listeners.
                "projection_type": "INCLUDE",
                "non_key_attributes": [TTL_ATTRIBUTE, "role", "lastHeartbeatAt"],
            }],
        )
        self.rate_limits = create_table(f"{name}-rate-limits", platform.physical_name("rate-limits"), "limitKey", parent)
        self.connections_index_arn = self.connections.arn.apply(lambda arn: f"{arn}/index/{CONNECTIONS_BY_SESSION_INDEX}")
