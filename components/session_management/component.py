"""Session management: WebSocket API, Cognito authorizer, session tables, handlers, schedule, alarms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.session_management.api import WebSocketApi
from components.session_management.identity import SpeakerIdentity
from components.session_management.tables import CONNECTIONS_BY_SESSION_INDEX, SessionTables
from components.shared.alarms import AlarmSpec, create_alarm
from components.shared.dashboard import create_dashboard, metric_widget, service_metrics
from components.shared.lambda_function import LambdaFunction, LambdaFunctionArgs
from components.shared.platform import Platform
from components.shared.websocket import add_route

SERVICE = "session-management"
CODE_BUNDLE = "session_management"


# DynamoDB actions every session function's code can reach: reading its connection and session,
# the rate limiter, and cleaning up a connection that answers 410 Gone to a reply (which updates the
# session's listener count and deletes the connection row, putting the row back if the count could not
# be updated). tests/infra checks these against the code.
SESSIONS_BASE = ("GetItem", "UpdateItem")
CONNECTIONS_BASE = ("GetItem", "UpdateItem", "DeleteItem", "PutItem")
RATE_LIMITS_BASE = ("UpdateItem",)


@dataclass(frozen=True)
class Handler:
    """One session function, the routes it serves, and what it needs beyond the base table actions."""

    name: str
    module: str
    routes: tuple[str, ...]
    description: str
    sessions_extra: tuple[str, ...] = ()
    connections_extra: tuple[str, ...] = ()


HANDLERS = (
    Handler("connect", "connect", ("$connect",), "Registers a new speaker or listener connection"),
    Handler("disconnect", "disconnect", ("$disconnect",), "Cleans up after a closed connection"),
    Handler("default-route", "default_route", ("$default",), "Answers unknown or malformed messages"),
    # A session id that collides is retried; a session whose speaker row cannot be attached is deleted again.
    Handler("create-session", "create_session", ("createSession",), "Speaker creates a session",
            sessions_extra=("PutItem", "DeleteItem")),
    Handler("join-session", "join_session", ("joinSession",), "Listener joins a session"),
    Handler("heartbeat", "heartbeat", ("heartbeat",), "Keeps a connection alive and announces refresh"),
    Handler("refresh", "refresh", ("refreshConnection",), "Moves a speaker or listener to a new connection"),
    Handler("session-status", "session_status", ("getSessionStatus",), "Answers the session's status"),
    Handler("speaker-control", "speaker_control", ("speakerControl",), "Pause, resume, mute, unmute, end"),
    Handler("listener-control", "listener_control", ("listenerControl", "leaveSession"), "Switch language, leave"),
)


@dataclass
class SessionManagementArgs:
    """The platform; the component owns everything else it needs."""

    platform: Platform


class SessionManagement(pulumi.ComponentResource):
    """Sessions, connections, the WebSocket API and its authorizer, handlers and the minute schedule."""

    def __init__(self, name: str, args: SessionManagementArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("speech-translation:session:SessionManagement", name, None, opts)
        platform = args.platform
        cfg = platform.config
        self.tables = SessionTables(name, platform, self)
        self.identity = SpeakerIdentity(name, platform, self)
        self.websocket = WebSocketApi(name, platform, self)
        self.api = self.websocket.ref

        environment = self.table_environment()
        environment.update({
            "WEBSOCKET_ENDPOINT": self.api.management_endpoint,
            "MAX_LISTENERS": str(cfg.session.maxListeners),
            "SESSION_MAX_DURATION_HOURS": str(cfg.session.maxDurationHours),
            "REFRESH_MINUTES": str(cfg.session.refreshMinutes),
            "WARNING_MINUTES": str(cfg.session.warningMinutes),
            "DATA_RETENTION_HOURS": str(cfg.session.dataRetentionHours),
            "STALE_CONNECTION_SECONDS": str(cfg.session.staleConnectionSeconds),
            "SPEAKER_GRACE_MINUTES": str(cfg.session.speakerGraceMinutes),
            "RATE_SESSIONS_PER_HOUR": str(cfg.rate_limits.sessionsPerHour),
            "RATE_LISTENER_JOINS_PER_MINUTE": str(cfg.rate_limits.listenerJoinsPerMinute),
            "RATE_CONNECTION_ATTEMPTS_PER_MINUTE": str(cfg.rate_limits.connectionAttemptsPerMinute),
            "RATE_HEARTBEATS_PER_MINUTE": str(cfg.rate_limits.heartbeatsPerMinute),
            "ALLOW_ANONYMOUS_LISTENERS": str(cfg.session.allowAnonymousListeners).lower(),
        })
        def statements(sessions_extra: Sequence[str] = (), connections_extra: Sequence[str] = ()) -> list[dict[str, Any]]:
            """One function's own grants: the base actions plus what only it calls."""
            return [*self.table_access(sessions=(*SESSIONS_BASE, *sessions_extra),
                                       connections=(*CONNECTIONS_BASE, *connections_extra),
                                       rate_limits=RATE_LIMITS_BASE, query_listeners=True),
                    self.api.manage_connections_statement()]

        self.authorizer_function = LambdaFunction(f"{name}-authorizer", LambdaFunctionArgs(
            platform=platform, service=SERVICE, code_bundle=CODE_BUNDLE,
            description="Validates Cognito tokens on $connect (fails closed)",
            handler="session_management.authorizer.handler.lambda_handler",
            memory_mb=cfg.session.handlerMemoryMb, timeout_seconds=10, websocket_route=True,
            environment={
                "COGNITO_USER_POOL_ID": self.identity.user_pool_id,
                "COGNITO_CLIENT_ID": self.identity.client_id,
                # Where tokens come from, stated rather than derived in code, so another issuer
                # (the local run's) is a configuration change.
                "TOKEN_ISSUER": self.identity.issuer,
                "TOKEN_JWKS_URL": pulumi.Output.concat(self.identity.issuer, "/.well-known/jwks.json"),
                "ALLOW_ANONYMOUS_LISTENERS": str(cfg.session.allowAnonymousListeners).lower(),
            },
        ), opts=pulumi.ResourceOptions(parent=self))
        self.authorizer = aws.apigatewayv2.Authorizer(
            f"{name}-authorizer",
            api_id=self.api.api_id,
            name=platform.physical_name("token-authorizer"),
            authorizer_type="REQUEST",
            authorizer_uri=self.authorizer_function.invoke_arn,  # the `live` alias
            # No identity source: anonymous listeners connect without a token, so the
            # authorizer must run for every $connect and decide (it fails closed).
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.lambda_.Permission(
            f"{name}-authorizer-permission",
            action="lambda:InvokeFunction",
            function=self.authorizer_function.function_name,
            qualifier=self.authorizer_function.qualifier,
            principal=platform.service_principal("apigateway"),
            source_arn=pulumi.Output.concat(self.api.execution_arn, "/authorizers/", self.authorizer.id),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.handlers: dict[str, LambdaFunction] = {}
        for handler in HANDLERS:
            function = LambdaFunction(f"{name}-{handler.name}", LambdaFunctionArgs(
                platform=platform, service=SERVICE, code_bundle=CODE_BUNDLE, description=handler.description,
                handler=f"session_management.{handler.module}.handler.lambda_handler",
                memory_mb=cfg.session.handlerMemoryMb, timeout_seconds=10, websocket_route=True,
                policy_statements=statements(handler.sessions_extra, handler.connections_extra), environment=environment,
            ), opts=pulumi.ResourceOptions(parent=self))
            self.handlers[handler.name] = function
            for route_key in handler.routes:
                add_route(f"{name}-{_slug(route_key)}", self.api, route_key, function, self,
                          authorizer_id=self.authorizer.id if route_key == "$connect" else None)

        # The sweep lists active sessions once a minute (a Scan of Sessions; connections come from the index).
        self.scheduled = self._schedule(name, platform, statements(sessions_extra=("Scan",)), environment)
        self.alarms = self._alarms(name, platform)
        functions = [self.authorizer_function, *self.handlers.values(), self.scheduled]
        self.dashboard = create_dashboard(f"{name}-dashboard", platform.global_name("sessions"), [
            metric_widget("Sessions and connections", service_metrics(
                platform.metrics_namespace, SERVICE, "SessionsCreated", "ListenersJoined", "ConnectionErrors", "RateLimitExceeded"),
                region=platform.region),
            metric_widget("Session creation latency p95 (ms)", service_metrics(
                platform.metrics_namespace, SERVICE, "SessionCreationLatency"), region=platform.region, stat="p95"),
            *[widget for function in functions for widget in function.widgets],
        ], self)
        self.register_outputs({
            "websocket_url": self.websocket.url,
            "sessions_table": self.tables.sessions.name,
            "connections_table": self.tables.connections.name,
            "user_pool_id": self.identity.user_pool_id,
            "user_pool_client_id": self.identity.client_id,
        })

    def table_environment(self) -> dict[str, pulumi.Input[str]]:
        """Environment variables naming the session tables, for any function that reads them."""
        return {
            "SESSIONS_TABLE": self.tables.sessions.name,
            "CONNECTIONS_TABLE": self.tables.connections.name,
            "CONNECTIONS_BY_SESSION_INDEX": CONNECTIONS_BY_SESSION_INDEX,
            "RATE_LIMITS_TABLE": self.tables.rate_limits.name,
        }

    def table_access(self, sessions: Sequence[str] = (), connections: Sequence[str] = (),
                     rate_limits: Sequence[str] = (), query_listeners: bool = False) -> list[dict[str, Any]]:
        """Least-privilege statements for another component: the named DynamoDB actions per table."""
        grants = [(self.tables.sessions.arn, sessions), (self.tables.connections.arn, connections),
                  (self.tables.rate_limits.arn, rate_limits)]
        statements = [{"Effect": "Allow", "Action": [f"dynamodb:{action}" for action in actions], "Resource": [arn]}
                      for arn, actions in grants if actions]
        if query_listeners:
            statements.append({"Effect": "Allow", "Action": ["dynamodb:Query"], "Resource": [self.tables.connections_index_arn]})
        return statements

    def _schedule(self, name: str, platform: Platform, statements: list[dict[str, Any]],
                  environment: dict[str, pulumi.Input[str]]) -> LambdaFunction:
        """Every minute: push status to sessions, sweep stale connections, end abandoned sessions."""
        cfg = platform.config
        scheduled = LambdaFunction(f"{name}-scheduled", LambdaFunctionArgs(
            platform=platform, service=SERVICE, code_bundle=CODE_BUNDLE,
            description="Pushes session status and sweeps stale connections every minute",
            handler="session_management.scheduled.handler.lambda_handler",
            memory_mb=cfg.session.handlerMemoryMb, timeout_seconds=55,
            policy_statements=statements, environment=environment,
        ), opts=pulumi.ResourceOptions(parent=self))
        minutes = cfg.session.statusIntervalMinutes
        rule = aws.cloudwatch.EventRule(
            f"{name}-status-schedule",
            name=platform.physical_name("session-status"),
            description="Session status push and stale-connection sweep",
            schedule_expression=f"rate({minutes} minute{'s' if minutes > 1 else ''})",
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The rule invokes the `live` alias, and only the alias may be invoked by it.
        aws.cloudwatch.EventTarget(f"{name}-status-target", rule=rule.name, arn=scheduled.arn,
                                   opts=pulumi.ResourceOptions(parent=self))
        aws.lambda_.Permission(
            f"{name}-status-permission", action="lambda:InvokeFunction", function=scheduled.function_name,
            qualifier=scheduled.qualifier, principal=platform.service_principal("events"), source_arn=rule.arn,
            opts=pulumi.ResourceOptions(parent=self))
        return scheduled

    def _alarms(self, name: str, platform: Platform) -> list[aws.cloudwatch.MetricAlarm]:
        thresholds = platform.config.alarms
        dimensions = {"service": SERVICE}
        specs = [
            AlarmSpec(f"{name}-creation-latency", f"Session creation latency p95 above {thresholds.sessionCreationLatencyP95Ms:g} ms",
                      platform.metrics_namespace, "SessionCreationLatency", thresholds.sessionCreationLatencyP95Ms, dimensions,
                      statistic=None, extended_statistic="p95", evaluation_periods=2),
            AlarmSpec(f"{name}-connection-errors", f"More than {thresholds.connectionErrors:g} failed connections in 5 minutes",
                      platform.metrics_namespace, "ConnectionErrors", thresholds.connectionErrors, dimensions),
        ]
        return [create_alarm(spec, platform.physical_name(spec.name, 255), platform.alarm_topic_arn, self) for spec in specs]


def _slug(route_key: str) -> str:
    return route_key.lstrip("$").replace("_", "-").lower()
