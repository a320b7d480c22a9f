"""Emotion dynamics: volume and speaking rate into neural-voice SSML, with Polly synthesis and fallback."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.config import EmotionConfig
from components.shared.alarms import AlarmSpec, create_alarm
from components.shared.dashboard import create_dashboard, metric_widget, service_metrics
from components.shared.lambda_function import LambdaFunction, LambdaFunctionArgs
from components.shared.platform import Platform

SERVICE = "emotion-dynamics"
LATENCY_METRICS = ("EmotionExtractionLatency", "VolumeDetectionLatency", "RateDetectionLatency",
                   "SSMLGenerationLatency", "PollySynthesisLatency", "EndToEndLatency")


def polly_statement(platform: Platform) -> dict[str, Any]:
    """SynthesizeSpeech only, in this stack's region.

    Polly has no service-specific IAM condition keys (no engine key), so a "neural engine"
    condition would match nothing and deny every call; the engine is chosen in code
    (`emotion_dynamics.ssml`/`synthesis`), and the policy pins the action and the region.
    """
    return {"Effect": "Allow", "Action": ["polly:SynthesizeSpeech"], "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": platform.region}}}


def emotion_environment(emotion: EmotionConfig) -> dict[str, str]:
    """The emotion settings every function that analyses audio or builds SSML reads."""
    return {
        "VOLUME_LOUD_THRESHOLD": str(emotion.volumeLoudDb),
        "VOLUME_MEDIUM_THRESHOLD": str(emotion.volumeMediumDb),
        "VOLUME_SOFT_THRESHOLD": str(emotion.volumeSoftDb),
        "RATE_VERY_SLOW_THRESHOLD": str(emotion.rateVerySlowWpm),
        "RATE_SLOW_THRESHOLD": str(emotion.rateSlowWpm),
        "RATE_MEDIUM_THRESHOLD": str(emotion.rateMediumWpm),
        "RATE_FAST_THRESHOLD": str(emotion.rateFastWpm),
        "MAX_RETRIES": str(emotion.maxRetries),
        "RETRY_BASE_DELAY": str(emotion.retryBaseDelay),
        "RETRY_MAX_DELAY": str(emotion.retryMaxDelay),
        "MAX_AUDIO_DURATION_SECONDS": str(emotion.maxAudioDurationSeconds),
        "DEFAULT_VOICE_ID": emotion.defaultVoiceId,
    }


@dataclass
class EmotionDynamicsArgs:
    """The platform; the function needs nothing from other components."""

    platform: Platform


class EmotionDynamics(pulumi.ComponentResource):
    """The emotion dynamics function (numpy layer only), its Polly policy, alarms and dashboard."""

    def __init__(self, name: str, args: EmotionDynamicsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("speech-translation:emotion:EmotionDynamics", name, None, opts)
        platform = args.platform
        emotion = platform.config.emotion
        self.function = LambdaFunction(f"{name}-processor", LambdaFunctionArgs(
            platform=platform, service=SERVICE, code_bundle="emotion_dynamics",
            description="Volume and speaking rate into neural-voice SSML, synthesized with Polly",
            handler="emotion_dynamics.handler.lambda_handler",
            memory_mb=emotion.memoryMb, timeout_seconds=emotion.timeoutSeconds,
            ephemeral_storage_mb=emotion.ephemeralStorageMb,
            layers=("common", "audio"),
            policy_statements=[polly_statement(platform)],
            environment={**emotion_environment(emotion), "POLLY_OUTPUT_FORMAT": "mp3"},
        ), opts=pulumi.ResourceOptions(parent=self))
        self.alarms = self._alarms(name, platform)
        self.dashboard = create_dashboard(f"{name}-dashboard", platform.physical_name("emotion-dynamics"), [
            metric_widget("Latency p95 (ms)", service_metrics(platform.metrics_namespace, SERVICE, *LATENCY_METRICS),
                          region=platform.region, stat="p95"),
            metric_widget("Errors and fallbacks", service_metrics(platform.metrics_namespace, SERVICE, "ErrorCount", "FallbackCount"),
                          region=platform.region),
            *self.function.widgets,
        ], self)
        self.register_outputs({"function_name": self.function.function_name})

    def _alarms(self, name: str, platform: Platform) -> list[aws.cloudwatch.MetricAlarm]:
        thresholds = platform.config.alarms
        namespace, dimensions = platform.metrics_namespace, {"service": SERVICE}
        specs = [
            AlarmSpec(f"{name}-latency", f"Emotion dynamics end-to-end latency p95 above {thresholds.emotionLatencyP95Ms:g} ms",
                      namespace, "EndToEndLatency", thresholds.emotionLatencyP95Ms, dimensions,
                      statistic=None, extended_statistic="p95", evaluation_periods=2),
            AlarmSpec(f"{name}-errors", f"More than {thresholds.emotionErrors:g} emotion dynamics errors in 5 minutes",
                      namespace, "ErrorCount", thresholds.emotionErrors, dimensions),
            AlarmSpec(f"{name}-fallbacks", f"More than {thresholds.synthesisFallbacks:g} SSML-to-plain-text fallbacks in 5 minutes",
                      namespace, "FallbackCount", thresholds.synthesisFallbacks, dimensions),
        ]
        return [create_alarm(spec, platform.physical_name(spec.name, 255), platform.alarm_topic_arn, self) for spec in specs]
