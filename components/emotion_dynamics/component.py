"""Emotion dynamics on the live path: the settings and Polly policy of the functions that run it, its alarms and dashboard.

The emotion code is a library, not a function of its own: the stream worker measures each
segment's volume and speaking rate (`emotion_dynamics.dynamics`) and the TranslationProcessor
turns them into neural-voice SSML and synthesizes it with retries and a plain-text fallback
(`emotion_dynamics.ssml`, `emotion_dynamics.synthesis`). A separate function would add an
invoke and a cold start to every segment for work that takes about a millisecond, so this
component owns what watches that code where it runs: alarms on the metrics those two functions
emit, under their own `service` dimensions, and the emotion dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from components.config import EmotionConfig
from components.shared.alarms import AlarmSpec, create_alarm
from components.shared.dashboard import create_dashboard, metric_widget, service_metrics
from components.shared.platform import Platform

# Emitted by the stream worker for every segment it analyses (see functions/audio_transcription).
ANALYSIS_LATENCY = "EmotionExtractionLatency"
ANALYSIS_FAILURES = "EmotionAnalysisFailures"
# Emitted by the TranslationProcessor's PollySynthesizer when SSML fails and plain text is voiced.
SYNTHESIS_FALLBACKS = "FallbackCount"
SYNTHESIS_LATENCY = "PollySynthesisLatency"
# Emitted by the PollySynthesizer for every throttled call: the account's neural quota is reached.
SYNTHESIS_THROTTLED = "PollyThrottled"


def polly_statement(platform: Platform) -> dict[str, Any]:
    """SynthesizeSpeech only, in this stack's region.

    Polly has no service-specific IAM condition keys (no engine key), so a "neural engine"
    condition would match nothing and deny every call; the engine is chosen in code
    (`emotion_dynamics.ssml`/`synthesis`), and the policy pins the action and the region.
    """
    return {"Effect": "Allow", "Action": ["polly:SynthesizeSpeech"], "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": platform.region}}}


def dynamics_environment(emotion: EmotionConfig) -> dict[str, str]:
    """Volume and rate bands (`DynamicsThresholds.from_env`), for every function that analyses audio or builds SSML."""
    return {
        "VOLUME_LOUD_THRESHOLD": str(emotion.volumeLoudDb),
        "VOLUME_MEDIUM_THRESHOLD": str(emotion.volumeMediumDb),
        "VOLUME_SOFT_THRESHOLD": str(emotion.volumeSoftDb),
        "RATE_VERY_SLOW_THRESHOLD": str(emotion.rateVerySlowWpm),
        "RATE_SLOW_THRESHOLD": str(emotion.rateSlowWpm),
        "RATE_MEDIUM_THRESHOLD": str(emotion.rateMediumWpm),
        "RATE_FAST_THRESHOLD": str(emotion.rateFastWpm),
    }


def synthesis_environment(emotion: EmotionConfig) -> dict[str, str]:
    """Polly backoff and voice, for the function that synthesizes (its retry count is its own setting)."""
    return {
        "RETRY_BASE_DELAY": str(emotion.retryBaseDelay),
        "RETRY_MAX_DELAY": str(emotion.retryMaxDelay),
        "DEFAULT_VOICE_ID": emotion.defaultVoiceId,
    }


@dataclass
class EmotionDynamicsArgs:
    """The platform and the `service` dimensions of the functions that run the emotion code."""

    platform: Platform
    analysis_service: str    # the stream worker's component (volume and rate of each segment)
    synthesis_service: str   # the TranslationProcessor's component (SSML and Polly)


class EmotionDynamics(pulumi.ComponentResource):
    """Alarms and dashboard of the emotion code where it runs: analysis latency and failures, synthesis fallbacks."""

    def __init__(self, name: str, args: EmotionDynamicsArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("speech-translation:emotion:EmotionDynamics", name, None, opts)
        platform = args.platform
        namespace = platform.metrics_namespace
        self.alarms = self._alarms(name, platform, args)
        self.dashboard = create_dashboard(f"{name}-dashboard", platform.global_name("emotion-dynamics"), [
            metric_widget("Segment analysis p95 (ms), stream worker",
                          service_metrics(namespace, args.analysis_service, ANALYSIS_LATENCY), region=platform.region, stat="p95"),
            metric_widget("Polly synthesis p95 (ms), translation pipeline",
                          service_metrics(namespace, args.synthesis_service, SYNTHESIS_LATENCY), region=platform.region, stat="p95"),
            metric_widget("Analysis failures, SSML fallbacks and Polly throttling", [
                *service_metrics(namespace, args.analysis_service, ANALYSIS_FAILURES),
                *service_metrics(namespace, args.synthesis_service, SYNTHESIS_FALLBACKS, SYNTHESIS_THROTTLED)],
                          region=platform.region),
        ], self)
        self.register_outputs({})

    def _alarms(self, name: str, platform: Platform, args: EmotionDynamicsArgs) -> list[aws.cloudwatch.MetricAlarm]:
        thresholds = platform.config.alarms
        namespace = platform.metrics_namespace
        analysis, synthesis = {"service": args.analysis_service}, {"service": args.synthesis_service}
        specs = [
            AlarmSpec(f"{name}-latency", f"Emotion analysis of a segment p95 above {thresholds.emotionLatencyP95Ms:g} ms",
                      namespace, ANALYSIS_LATENCY, thresholds.emotionLatencyP95Ms, analysis,
                      statistic=None, extended_statistic="p95", evaluation_periods=2),
            AlarmSpec(f"{name}-errors", f"More than {thresholds.emotionErrors:g} segments voiced without emotion in 5 minutes "
                                        "(analysis failed)",
                      namespace, ANALYSIS_FAILURES, thresholds.emotionErrors, analysis),
            AlarmSpec(f"{name}-fallbacks", f"More than {thresholds.synthesisFallbacks:g} SSML-to-plain-text fallbacks in 5 minutes",
                      namespace, SYNTHESIS_FALLBACKS, thresholds.synthesisFallbacks, synthesis),
            AlarmSpec(f"{name}-polly-throttled",
                      f"More than {thresholds.pollyThrottles:g} Polly calls throttled in 5 minutes: the account's neural "
                      "quota (8 requests/s per region) is reached; raise it in Service Quotas or lengthen phrases "
                      "(transcription:phraseMinWords)",
                      namespace, SYNTHESIS_THROTTLED, thresholds.pollyThrottles, synthesis),
        ]
        return [create_alarm(spec, platform.physical_name(spec.name, 255), platform.alarm_topic_arn, self) for spec in specs]
