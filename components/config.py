"""Typed stack configuration: the one place that reads and validates `pulumi config`.

Every tunable of the system lives in a Pulumi config namespace (``session:maxListeners``,
``transcription:minStabilityThreshold`` ...). ``load_stack_config`` reads each key, checks
its type and range, and raises ``ConfigError`` naming the key and what is allowed, so a
bad value fails ``pulumi preview`` before anything is deployed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional

import pulumi

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)


# Lambda keeps at least this much of the account's concurrency unreserved.
UNRESERVED_CONCURRENCY_MINIMUM = 100
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class ConfigError(pulumi.RunError):
    """A stack config value is missing, mistyped or out of range."""


def setting(kind: type, minimum: float | None = None, maximum: float | None = None,
            choices: tuple | None = None, optional: bool = False, doc: str = ""):
    """Declare one config key on a namespace dataclass (field name = camelCase key)."""
    return dataclasses.field(metadata={
        "kind": kind, "minimum": minimum, "maximum": maximum,
        "choices": choices, "optional": optional, "doc": doc,
    })


@dataclass(frozen=True)
class AlertingConfig:
    NAMESPACE = "alerting"
    email: str = setting(str, optional=True, doc="Email subscribed to the alarm topic (a team-owned address).")
    requireSubscriber: bool = setting(bool, doc="Preview fails unless 'alerting:email' is set (true in staging and prod).")


@dataclass(frozen=True)
class AccountConfig:
    NAMESPACE = "account"
    lambdaConcurrencyQuota: int = setting(int, 10, 100000, doc="The account's Lambda concurrency quota in this region "
                                                                "(`aws lambda get-account-settings`); reservations must leave 100 unreserved.")


@dataclass(frozen=True)
class ObservabilityConfig:
    NAMESPACE = "observability"
    logRetentionDays: int = setting(int, choices=LOG_RETENTION_DAYS, doc="Retention of every Lambda log group and the API access log.")
    logLevel: str = setting(str, choices=("DEBUG", "INFO", "WARNING", "ERROR"), doc="Lambda log level.")


@dataclass(frozen=True)
class AlarmsConfig:
    NAMESPACE = "alarms"
    processingLatencyP95Ms: float = setting(float, 1, 60000, doc="Partial-result processing latency p95 alarm (ms).")
    droppedResultsPerMinute: float = setting(float, 1, 100000, doc="Partial results dropped by the rate limiter, per minute.")
    orphanedResults: float = setting(float, 1, 100000, doc="Orphaned partial results flushed, per 5 minutes.")
    transcribeFallbacks: float = setting(float, 1, 100000, doc="Transcribe stability fallbacks, per 5 minutes (alarm at >=).")
    lambdaErrors: float = setting(float, 1, 100000, doc="Errors per Lambda, per 5 minutes.")
    lambdaThrottles: float = setting(float, 1, 100000, doc="Throttles per Lambda, per 5 minutes.")
    durationTimeoutRatio: float = setting(float, 0.1, 1.0, doc="Duration p95 alarm as a share of the function timeout.")
    minAudioSnrDb: float = setting(float, 0, 60, doc="Average audio SNR below this (dB) alarms.")
    maxClippingRatio: float = setting(float, 0, 1, doc="Average clipped-sample ratio above this alarms.")
    sessionCreationLatencyP95Ms: float = setting(float, 1, 29000, doc="Session creation latency p95 (ms).")
    connectionErrors: float = setting(float, 1, 100000, doc="Rejected or failed connections, per 5 minutes.")
    emotionLatencyP95Ms: float = setting(float, 1, 15000, doc="Emotion analysis of a segment in the stream worker, p95 (ms).")
    emotionErrors: float = setting(float, 1, 100000, doc="Segments whose emotion analysis failed (voiced plainly), per 5 minutes.")
    synthesisFallbacks: float = setting(float, 1, 100000, doc="Polly SSML-to-plain-text fallbacks in the translation pipeline, per 5 minutes.")
    pollyThrottles: float = setting(float, 1, 100000, doc="Polly calls throttled (the account's neural quota reached), per 5 minutes.")
    translationLatencyP95Ms: float = setting(float, 1, 60000, doc="Segment emitted to last listener posted, p95 (ms).")
    minCacheHitRate: float = setting(float, 0, 1, doc="Translation cache hit rate below this alarms (hourly).")
    broadcastFailures: float = setting(float, 1, 100000, doc="Failed post_to_connection calls (not Gone), per 5 minutes.")
    languageFailures: float = setting(float, 1, 100000, doc="Per-language translation/synthesis failures, per 5 minutes.")


@dataclass(frozen=True)
class ApiConfig:
    NAMESPACE = "api"
    stageName: str = setting(str, doc="WebSocket API stage name.")
    throttlingRateLimit: float = setting(float, 1, 10000, doc="Stage steady-state requests/s (always set with the burst limit).")
    throttlingBurstLimit: int = setting(int, 1, 5000, doc="Stage burst limit.")
    manageAccountLoggingRole: bool = setting(bool, doc="This stack owns API Gateway's account-wide CloudWatch role (access logs need it); "
                                                       "true in exactly one stack per account and region (README).")


@dataclass(frozen=True)
class SessionConfig:
    NAMESPACE = "session"
    maxDurationHours: float = setting(float, 0.1, 2, doc="Longest session; API Gateway cuts connections at 2 h.")
    refreshMinutes: int = setting(int, 1, 119, doc="Minutes after connecting when the client is told to refresh.")
    warningMinutes: int = setting(int, 1, 119, doc="Minutes after connecting when the client is warned of the cut-off.")
    maxListeners: int = setting(int, 1, 5000, doc="Listeners per session.")
    dataRetentionHours: int = setting(int, 1, 168, doc="TTL of session, connection and rate-limit rows.")
    pointInTimeRecovery: bool = setting(bool, doc="Point-in-time recovery on the Sessions table.")
    allowAnonymousListeners: bool = setting(bool, doc="Listeners may connect without a token.")
    cognitoUserPoolId: str = setting(str, optional=True, doc="Existing user pool; empty creates one.")
    cognitoClientId: str = setting(str, optional=True, doc="Existing app client; empty creates one.")
    staleConnectionSeconds: int = setting(int, 60, 7200, doc="No heartbeat for this long: the sweep removes the connection.")
    speakerGraceMinutes: int = setting(int, 1, 120, doc="A session without its speaker for this long is ended by the sweep.")
    statusIntervalMinutes: int = setting(int, 1, 60, doc="Status push and sweep schedule (EventBridge minimum is 1 minute).")
    handlerMemoryMb: int = setting(int, 128, 10240, doc="Memory of the session handlers.")


@dataclass(frozen=True)
class RateLimitsConfig:
    NAMESPACE = "rateLimits"
    sessionsPerHour: int = setting(int, 1, 10000, doc="Sessions a user may create per hour.")
    listenerJoinsPerMinute: int = setting(int, 1, 10000, doc="Listener joins per source IP per minute.")
    connectionAttemptsPerMinute: int = setting(int, 1, 10000, doc="Connection attempts per source IP per minute.")
    heartbeatsPerMinute: int = setting(int, 1, 600, doc="Heartbeats per connection per minute.")


@dataclass(frozen=True)
class TranscriptionConfig:
    NAMESPACE = "transcription"
    partialResultsEnabled: bool = setting(bool, doc="Initial value of the SSM feature flag (false = final results only).")
    stabilityLevel: str = setting(str, choices=("low", "medium", "high"), doc="Transcribe partial-results stability level.")
    minStabilityThreshold: float = setting(float, 0, 1, doc="Share of a phrase's items Transcribe marks stable before it is emitted.")
    maxBufferTimeout: float = setting(float, 0.5, 30, doc="Longest a partial phrase waits before it is emitted anyway (s).")
    phraseMaxWords: int = setting(int, 0, 50, doc="Most words of an early phrase, one cut without a mark or pause (0: no early phrases).")
    phraseMinWords: int = setting(int, 1, 50, doc="Words pending that go out at once as an early phrase; no natural cut makes one shorter.")
    phraseMaxWait: float = setting(float, 0.05, 10, doc="How long the oldest settled word waits for phraseMinWords; then a shorter phrase (2 or more words) goes out (s).")
    phraseTailWords: int = setting(int, 0, 3, doc="Heard words (finished, not yet stable) an early phrase may end with; 0: settled words only. A heard word that changes later stays as sent.")
    pauseThreshold: float = setting(float, 0.1, 10, doc="Silence between items that ends a phrase (s).")
    orphanTimeout: float = setting(float, 1, 120, doc="A partial result with no update for this long is flushed (s).")
    maxRatePerSecond: int = setting(int, 1, 50, doc="Partial results processed per second; excess is dropped.")
    dedupCacheTtl: int = setting(int, 1, 300, doc="How long emitted text is remembered for de-duplication (s).")
    maxChunksPerSecond: int = setting(int, 1, 100, doc="Audio chunks accepted per speaker connection per second.")
    silenceTimeoutSeconds: int = setting(int, 5, 600, doc="Stream worker stops after this long without audio.")
    poorSnrDb: float = setting(float, 0, 60, doc="SNR below this tells the speaker audio quality is poor.")
    audioProcessorMemoryMb: int = setting(int, 128, 10240, doc="Memory of the sendAudio handler.")
    streamWorkerMemoryMb: int = setting(int, 128, 10240, doc="Memory of the stream worker.")


@dataclass(frozen=True)
class EmotionConfig:
    NAMESPACE = "emotion"
    volumeLoudDb: float = setting(float, -60, 0, doc="Active level above this (dBFS) is loud.")
    volumeMediumDb: float = setting(float, -60, 0, doc="Active level above this (dBFS) is medium.")
    volumeSoftDb: float = setting(float, -80, 0, doc="Active level above this (dBFS) is soft; below is whisper.")
    rateVerySlowWpm: float = setting(float, 10, 400, doc="Below this (wpm) is very slow.")
    rateSlowWpm: float = setting(float, 10, 400, doc="Below this (wpm) is slow.")
    rateMediumWpm: float = setting(float, 10, 400, doc="Below this (wpm) is medium.")
    rateFastWpm: float = setting(float, 10, 400, doc="Below this (wpm) is fast; above is very fast.")
    retryBaseDelay: float = setting(float, 0.01, 5, doc="First backoff delay (s), doubled per retry, with jitter.")
    retryMaxDelay: float = setting(float, 0.05, 30, doc="Longest backoff delay (s).")
    defaultVoiceId: str = setting(str, doc="Polly voice when the event names none.")


@dataclass(frozen=True)
class TranslationConfig:
    NAMESPACE = "translation"
    memoryMb: int = setting(int, 128, 10240, doc="TranslationProcessor memory.")
    timeoutSeconds: int = setting(int, 1, 900, doc="TranslationProcessor timeout.")
    reservedConcurrency: int = setting(int, 0, 1000, doc="Reserved concurrency of the TranslationProcessor; 0 reserves none.")
    cacheTtlHours: int = setting(int, 1, 8760, doc="Translation cache TTL.")
    broadcastConcurrency: int = setting(int, 1, 500, doc="Parallel post_to_connection calls per segment.")
    maxRetries: int = setting(int, 0, 10, doc="Retries of Translate and Polly per language.")
    audioFormat: str = setting(str, choices=("mp3", "ogg_vorbis"), doc="Audio format sent to listeners.")
    combineCaptionAudio: bool = setting(bool, doc="Send a segment's caption with its audio inside, one post per listener, "
                                                  "when it fits one frame (false: caption first, audio after).")
    fanoutShardListeners: int = setting(int, 0, 5000, doc="Listeners of one language above this are posted by parallel "
                                                         "invocations in shards of this size; 0 turns shards off.")


@dataclass(frozen=True)
class WebConfig:
    NAMESPACE = "web"
    enabled: bool = setting(bool, doc="Host the speaker and listener pages (S3 + CloudFront); false leaves them out.")
    priceClass: str = setting(str, choices=("PriceClass_100", "PriceClass_200", "PriceClass_All"),
                              doc="CloudFront price class of the pages' distribution (edge locations used).")


NAMESPACES = (AlertingConfig, AccountConfig, ObservabilityConfig, AlarmsConfig, ApiConfig, SessionConfig,
              RateLimitsConfig, TranscriptionConfig, EmotionConfig, TranslationConfig, WebConfig)


@dataclass(frozen=True)
class StackConfig:
    """Every tunable of one stack, validated."""

    stack: str
    project: str
    alerting: AlertingConfig
    account: AccountConfig
    observability: ObservabilityConfig
    alarms: AlarmsConfig
    api: ApiConfig
    session: SessionConfig
    rate_limits: RateLimitsConfig
    transcription: TranscriptionConfig
    emotion: EmotionConfig
    translation: TranslationConfig
    web: WebConfig

    @property
    def name_prefix(self) -> str:
        """Prefix of every physical name, so two stacks never collide."""
        return f"{self.project}-{self.stack}"


Getter = Callable[[str, str], Optional[str]]


def _parse(namespace: str, key: str, raw: Optional[str], meta: dict[str, Any]) -> Any:
    full = f"{namespace}:{key}"
    kind = meta["kind"]
    if raw is None or raw == "":
        if meta["optional"]:
            return ""
        raise ConfigError(f"config key '{full}' is required ({_allowed(meta)}); set it with `pulumi config set {full} <value>`")
    try:
        if kind is bool:
            if raw.strip().lower() not in ("true", "false"):
                raise ValueError(raw)
            value: Any = raw.strip().lower() == "true"
        elif kind is int:
            as_float = float(raw)
            if not as_float.is_integer():
                raise ValueError(raw)
            value = int(as_float)
        elif kind is float:
            value = float(raw)
        else:
            value = str(raw)
    except ValueError:
        raise ConfigError(f"config key '{full}' must be {_allowed(meta)}, got '{raw}'") from None
    if meta["choices"] is not None and value not in meta["choices"]:
        raise ConfigError(f"config key '{full}' must be {_allowed(meta)}, got '{raw}'")
    low, high = meta["minimum"], meta["maximum"]
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"config key '{full}' must be {_allowed(meta)}, got '{raw}'")
    return value


def _allowed(meta: dict[str, Any]) -> str:
    kind = {bool: "a boolean (true/false)", int: "an integer", float: "a number", str: "a string"}[meta["kind"]]
    if meta["choices"] is not None:
        return f"{kind}, one of {', '.join(str(c) for c in meta['choices'])}"
    if meta["minimum"] is not None:
        return f"{kind} between {meta['minimum']:g} and {meta['maximum']:g}"
    return kind


def _load_namespace(cls: type, get: Getter) -> Any:
    values = {f.name: _parse(cls.NAMESPACE, f.name, get(cls.NAMESPACE, f.name), f.metadata)
              for f in dataclasses.fields(cls)}
    return cls(**values)


def _check_relations(cfg: StackConfig) -> None:
    """Rules between keys that a single range cannot express."""
    s, e = cfg.session, cfg.emotion
    if not s.refreshMinutes < s.warningMinutes < 120:
        raise ConfigError("config keys 'session:refreshMinutes' < 'session:warningMinutes' < 120 "
                          f"(API Gateway closes connections at 2 h), got {s.refreshMinutes} and {s.warningMinutes}")
    if not e.volumeLoudDb > e.volumeMediumDb > e.volumeSoftDb:
        raise ConfigError("config keys 'emotion:volumeLoudDb' > 'emotion:volumeMediumDb' > 'emotion:volumeSoftDb' must be in order")
    if not e.rateVerySlowWpm < e.rateSlowWpm < e.rateMediumWpm < e.rateFastWpm:
        raise ConfigError("config keys 'emotion:rateVerySlowWpm' < 'emotion:rateSlowWpm' < 'emotion:rateMediumWpm' < 'emotion:rateFastWpm' must be in order")
    if e.retryBaseDelay > e.retryMaxDelay:
        raise ConfigError("config key 'emotion:retryBaseDelay' must not exceed 'emotion:retryMaxDelay'")
    t = cfg.transcription
    if t.phraseMaxWords and t.phraseMinWords > t.phraseMaxWords:
        raise ConfigError("config key 'transcription:phraseMinWords' must not exceed 'transcription:phraseMaxWords' "
                          f"(unless that is 0, off), got {t.phraseMinWords} and {t.phraseMaxWords}")
    shard = cfg.translation.fanoutShardListeners
    if shard and shard < 50:
        raise ConfigError(f"config key 'translation:fanoutShardListeners' must be 0 (off) or at least 50, got {shard}")
    if bool(s.cognitoUserPoolId) != bool(s.cognitoClientId):
        raise ConfigError("config keys 'session:cognitoUserPoolId' and 'session:cognitoClientId' are set together or not at all")
    _check_alerting(cfg.alerting)
    _check_reservation(cfg)


def _check_alerting(alerting: AlertingConfig) -> None:
    """Staging and prod alarms must reach a person: an alarm on a topic nobody reads is no alarm."""
    if alerting.requireSubscriber and not alerting.email:
        raise ConfigError("config key 'alerting:email' is required when 'alerting:requireSubscriber' is true: alarms must "
                          "reach a person; set it with `pulumi config set alerting:email <team address>`")
    if alerting.email and not EMAIL.fullmatch(alerting.email):
        raise ConfigError(f"config key 'alerting:email' must be an email address, got '{alerting.email}'")


def _check_reservation(cfg: StackConfig) -> None:
    """Lambda refuses a reservation that leaves less than 100 unreserved in the account and region."""
    reserved, quota = cfg.translation.reservedConcurrency, cfg.account.lambdaConcurrencyQuota
    if reserved and reserved > quota - UNRESERVED_CONCURRENCY_MINIMUM:
        raise ConfigError(f"config key 'translation:reservedConcurrency' {reserved} needs an account Lambda concurrency quota of "
                          f"at least {reserved + UNRESERVED_CONCURRENCY_MINIMUM} ('account:lambdaConcurrencyQuota' is {quota}): "
                          "Lambda keeps 100 unreserved; set it to 0 (no reservation) or raise the quota in Service Quotas first")


def load_stack_config(get: Getter | None = None, stack: str | None = None, project: str | None = None) -> StackConfig:
    """Read and validate the whole stack config.

    ``get(namespace, key)`` returns the raw string or None; by default it reads
    ``pulumi.Config(namespace)``, so tests can pass a dict-backed getter.
    """
    get = get or (lambda ns, key: pulumi.Config(ns).get(key))
    parts = {
        "alerting": AlertingConfig, "account": AccountConfig, "observability": ObservabilityConfig, "alarms": AlarmsConfig,
        "api": ApiConfig, "session": SessionConfig, "rate_limits": RateLimitsConfig,
        "transcription": TranscriptionConfig, "emotion": EmotionConfig, "translation": TranslationConfig,
        "web": WebConfig,
    }
    cfg = StackConfig(
        stack=stack or pulumi.get_stack(),
        project=project or pulumi.get_project(),
        **{attr: _load_namespace(cls, get) for attr, cls in parts.items()},
    )
    _check_relations(cfg)
    return cfg


def all_keys() -> list[tuple[str, str, dict[str, Any]]]:
    """Every (namespace, key, metadata) the stack config must provide, for docs and tests."""
    return [(cls.NAMESPACE, f.name, dict(f.metadata)) for cls in NAMESPACES for f in dataclasses.fields(cls)]
