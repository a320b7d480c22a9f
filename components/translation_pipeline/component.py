"""Translation pipeline: TranslationProcessor, its cache, failure destination, alarms and dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.emotion_dynamics.component import dynamics_environment, polly_statement, synthesis_environment
from components.session_management import SessionManagement
from components.shared.alarms import AlarmSpec, create_alarm, create_ratio_alarm
from components.shared.dashboard import create_dashboard, metric_widget, service_metrics
from components.shared.lambda_function import LambdaFunction, LambdaFunctionArgs, merge_environment
from components.shared.platform import Platform
from components.shared.tables import create_table

SERVICE = "translation-pipeline"
# A segment older than this is no longer live speech; retrying it would only confuse listeners.
MAX_EVENT_AGE_SECONDS = 120


@dataclass
class TranslationPipelineArgs:
    """The platform and the session component (tables, WebSocket API)."""

    platform: Platform
    sessions: SessionManagement


class TranslationPipeline(pulumi.ComponentResource):
    """Translate once per language with listeners, synthesize once per (segment, language), broadcast."""

    def __init__(self, name: str, args: TranslationPipelineArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("speech-translation:translation:TranslationPipeline", name, None, opts)
        platform = args.platform
        cfg = platform.config.translation
        child = pulumi.ResourceOptions(parent=self)
        # Translations, and the ledger rows that make a redelivered segment broadcast once.
        self.cache = create_table(f"{name}-cache", platform.physical_name("translation-cache"), "cacheKey", self)
        self.failures = aws.sqs.Queue(
            f"{name}-failures",
            name=platform.physical_name("translation-failures"),
            message_retention_seconds=14 * 24 * 3600,
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        statements: list[dict[str, Any]] = [
            {"Effect": "Allow", "Action": ["translate:TranslateText"], "Resource": "*"},
            polly_statement(platform),
            # The voice table is checked against the region's voices once per container.
            {"Effect": "Allow", "Action": ["polly:DescribeVoices"], "Resource": "*"},
            {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem",
                                           "dynamodb:UpdateItem"],
             "Resource": [self.cache.arn]},
            # Session state, listeners by language, and removal of Gone connections.
            *args.sessions.table_access(sessions=("GetItem", "UpdateItem"), connections=("DeleteItem",),
                                        query_listeners=True),
            args.sessions.api.manage_connections_statement(),
            {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [self.failures.arn]},
        ]
        if cfg.fanoutShardListeners:
            # Shards of a large audience go to async invocations of this function through the `live`
            # alias it was invoked by (an unqualified caller's shard invoke is refused and posted locally).
            statements.append({"Effect": "Allow", "Action": ["lambda:InvokeFunction"],
                               "Resource": [platform.function_arn(f"{name}-processor", "live")]})
        self.function = LambdaFunction(f"{name}-processor", LambdaFunctionArgs(
            platform=platform, service=SERVICE, code_bundle="translation_pipeline",
            description="Translates a segment per listener language, voices it once and broadcasts it",
            handler="translation_pipeline.handler.lambda_handler",
            memory_mb=cfg.memoryMb, timeout_seconds=cfg.timeoutSeconds,
            # 0 (the default) reserves nothing; a reservation is checked against the account quota in config.
            reserved_concurrency=cfg.reservedConcurrency or None,
            layers=("common", "audio"), policy_statements=statements,
            environment=merge_environment(
                args.sessions.table_environment(),
                dynamics_environment(platform.config.emotion),
                synthesis_environment(platform.config.emotion),
                {
                    "WEBSOCKET_ENDPOINT": args.sessions.api.management_endpoint,
                    "TRANSLATION_CACHE_TABLE": self.cache.name,
                    "CACHE_TTL_HOURS": str(cfg.cacheTtlHours),
                    "BROADCAST_CONCURRENCY": str(cfg.broadcastConcurrency),
                    "MAX_RETRIES": str(cfg.maxRetries),
                    "AUDIO_FORMAT": cfg.audioFormat,
                    "COMBINE_CAPTION_AUDIO": "true" if cfg.combineCaptionAudio else "false",
                    "FANOUT_SHARD_LISTENERS": str(cfg.fanoutShardListeners),
                },
            ),
        ), opts=child)
        self.function_name = self.function.function_name
        self.metrics_service = SERVICE
        # Retries and the failure queue apply to the `live` alias, which the stream worker invokes.
        self.invoke_config = aws.lambda_.FunctionEventInvokeConfig(
            f"{name}-async",
            function_name=self.function.function_name,
            qualifier=self.function.qualifier,
            maximum_retry_attempts=2,
            maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS,
            destination_config={"on_failure": {"destination": self.failures.arn}},
            opts=child,
        )
        self.alarms = self._alarms(name, platform)

        def metric(*names: str) -> list[list[str]]:
            return service_metrics(platform.metrics_namespace, SERVICE, *names)

        self.dashboard = create_dashboard(f"{name}-dashboard", platform.global_name("translation"), [
            metric_widget("Segment emitted to last listener posted, p95 (ms)",
                          metric("EndToEndLatency", "TranslationLatency", "PollySynthesisLatency"), platform.region, stat="p95"),
            metric_widget("Cache hits and misses", metric("CacheHit", "CacheMiss"), platform.region),
            metric_widget("Failures", metric("BroadcastFailures", "LanguageFailures", "GoneConnectionsRemoved",
                                             "DuplicateSegmentsSkipped", "FallbackCount", "ErrorCount"), platform.region),
            *self.function.widgets,
        ], self)
        self.register_outputs({"function_name": self.function.function_name, "cache_table": self.cache.name})

    def _alarms(self, name: str, platform: Platform) -> list[aws.cloudwatch.MetricAlarm]:
        thresholds = platform.config.alarms
        namespace, dimensions = platform.metrics_namespace, {"service": SERVICE}
        specs = [
            AlarmSpec(f"{name}-latency", f"Segment to last listener p95 above {thresholds.translationLatencyP95Ms:g} ms",
                      namespace, "EndToEndLatency", thresholds.translationLatencyP95Ms, dimensions,
                      statistic=None, extended_statistic="p95", evaluation_periods=2),
            AlarmSpec(f"{name}-broadcast-failures", f"More than {thresholds.broadcastFailures:g} failed posts in 5 minutes",
                      namespace, "BroadcastFailures", thresholds.broadcastFailures, dimensions),
            AlarmSpec(f"{name}-language-failures",
                      f"More than {thresholds.languageFailures:g} translations or syntheses skipped in 5 minutes",
                      namespace, "LanguageFailures", thresholds.languageFailures, dimensions),
            AlarmSpec(f"{name}-failed-segments", "Segments that failed every async attempt (see the failure queue)",
                      "AWS/SQS", "ApproximateNumberOfMessagesVisible", 0,
                      {"QueueName": platform.physical_name("translation-failures")}, statistic="Maximum"),
        ]
        alarms = [create_alarm(spec, platform.physical_name(spec.name, 255), platform.alarm_topic_arn, self) for spec in specs]
        alarms.append(create_ratio_alarm(
            f"{name}-cache-hit-rate", platform.physical_name(f"{name}-cache-hit-rate", 255),
            f"Translation cache hit rate below {thresholds.minCacheHitRate:g} over an hour",
            namespace, "CacheHit", "CacheMiss", dimensions, thresholds.minCacheHitRate, platform.alarm_topic_arn, self))
        return alarms
