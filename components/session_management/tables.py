"""The session tables: Sessions, Connections (listeners by session and language), RateLimits."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.shared.platform import Platform

CONNECTIONS_BY_SESSION_INDEX = "BySessionLanguage"
TTL_ATTRIBUTE = "expiresAt"


class SessionTables:
    """Creates the three on-demand tables as children of `parent` (see docs/data-model.md)."""

    def __init__(self, name: str, platform: Platform, parent: pulumi.Resource) -> None:
        child = pulumi.ResourceOptions(parent=parent)
        ttl = {"attribute_name": TTL_ATTRIBUTE, "enabled": True}
        self.sessions = aws.dynamodb.Table(
            f"{name}-sessions",
            name=platform.physical_name("sessions"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="sessionId",
            attributes=[{"name": "sessionId", "type": "S"}],
            ttl=ttl,
            point_in_time_recovery={"enabled": platform.config.session.pointInTimeRecovery},
            server_side_encryption={"enabled": True},
            opts=child,
        )
        self.connections = aws.dynamodb.Table(
            f"{name}-connections",
            name=platform.physical_name("connections"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="connectionId",
            attributes=[{"name": "connectionId", "type": "S"}, {"name": "sessionId", "type": "S"},
                        {"name": "targetLanguage", "type": "S"}],
            global_secondary_indexes=[{
                "name": CONNECTIONS_BY_SESSION_INDEX,
                "hash_key": "sessionId",
                "range_key": "targetLanguage",
                # Speaker rows have no targetLanguage, so the index holds listeners only.
                "projection_type": "INCLUDE",
                "non_key_attributes": [TTL_ATTRIBUTE, "role", "lastHeartbeatAt"],
            }],
            ttl=ttl,
            server_side_encryption={"enabled": True},
            opts=child,
        )
        self.rate_limits = aws.dynamodb.Table(
            f"{name}-rate-limits",
            name=platform.physical_name("rate-limits"),
            billing_mode="PAY_PER_REQUEST",
            hash_key="limitKey",
            attributes=[{"name": "limitKey", "type": "S"}],
            ttl=ttl,
            server_side_encryption={"enabled": True},
            opts=child,
        )
        self.connections_index_arn = self.connections.arn.apply(lambda arn: f"{arn}/index/{CONNECTIONS_BY_SESSION_INDEX}")
