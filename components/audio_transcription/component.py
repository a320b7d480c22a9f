"""Audio transcription: sendAudio, the per-session chunk buffer, the stream worker, the feature flag, alarms."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.config import TranscriptionConfig
from components.emotion_dynamics.component import dynamics_environment
from components.session_management import SessionManagement
from components.shared.alarms import AlarmSpec, create_alarm
from components.shared.dashboard import create_dashboard, metric_widget, service_metrics
from components.shared.lambda_function import LIVE_ALIAS, LambdaFunction, LambdaFunctionArgs, merge_environment
from components.shared.platform import Platform
from components.shared.tables import create_table
from components.shared.websocket import add_route

SERVICE = "audio-transcription"
CODE_BUNDLE = "audio_transcription"
WORKER_NAME = "stream-worker"
# Lambda's limit; the worker hands over to a successor before it.
WORKER_TIMEOUT_SECONDS = 900
# The worker hands over at the latest this long before its timeout, so by design it runs up to
# WORKER_TIMEOUT_SECONDS - WORKER_HANDOVER_DEADLINE_SECONDS (860 s) in any session that long.
WORKER_HANDOVER_DEADLINE_SECONDS = 40


def processor_environment(transcription: TranscriptionConfig) -> dict[str, str]:
    """The partial-results processor's settings, from the `transcription:` stack config."""
    return {
        "MIN_STABILITY_THRESHOLD": str(transcription.minStabilityThreshold),
        "MAX_BUFFER_TIMEOUT": str(transcription.maxBufferTimeout),
        "PHRASE_MAX_WORDS": str(transcription.phraseMaxWords),
        "PHRASE_MIN_WORDS": str(transcription.phraseMinWords),
        "PHRASE_MAX_WAIT": str(transcription.phraseMaxWait),
        "PHRASE_TAIL_WORDS": str(transcription.phraseTailWords),
        "PAUSE_THRESHOLD": str(transcription.pauseThreshold),
        "ORPHAN_TIMEOUT": str(transcription.orphanTimeout),
        "MAX_RATE_PER_SECOND": str(transcription.maxRatePerSecond),
        "DEDUP_CACHE_TTL": str(transcription.dedupCacheTtl),
        "PARTIAL_RESULTS_STABILITY": transcription.stabilityLevel,
        "SILENCE_TIMEOUT_SECONDS": str(transcription.silenceTimeoutSeconds),
        "POOR_SNR_DB": str(transcription.poorSnrDb),
    }


@dataclass
class AudioTranscriptionArgs:
    """The platform, the session component (tables, API) and the function segments go to (its `live` alias)."""

    platform: Platform
    sessions: SessionManagement
    translation: LambdaFunction


class AudioTranscription(pulumi.ComponentResource):
    """From the speaker's `sendAudio` messages to stable segments handed to the translation pipeline."""

    def __init__(self, name: str, args: AudioTranscriptionArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("speech-translation:audio:AudioTranscription", name, None, opts)
        platform, sessions = args.platform, args.sessions
        cfg = platform.config.transcription
        child = pulumi.ResourceOptions(parent=self)

        # Per-session, ordered, durable chunk buffer (why not a shared SQS FIFO queue:
        # functions/audio_transcription/README.md).
        self.chunks = create_table(f"{name}-chunks", platform.physical_name("audio-chunks"), "sessionId", self,
                                   range_key="sequence", numeric_attributes=("sequence",))
        self.feature_flag = aws.ssm.Parameter(
            f"{name}-partial-results-flag",
            name=f"/{platform.config.project}/{platform.config.stack}/transcription/partial-results-enabled",
            type="String",
            # A flag, not a secret: keep it readable in diffs and state.
            insecure_value=json.dumps({"partialResultsEnabled": cfg.partialResultsEnabled}),
            description="Partial results on (stable phrases as they come) or off (final results only); "
                        "read by the stream worker at most a minute late",
            opts=child,
        )
        # The worker's `live` alias, from the stack's naming (the worker cannot depend on itself).
        worker_arn = platform.function_arn(f"{name}-{WORKER_NAME}", qualifier=LIVE_ALIAS)
        common_environment = {
            **sessions.table_environment(),
            "AUDIO_CHUNKS_TABLE": self.chunks.name,
            "WEBSOCKET_ENDPOINT": sessions.api.management_endpoint,
            # Named from the stack, never typed by hand: the worker exists under exactly this name, and
            # `name:live` makes lambda.invoke call the alias (rollback moves every new worker at once).
            "STREAM_WORKER_FUNCTION": f"{platform.physical_name(f'{name}-{WORKER_NAME}')}:{LIVE_ALIAS}",
        }
        self.audio_processor = LambdaFunction(f"{name}-audio-processor", LambdaFunctionArgs(
            platform=platform, service=SERVICE, code_bundle=CODE_BUNDLE,
            description="sendAudio: validates a chunk, checks speaker and session, buffers it, starts the worker",
            handler="audio_transcription.audio_processor.handler.lambda_handler",
            memory_mb=cfg.audioProcessorMemoryMb, timeout_seconds=10, websocket_route=True,
            layers=("common", "audio"),
            policy_statements=self._processor_statements(sessions, worker_arn),
            environment={**common_environment, "MAX_CHUNKS_PER_SECOND": str(cfg.maxChunksPerSecond)},
        ), opts=child)
        self.stream_worker = LambdaFunction(f"{name}-{WORKER_NAME}", LambdaFunctionArgs(
            platform=platform, service=SERVICE, code_bundle=CODE_BUNDLE,
            description="Holds one session's Transcribe stream and turns partial results into segments",
            handler="audio_transcription.stream_worker.handler.lambda_handler",
            memory_mb=cfg.streamWorkerMemoryMb, timeout_seconds=WORKER_TIMEOUT_SECONDS,
            designed_run_seconds=WORKER_TIMEOUT_SECONDS - WORKER_HANDOVER_DEADLINE_SECONDS,
            layers=("common", "transcribe", "audio"),
            policy_statements=self._worker_statements(sessions, worker_arn, args.translation.arn),
            environment=merge_environment(
                common_environment,
                processor_environment(cfg),
                dynamics_environment(platform.config.emotion),
                {
                    "TRANSLATION_FUNCTION": args.translation.qualified_name,
                    "FEATURE_FLAG_PARAMETER": self.feature_flag.name,
                    "HANDOVER_DEADLINE_SECONDS": str(WORKER_HANDOVER_DEADLINE_SECONDS),
                },
            ),
        ), opts=child)
        # A worker never raises (it releases its lease instead); a retried invocation would only find
        # its lease taken, so async retries are off (on the alias every invoker calls).
        aws.lambda_.FunctionEventInvokeConfig(f"{name}-worker-async", function_name=self.stream_worker.function_name,
                                              qualifier=self.stream_worker.qualifier, maximum_retry_attempts=0, opts=child)
        add_route(f"{name}-send-audio", sessions.api, "sendAudio", self.audio_processor, self)
        self.metrics_service = SERVICE
        self.alarms = self._alarms(name, platform)
        self.dashboard = create_dashboard(f"{name}-dashboard", platform.global_name("audio-transcription"),
                                          self._widgets(platform), self)
        self.register_outputs({"chunks_table": self.chunks.name, "feature_flag_parameter": self.feature_flag.name})

    def _processor_statements(self, sessions: SessionManagement, worker_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
        return [
            *sessions.table_access(sessions=("GetItem", "UpdateItem"), rate_limits=("UpdateItem",)),
            {"Effect": "Allow", "Action": ["dynamodb:PutItem"], "Resource": [self.chunks.arn]},
            {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": [worker_arn]},
            sessions.api.manage_connections_statement(),
        ]

    def _worker_statements(self, sessions: SessionManagement, worker_arn: pulumi.Input[str],
                           translation_arn: pulumi.Input[str]) -> list[dict[str, Any]]:
        return [
            # The lease and the session state live on the session row; every read is an update's return value.
            *sessions.table_access(sessions=("UpdateItem",)),
            # Read the buffer in order; delete what was fed (batch_writer: BatchWriteItem).
            {"Effect": "Allow", "Action": ["dynamodb:Query", "dynamodb:BatchWriteItem"], "Resource": [self.chunks.arn]},
            # StartStreamTranscription has no resource-level permissions.
            {"Effect": "Allow", "Action": ["transcribe:StartStreamTranscription"], "Resource": "*"},
            # Its successor (handover) and the translation pipeline, through their `live` aliases only.
            {"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": [worker_arn, translation_arn]},
            {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": [self.feature_flag.arn]},
            sessions.api.manage_connections_statement(),
        ]

    def _alarms(self, name: str, platform: Platform) -> list[aws.cloudwatch.MetricAlarm]:
        thresholds = platform.config.alarms
        namespace, dimensions = platform.metrics_namespace, {"service": SERVICE}
        specs = [
            AlarmSpec(f"{name}-latency", f"Partial result processing latency p95 above {thresholds.processingLatencyP95Ms:g} ms",
                      namespace, "PartialResultProcessingLatency", thresholds.processingLatencyP95Ms, dimensions,
                      statistic=None, extended_statistic="p95", evaluation_periods=2),
            AlarmSpec(f"{name}-dropped", f"More than {thresholds.droppedResultsPerMinute:g} partial results dropped per minute",
                      namespace, "PartialResultsDropped", thresholds.droppedResultsPerMinute, dimensions,
                      period_seconds=60, evaluation_periods=2),
            AlarmSpec(f"{name}-orphaned", f"More than {thresholds.orphanedResults:g} orphaned results flushed in 5 minutes",
                      namespace, "OrphanedResultsFlushed", thresholds.orphanedResults, dimensions, evaluation_periods=2),
            AlarmSpec(f"{name}-fallback", "Transcribe sent partial results without stability flags (agreement fallback)",
                      namespace, "TranscribeFallbackTriggered", thresholds.transcribeFallbacks, dimensions,
                      comparison="GreaterThanOrEqualToThreshold"),
            AlarmSpec(f"{name}-snr", f"Average audio SNR below {thresholds.minAudioSnrDb:g} dB",
                      namespace, "AudioQualitySNR", thresholds.minAudioSnrDb, dimensions,
                      comparison="LessThanThreshold", statistic="Average", evaluation_periods=2),
            AlarmSpec(f"{name}-clipping", f"Average clipped-sample ratio above {thresholds.maxClippingRatio:g}",
                      namespace, "AudioQualityClipping", thresholds.maxClippingRatio, dimensions,
                      statistic="Average", evaluation_periods=2),
        ]
        return [create_alarm(spec, platform.physical_name(spec.name, 255), platform.alarm_topic_arn, self) for spec in specs]

    def _widgets(self, platform: Platform) -> list[Any]:
        def metric(*names: str) -> list[list[str]]:
            return service_metrics(platform.metrics_namespace, SERVICE, *names)

        return [
            metric_widget("Latency p95 (ms)", metric("PartialResultProcessingLatency", "AudioProcessingLatency",
                                                     "TranscribeStreamInitLatency", "TranscriptionForwardingLatency"),
                          platform.region, stat="p95"),
            metric_widget("Partial results", metric("AudioChunksReceived", "PartialResultsDropped", "OrphanedResultsFlushed",
                                                    "DuplicatesDetected", "TranscribeFallbackTriggered"), platform.region),
            metric_widget("Early phrases", metric("HeardWordsEmitted", "EmittedWordsRevised"), platform.region),
            metric_widget("Audio quality", metric("AudioQualitySNR", "AudioQualityClipping"), platform.region, stat="Average"),
            *self.audio_processor.widgets,
            *self.stream_worker.widgets,
        ]
