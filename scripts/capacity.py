"""Capacity and cost model of one stack: what N sessions x L listeners cost, and which account quota binds first.

    python scripts/capacity.py --sessions 10 --listeners 500 --languages 2 --hours 1 [--stack dev]
        [--segment-seconds 1.5] [--chunk-ms 100] [--cache-hit-rate 0] [--delivery separate|combined]

Reads the stack's config (Pulumi.yaml overlaid with Pulumi.<stack>.yaml, validated by
components/config.py) for the things the program sets: every function's memory, the
TranslationProcessor's reserved concurrency and broadcast concurrency, the stage throttle, the
heartbeat rate. Everything else is a named constant below with its source. Prices are list
prices in us-east-1 (first pricing tier); quotas are the default account quotas.

The workload is a speaker talking continuously (the worst case for cost per hour): one segment
(a short phrase, >= 4 words) every ``--segment-seconds``, translated into each of ``--languages``
target languages, voiced once per language, and posted to every listener of that language.
Listeners are spread over the languages; each sends a heartbeat every minute.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# ---------------------------------------------------------------------------------------------
# Prices, us-east-1 list prices, first tier (USD). Source: the service's AWS pricing page, as
# published in 2025 (re-check before quoting a customer; AWS changes prices without notice).
# ---------------------------------------------------------------------------------------------
# aws.amazon.com/transcribe/pricing: streaming, tier 1, billed per second, 15 s minimum per stream.
TRANSCRIBE_STREAMING_PER_MINUTE = 0.024
# aws.amazon.com/translate/pricing: standard real-time translation.
TRANSLATE_PER_MILLION_CHARS = 15.00
# aws.amazon.com/polly/pricing: neural voices; SSML tags are not billed.
POLLY_NEURAL_PER_MILLION_CHARS = 16.00
# aws.amazon.com/lambda/pricing: x86, first 6 billion GB-s a month; requests (async invokes included).
LAMBDA_PER_GB_SECOND = 0.0000166667
LAMBDA_PER_MILLION_REQUESTS = 0.20
# aws.amazon.com/dynamodb/pricing/on-demand (after the November 2024 on-demand price cut).
DYNAMODB_PER_MILLION_WRU = 0.625
DYNAMODB_PER_MILLION_RRU = 0.125
# aws.amazon.com/api-gateway/pricing: WebSocket APIs, first billion messages; messages are
# metered in 32 KB increments, in both directions (a @connections post is a message sent).
APIGW_PER_MILLION_MESSAGES = 1.00
APIGW_PER_MILLION_CONNECTION_MINUTES = 0.25
APIGW_MESSAGE_METER_BYTES = 32 * 1024
# aws.amazon.com/cloudwatch/pricing: logs ingestion (standard class). Custom metrics are a flat
# monthly fee per metric (about 60 EMF metric series here), not per session, so left out.
CLOUDWATCH_LOGS_PER_GB = 0.50
# Managed fan-out alternatives, for the delivery decision in the README.
# aws.amazon.com/appsync/pricing: AppSync Events, operations (publish, delivery) metered in 5 KB units.
APPSYNC_EVENTS_PER_MILLION_OPERATIONS = 1.00
APPSYNC_EVENTS_PER_MILLION_CONNECTION_MINUTES = 0.08
# aws.amazon.com/iot-core/pricing: messaging (5 KB units; a publish and each delivery count), connectivity.
IOT_CORE_PER_MILLION_MESSAGES = 1.00
IOT_CORE_PER_MILLION_CONNECTION_MINUTES = 0.08
MANAGED_FANOUT_METER_BYTES = 5 * 1024

# ---------------------------------------------------------------------------------------------
# Default account quotas (per account and region).
# ---------------------------------------------------------------------------------------------
# API Gateway quotas page: 10,000 requests/s across all APIs, shared by @connections calls.
APIGW_ACCOUNT_REQUESTS_PER_SECOND = 10_000
# Polly quotas page: SynthesizeSpeech, neural engine, 8 requests/s (burst 10).
POLLY_NEURAL_TPS = 8
# Transcribe developer guide, "Guidelines and quotas": concurrent HTTP/2 streaming streams, 25
# (some regions have fewer; the older default was 5).
TRANSCRIBE_CONCURRENT_STREAMS = 25
# Lambda quotas page: 1,000 concurrent executions per region (new accounts start lower, as low as 10).
LAMBDA_ACCOUNT_CONCURRENCY = 1_000

# ---------------------------------------------------------------------------------------------
# Workload facts (measured in this repository or fixed by the protocol).
# ---------------------------------------------------------------------------------------------
SPEECH_CHARS_PER_SECOND = 15.0      # ~150 words/min x ~6 characters a word (space included)
AUDIO_BYTES_PER_SECOND = 16_000 * 2  # 16 kHz 16-bit mono PCM from the speaker
CHUNK_ITEM_OVERHEAD_BYTES = 120      # keys and attributes of an AudioChunks row
SEND_AUDIO_JSON_OVERHEAD = 1.34      # base64 (4/3) + JSON envelope of a sendAudio message
MP3_BYTES_PER_SECOND = 6_000         # Polly mp3 at 48 kbps
TRANSLATED_SPEECH_SECONDS_PER_CHAR = 1 / SPEECH_CHARS_PER_SECOND
CAPTION_MESSAGE_BYTES = 450          # caption envelope (bench/broadcast_bench.py's captions)
LISTENER_ROW_INDEX_BYTES = 150       # one listener in the connections-by-session index
HEARTBEAT_SECONDS = 60               # docs/protocol.md: send heartbeat every 60 s
# Durations of each Lambda invocation (s): bench/ figures and the latency budget in the design.
SEND_AUDIO_DURATION_S = 0.020
HEARTBEAT_DURATION_S = 0.015
TRANSLATE_CALL_S = 0.15
POLLY_CALL_S = 0.30
DDB_READS_S = 0.02
POST_LATENCY_S = 0.025               # one @connections post round trip
# CloudWatch Logs bytes per invocation: platform START/END/REPORT lines + our JSON lines + EMF.
LOG_BYTES_PLATFORM = 350
LOG_BYTES_TRANSLATION = 2_500
LOG_BYTES_SEND_AUDIO = 300
LOG_BYTES_HEARTBEAT = 300
LOG_BYTES_WORKER_PER_SEGMENT = 1_200
LOG_BYTES_ACCESS_LOG_LINE = 350      # one stage access-log line per inbound message


@dataclass(frozen=True)
class StackFacts:
    """What the model takes from a stack's config."""

    stack: str
    audio_processor_memory_mb: int
    stream_worker_memory_mb: int
    translation_memory_mb: int
    session_handler_memory_mb: int
    translation_reserved_concurrency: int
    broadcast_concurrency: int
    stage_rate_limit: float
    audio_format: str
    fanout_shard_listeners: int = 0  # 0: one invocation posts to every listener
    combine_caption_audio: bool = False

    @classmethod
    def from_stack(cls, stack: str) -> StackFacts:
        """Load and validate ``Pulumi.<stack>.yaml`` over ``Pulumi.yaml`` with components/config.py."""
        from components.config import load_stack_config
        from tests.harness import PROJECT, stack_config

        raw = stack_config(stack)
        cfg = load_stack_config(get=lambda ns, key: raw.get(f"{ns}:{key}"), stack=stack, project=PROJECT)
        t, tr = cfg.translation, cfg.transcription
        return cls(stack=stack, audio_processor_memory_mb=tr.audioProcessorMemoryMb,
                   stream_worker_memory_mb=tr.streamWorkerMemoryMb, translation_memory_mb=t.memoryMb,
                   session_handler_memory_mb=cfg.session.handlerMemoryMb,
                   translation_reserved_concurrency=t.reservedConcurrency, broadcast_concurrency=t.broadcastConcurrency,
                   stage_rate_limit=cfg.api.throttlingRateLimit, audio_format=t.audioFormat,
                   fanout_shard_listeners=t.fanoutShardListeners, combine_caption_audio=t.combineCaptionAudio)


@dataclass(frozen=True)
class Workload:
    """The audience and how the speaker talks."""

    sessions: int
    listeners: int
    languages: int
    hours: float
    segment_seconds: float = 1.5
    chunk_ms: float = 100.0
    cache_hit_rate: float = 0.0
    delivery: str = "separate"  # separate: caption + audio message; combined: one message when it fits

    def __post_init__(self) -> None:
        if self.sessions < 1 or self.listeners < 0 or self.languages < 1 or self.hours <= 0:
            raise ValueError("sessions >= 1, listeners >= 0, languages >= 1 and hours > 0")
        if self.segment_seconds <= 0 or not 20 <= self.chunk_ms <= 1000 or not 0 <= self.cache_hit_rate <= 1:
            raise ValueError("segment-seconds > 0, chunk-ms in 20..1000, cache-hit-rate in 0..1")
        if self.delivery not in ("separate", "combined"):
            raise ValueError("delivery is separate or combined")


@dataclass
class LineItem:
    """One billed quantity of one service for one session-hour."""

    service: str
    what: str
    quantity: float  # per session-hour
    unit: str
    unit_price: float  # USD per unit

    @property
    def cost(self) -> float:
        """USD per session-hour."""
        return self.quantity * self.unit_price


@dataclass
class Quota:
    """An account or stack limit and how much of it one session uses."""

    name: str
    limit: float
    per_session: float
    source: str

    @property
    def max_sessions(self) -> int:
        """The most sessions that fit (a very large number when a session uses none)."""
        return 10**9 if self.per_session <= 0 else math.floor(self.limit / self.per_session + 1e-9)


@dataclass
class Model:
    """Per session-hour line items, the quotas, and the derived figures."""

    workload: Workload
    stack: StackFacts
    items: list[LineItem] = field(default_factory=list)
    quotas: list[Quota] = field(default_factory=list)
    segments_per_hour: float = 0.0
    posts_per_segment: float = 0.0
    translation_duration_s: float = 0.0

    @property
    def session_hour_cost(self) -> float:
        """USD per session-hour, all services."""
        return sum(i.cost for i in self.items)

    @property
    def total_cost(self) -> float:
        """USD for the whole workload (sessions x hours)."""
        return self.session_hour_cost * self.workload.sessions * self.workload.hours

    @property
    def cost_per_segment(self) -> float:
        """USD per segment (all services, spread over segments)."""
        return self.session_hour_cost / self.segments_per_hour

    @property
    def cost_per_listener_hour(self) -> float:
        """USD per listener-hour."""
        return self.session_hour_cost / max(1, self.workload.listeners)

    def by_service(self) -> dict[str, float]:
        """USD per session-hour, per service."""
        out: dict[str, float] = {}
        for item in self.items:
            out[item.service] = out.get(item.service, 0.0) + item.cost
        return out

    @property
    def binding(self) -> Quota:
        """The quota that caps the number of sessions first."""
        return min(self.quotas, key=lambda q: q.max_sessions)


def audio_message_parts(segment_seconds: float) -> tuple[int, int]:
    """(audio messages per listener per segment, bytes of one audio message) under the 32 KB frame budget."""
    audio_bytes = MP3_BYTES_PER_SECOND * segment_seconds
    b64 = audio_bytes * 4 / 3 + 400  # base64 plus the audio envelope
    parts = max(1, math.ceil(b64 / 32_000))
    return parts, int(b64 / parts)


def build_model(w: Workload, s: StackFacts) -> Model:
    """Every line item per session-hour and every quota's use per session."""
    m = Model(w, s)
    seg_per_h = 3600 / w.segment_seconds
    m.segments_per_hour = seg_per_h
    chars_per_segment = SPEECH_CHARS_PER_SECOND * w.segment_seconds
    per_language = w.listeners / w.languages
    audio_parts, audio_msg_bytes = audio_message_parts(w.segment_seconds)
    combined = w.delivery == "combined" and audio_msg_bytes + CAPTION_MESSAGE_BYTES <= 32_000
    messages_per_listener = audio_parts if combined else 1 + audio_parts
    m.posts_per_segment = w.listeners * messages_per_listener
    chunks_per_h = 3600 * 1000 / w.chunk_ms
    chunk_bytes = AUDIO_BYTES_PER_SECOND * w.chunk_ms / 1000
    heartbeats_per_h = w.listeners * 3600 / HEARTBEAT_SECONDS

    # Speech services.
    m.items.append(LineItem("Transcribe", "streaming seconds", 3600, "s", TRANSCRIBE_STREAMING_PER_MINUTE / 60))
    translated_chars = chars_per_segment * seg_per_h * w.languages * (1 - w.cache_hit_rate)
    m.items.append(LineItem("Translate", "characters after cache", translated_chars, "char", TRANSLATE_PER_MILLION_CHARS / 1e6))
    m.items.append(LineItem("Polly", "neural characters (once per segment and language)",
                            chars_per_segment * seg_per_h * w.languages, "char", POLLY_NEURAL_PER_MILLION_CHARS / 1e6))

    # Lambda. The TranslationProcessor's duration: reads, then per language (in parallel) Translate,
    # caption posts beside Polly, then audio posts; posts share the pool of broadcast_concurrency
    # (or are split over shard invocations above the shard size).
    shard = s.fanout_shard_listeners
    shards_per_language = math.ceil(per_language / shard) if shard and per_language > shard else 1
    listeners_per_invocation = per_language / shards_per_language
    languages_per_invocation = w.languages if shards_per_language == 1 else 1
    posts_in_invocation = listeners_per_invocation * languages_per_invocation
    caption_time = math.ceil(posts_in_invocation / s.broadcast_concurrency) * POST_LATENCY_S
    audio_time = math.ceil(posts_in_invocation * audio_parts / s.broadcast_concurrency) * POST_LATENCY_S
    if combined:
        translation_s = DDB_READS_S + TRANSLATE_CALL_S + POLLY_CALL_S + audio_time
    else:
        translation_s = DDB_READS_S + TRANSLATE_CALL_S + max(POLLY_CALL_S, caption_time) + audio_time
    extra_invocations = (shards_per_language * w.languages - 1) if shards_per_language > 1 else 0
    m.translation_duration_s = translation_s
    gb = lambda mb: mb / 1024  # noqa: E731
    invocations = {
        "sendAudio handler": (chunks_per_h, SEND_AUDIO_DURATION_S, s.audio_processor_memory_mb),
        "stream worker": (3600 / 840, 840, s.stream_worker_memory_mb),  # hands over every ~14 min
        "TranslationProcessor": (seg_per_h * (1 + extra_invocations), translation_s, s.translation_memory_mb),
        "heartbeat handler": (heartbeats_per_h, HEARTBEAT_DURATION_S, s.session_handler_memory_mb),
    }
    for name, (count, duration, memory) in invocations.items():
        m.items.append(LineItem("Lambda", f"{name} GB-s", count * duration * gb(memory), "GB-s", LAMBDA_PER_GB_SECOND))
        m.items.append(LineItem("Lambda", f"{name} requests", count, "request", LAMBDA_PER_MILLION_REQUESTS / 1e6))

    # DynamoDB (on-demand request units).
    chunk_wru = math.ceil((chunk_bytes + CHUNK_ITEM_OVERHEAD_BYTES) / 1024)
    # Per chunk: rate-limit counter, Sessions gate update, the chunk put, its delete (sized as the item).
    wru_per_chunk = 1 + 1 + chunk_wru + chunk_wru
    # The worker's strongly consistent Query reads 20 chunks a page (4 KB units).
    rru_per_chunk = (chunk_bytes + CHUNK_ITEM_OVERHEAD_BYTES) / 4096
    m.items.append(LineItem("DynamoDB", "audio chunk buffer + gate writes", chunks_per_h * wru_per_chunk, "WRU",
                            DYNAMODB_PER_MILLION_WRU / 1e6))
    m.items.append(LineItem("DynamoDB", "audio chunk buffer reads", chunks_per_h * rru_per_chunk, "RRU",
                            DYNAMODB_PER_MILLION_RRU / 1e6))
    # Per segment: ledger claim + finish + one languages_done per language, cache put per miss;
    # reads: Sessions (consistent, 1), listeners Query on the GSI (eventually consistent, 4 KB
    # units at half price), cache BatchGet (one eventually consistent item per language).
    seg_wru = 2 + w.languages + w.languages * (1 - w.cache_hit_rate)
    listener_query_rru = 0.5 * math.ceil(w.listeners * LISTENER_ROW_INDEX_BYTES / 4096)
    # Shard invocations get their connection ids in the event: no extra reads.
    seg_rru = 1 + listener_query_rru + 0.5 * w.languages
    m.items.append(LineItem("DynamoDB", "segment ledger + cache writes", seg_per_h * seg_wru, "WRU", DYNAMODB_PER_MILLION_WRU / 1e6))
    m.items.append(LineItem("DynamoDB", "session, listeners, cache reads", seg_per_h * seg_rru, "RRU", DYNAMODB_PER_MILLION_RRU / 1e6))
    m.items.append(LineItem("DynamoDB", "heartbeat writes (connection row + rate limit)", heartbeats_per_h * 2, "WRU",
                            DYNAMODB_PER_MILLION_WRU / 1e6))

    # API Gateway: inbound messages (audio chunks, heartbeats), outbound (heartbeat replies, posts).
    send_audio_bytes = chunk_bytes * SEND_AUDIO_JSON_OVERHEAD
    inbound = chunks_per_h * math.ceil(send_audio_bytes / APIGW_MESSAGE_METER_BYTES) + heartbeats_per_h
    outbound = heartbeats_per_h + seg_per_h * m.posts_per_segment
    m.items.append(LineItem("API Gateway", "messages in (sendAudio, heartbeat)", inbound, "message", APIGW_PER_MILLION_MESSAGES / 1e6))
    m.items.append(LineItem("API Gateway", "messages out (@connections posts, replies)", outbound, "message",
                            APIGW_PER_MILLION_MESSAGES / 1e6))
    m.items.append(LineItem("API Gateway", "connection minutes", (w.listeners + 1) * 60, "minute",
                            APIGW_PER_MILLION_CONNECTION_MINUTES / 1e6))

    # CloudWatch Logs ingestion.
    log_bytes = (chunks_per_h * (LOG_BYTES_PLATFORM + LOG_BYTES_SEND_AUDIO)
                 + seg_per_h * (1 + extra_invocations) * (LOG_BYTES_PLATFORM + LOG_BYTES_TRANSLATION)
                 + seg_per_h * LOG_BYTES_WORKER_PER_SEGMENT
                 + heartbeats_per_h * (LOG_BYTES_PLATFORM + LOG_BYTES_HEARTBEAT)
                 + inbound * LOG_BYTES_ACCESS_LOG_LINE)
    m.items.append(LineItem("CloudWatch", "log ingestion (Lambda, EMF, access log)", log_bytes / 1024**3, "GB", CLOUDWATCH_LOGS_PER_GB))

    # Quotas: use of each per session.
    inbound_rps = inbound / 3600
    posts_rps = seg_per_h * m.posts_per_segment / 3600
    translation_concurrency = translation_s * (1 + extra_invocations) / w.segment_seconds
    lambda_concurrency = (1 + translation_concurrency + chunks_per_h / 3600 * SEND_AUDIO_DURATION_S
                          + heartbeats_per_h / 3600 * HEARTBEAT_DURATION_S)
    m.quotas = [
        Quota("API Gateway requests/s (account, shared with @connections)", APIGW_ACCOUNT_REQUESTS_PER_SECOND,
              inbound_rps + posts_rps, "API Gateway quotas, default"),
        Quota("Polly neural SynthesizeSpeech TPS (account)", POLLY_NEURAL_TPS, w.languages / w.segment_seconds,
              "Polly quotas, default"),
        Quota("Transcribe concurrent streams (account)", TRANSCRIBE_CONCURRENT_STREAMS, 1,
              "Transcribe guidelines and quotas, default"),
        Quota("Lambda concurrent executions (account)", LAMBDA_ACCOUNT_CONCURRENCY, lambda_concurrency,
              "Lambda quotas, default"),
        Quota("WebSocket stage requests/s (stack, inbound only)", s.stage_rate_limit, inbound_rps,
              "api:throttlingRateLimit"),
    ]
    if s.translation_reserved_concurrency:
        # 0 reserves nothing: the function then shares the account's concurrency, counted above.
        m.quotas.append(Quota("TranslationProcessor reserved concurrency (stack)", s.translation_reserved_concurrency,
                              translation_concurrency, "translation:reservedConcurrency"))
    return m


def managed_fanout_comparison(m: Model) -> dict[str, float]:
    """Delivery cost per session-hour: @connections posts vs AppSync Events vs IoT Core (one publish per segment and language)."""
    w = m.workload
    _, audio_bytes = audio_message_parts(w.segment_seconds)
    message = audio_bytes + CAPTION_MESSAGE_BYTES  # caption and audio in one message
    units = math.ceil(message / MANAGED_FANOUT_METER_BYTES)
    seg = m.segments_per_hour
    deliveries = seg * w.listeners
    publishes = seg * w.languages
    minutes = w.listeners * 60
    apigw = seg * m.posts_per_segment * APIGW_PER_MILLION_MESSAGES / 1e6 + minutes * APIGW_PER_MILLION_CONNECTION_MINUTES / 1e6
    appsync = (deliveries + publishes) * units * APPSYNC_EVENTS_PER_MILLION_OPERATIONS / 1e6 \
        + minutes * APPSYNC_EVENTS_PER_MILLION_CONNECTION_MINUTES / 1e6
    iot = (deliveries + publishes) * units * IOT_CORE_PER_MILLION_MESSAGES / 1e6 + minutes * IOT_CORE_PER_MILLION_CONNECTION_MINUTES / 1e6
    return {"api_gateway_posts": apigw, "appsync_events": appsync, "iot_core": iot, "message_bytes": message, "units_5kb": units}


def render(m: Model) -> str:
    """The report printed by the command."""
    w, s = m.workload, m.stack
    lines = [f"Capacity and cost: {w.sessions} session(s) x {w.listeners} listeners, {w.languages} language(s), "
             f"{w.hours:g} h, stack {s.stack}",
             f"  workload: a segment every {w.segment_seconds:g} s ({m.segments_per_hour:,.0f}/session-hour), "
             f"{w.chunk_ms:g} ms audio chunks, cache hit rate {w.cache_hit_rate:.0%}, delivery {w.delivery}, "
             f"{m.posts_per_segment:,.0f} posts/segment, TranslationProcessor ~{m.translation_duration_s:.2f} s/segment",
             "", f"  {'service':<12} {'item':<52} {'per session-hour':>18} {'USD/session-h':>14}"]
    for i in m.items:
        quantity = f"{i.quantity:>12,.1f}" if i.quantity >= 10 else f"{i.quantity:>12.4f}"
        lines.append(f"  {i.service:<12} {i.what[:52]:<52} {quantity} {i.unit:<6}{i.cost:>13.4f}")
    lines.append("")
    for service, cost in m.by_service().items():
        lines.append(f"  {service:<12} {cost:>10.4f} USD/session-hour  {cost / m.segments_per_hour * 1000:>8.4f} USD per 1,000 segments")
    lines += [f"  {'total':<12} {m.session_hour_cost:>10.4f} USD/session-hour; {m.cost_per_segment * 1000:.4f} USD per 1,000 segments; "
              f"{m.cost_per_listener_hour:.5f} USD per listener-hour",
              f"  workload total: {m.total_cost:,.2f} USD for {w.sessions} x {w.hours:g} session-hours", "",
              f"  {'quota':<58} {'limit':>8} {'per session':>12} {'max sessions':>13}"]
    for q in sorted(m.quotas, key=lambda q: q.max_sessions):
        flag = "  EXCEEDED" if q.max_sessions < w.sessions else ""
        lines.append(f"  {q.name:<58} {q.limit:>8,.0f} {q.per_session:>12.3f} {q.max_sessions:>13,}{flag}")
    b = m.binding
    ordered = sorted(m.quotas, key=lambda q: q.max_sessions)
    lines.append(f"  binds first: {b.name} -> at most {b.max_sessions} session(s) of this shape; "
                 f"raise first: {', then '.join(q.name.split(' (')[0] for q in ordered[:3])}")
    fan = managed_fanout_comparison(m)
    lines.append(f"  delivery per session-hour: @connections {fan['api_gateway_posts']:.3f} USD, AppSync Events "
                 f"{fan['appsync_events']:.3f} USD, IoT Core {fan['iot_core']:.3f} USD "
                 f"(one {fan['message_bytes']:,.0f}-byte caption+audio message = {fan['units_5kb']} x 5 KB units)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--listeners", type=int, required=True, help="listeners per session")
    parser.add_argument("--languages", type=int, required=True, help="target languages per session")
    parser.add_argument("--hours", type=float, required=True)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--segment-seconds", type=float, default=1.5)
    parser.add_argument("--chunk-ms", type=float, default=100.0)
    parser.add_argument("--cache-hit-rate", type=float, default=0.0)
    parser.add_argument("--delivery", choices=("separate", "combined"), default=None,
                        help="default: the stack's translation:combineCaptionAudio")
    args = parser.parse_args(argv)
    facts = StackFacts.from_stack(args.stack)
    delivery = args.delivery or ("combined" if facts.combine_caption_audio else "separate")
    try:
        workload = Workload(args.sessions, args.listeners, args.languages, args.hours, args.segment_seconds,
                            args.chunk_ms, args.cache_hit_rate, delivery)
    except ValueError as exc:
        parser.error(str(exc))
    print(render(build_model(workload, facts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
