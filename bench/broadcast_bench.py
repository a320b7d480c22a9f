"""Broadcast and added-latency benchmark of the translation pipeline.

    python bench/broadcast_bench.py [--listeners 500] [--post-ms 25] [--concurrency 64] [--segments 50]

1. broadcast: one message to N listeners, each ``post_to_connection`` taking --post-ms (a
   fake client that sleeps). Goal: under 0.5 s for 500 listeners at 25 ms.
2. segment: a whole segment (caption, then audio) to N listeners through the
   TranslationProcessor, DynamoDB in moto, Translate and Polly faked at zero delay.
3. real client: the same one-message broadcast with a real botocore client against a local
   HTTP server answering after --post-ms, so request signing and HTTP cost are counted.
4. latency: the system's own added latency, segment ``emittedAt`` to last listener posted
   (the EndToEndLatency metric), over --segments segments with every AWS service at zero
   delay (moto DynamoDB, fake Translate/Polly/@connections). Goal: p95 under 100 ms.

Prints figures only; nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "functions"), str(Path(__file__).resolve().parents[1])]
for _name, _value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}.items():
    os.environ.setdefault(_name, _value)
os.environ.pop("AWS_ENDPOINT_URL", None)
# One INFO line per segment would bury the figures.
os.environ.setdefault("LOG_LEVEL", "WARNING")

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402
from translation_pipeline import telemetry  # noqa: E402
from translation_pipeline.processor import build_processor  # noqa: E402
from translation_pipeline.segment import Segment  # noqa: E402
from translation_pipeline.settings import TranslationSettings  # noqa: E402
from translation_pipeline.tests.fakes import (  # noqa: E402
    CACHE,
    CONNECTIONS,
    INDEX,
    SESSIONS,
    FakeManagementApi,
    FakePolly,
    FakeTranslate,
    create_tables,
    put_connection,
    put_session,
    segment_event,
)

from bench import slow_connections  # noqa: E402
from bench.broadcast_timing import measure  # noqa: E402


def _settings(concurrency: int) -> TranslationSettings:
    return TranslationSettings(sessions_table=SESSIONS, connections_table=CONNECTIONS, connections_index=INDEX,
                               cache_table=CACHE, websocket_endpoint="https://bench.execute-api.us-east-1.amazonaws.com/dev",
                               broadcast_concurrency=concurrency)


def bench_broadcast(listeners: int, post_ms: float, concurrency: int, runs: int = 5) -> None:
    api = FakeManagementApi(delay=post_ms / 1000)
    median, best, _ = measure(api, listeners, concurrency, runs)
    ideal = -(-listeners // concurrency) * post_ms / 1000
    print(f"broadcast    1 message  -> {listeners} listeners, {post_ms:g} ms/post, concurrency {concurrency}: "
          f"median {median:.3f} s, best {best:.3f} s (ideal {ideal:.3f} s; goal < 0.5 s); "
          f"max in flight {api.max_in_flight}")


def bench_segment(listeners: int, post_ms: float, concurrency: int, runs: int = 3) -> None:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(ddb)
        now = time.time()
        put_session(ddb, "bench-session", now, listeners=listeners)
        for i in range(listeners):
            put_connection(ddb, f"conn-{i:04d}", "bench-session", now, language="es")
        api = FakeManagementApi(delay=post_ms / 1000)
        processor = build_processor(_settings(concurrency), dynamodb=ddb, translate=FakeTranslate(),
                                    polly=FakePolly(audio_size=18_000), management=api)
        times, fanout, reads = [], [], []
        for seq in range(1, runs + 1):
            segment = Segment.from_event(segment_event("bench-session", seq, f"Phrase number {seq} of the benchmark."))
            started = time.perf_counter()
            result = processor.process(segment)
            times.append(time.perf_counter() - started)
            fanout.append(result.languages["es"].broadcast_ms / 1000)
            reads.append(result.timings["reads"] / 1000)
            assert result.languages["es"].delivered == listeners
        processor.shutdown()
    print(f"segment      caption + audio (18 KB mp3, 1 part) -> {listeners} listeners, {post_ms:g} ms/post, "
          f"concurrency {concurrency}: fan-out (first caption post to last audio post) median "
          f"{statistics.median(fanout):.3f} s ({2 * listeners} posts; ideal {-(-2 * listeners // concurrency) * post_ms / 1000:.3f} s); "
          f"whole invocation median {statistics.median(times):.3f} s, of which moto's Query of {listeners} rows "
          f"{statistics.median(reads):.3f} s")


def bench_real_client(listeners: int, post_ms: float, concurrency: int, runs: int = 3) -> None:
    # The server runs in its own process so the figures are the client's alone.
    server, endpoint = slow_connections.start(post_ms / 1000)
    from translation_pipeline import clients

    clients.reset()
    client = clients.get("management_sdk", concurrency + 16, endpoint)
    median, best, cpu_ms = measure(client, listeners, concurrency, runs)
    server.terminate()
    server.join()
    clients.reset()
    print(f"real client  1 message  -> {listeners} listeners, botocore over local HTTP, {post_ms:g} ms/post, "
          f"concurrency {concurrency}: median {median:.3f} s, best {best:.3f} s; "
          f"client CPU {cpu_ms:.2f} ms/post")


def bench_latency(segments: int, concurrency: int) -> None:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(ddb)
        now = time.time()
        put_session(ddb, "bench-session", now, listeners=15)
        for i, lang in enumerate(["es", "fr", "de", "en", "ja"] * 3):
            put_connection(ddb, f"conn-{i:02d}", "bench-session", now, language=lang)
        processor = build_processor(_settings(concurrency), dynamodb=ddb, translate=FakeTranslate(),
                                    polly=FakePolly(audio_size=18_000), management=FakeManagementApi())
        # Warm-up: thread pools, botocore's first-call work.
        processor.process(Segment.from_event(segment_event("bench-session", 0, "Warm up.")))
        processor.recorder.flush_to(_Discard())
        e2e, dynamo, own = [], [], []
        for seq in range(1, segments + 1):
            event = segment_event("bench-session", seq, f"Sentence {seq}: the speaker keeps talking.", emitted_at=time.time())
            result = processor.process(Segment.from_event(event))
            last = max(o.last_posted_at for o in result.languages.values())
            total_ms = (last - event["emittedAt"]) * 1000
            db_ms = result.timings["reads"] + result.timings["cache"]
            e2e.append(total_ms)
            dynamo.append(db_ms)
            own.append(total_ms - db_ms)
        recorded = processor.recorder.timings[telemetry.END_TO_END_LATENCY]
        captions = sorted(processor.recorder.timings[telemetry.CAPTION_LATENCY])
        processor.shutdown()
    assert len(recorded) == segments
    e2e, dynamo, own = sorted(e2e), sorted(dynamo), sorted(own)
    p = lambda xs, q: xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]  # noqa: E731
    print(f"latency      emitted -> last listener posted (EndToEndLatency), {segments} segments, 5 languages x 3 listeners, "
          f"Translate/Polly/@connections at zero delay, DynamoDB in moto:")
    print(f"             end to end        p50 {p(e2e, .5):6.1f} ms  p95 {p(e2e, .95):6.1f} ms  max {e2e[-1]:6.1f} ms "
          f"(goal p95 < 100 ms); captions p50 {p(captions, .5):.1f} ms, p95 {p(captions, .95):.1f} ms")
    print(f"             moto DynamoDB     p50 {p(dynamo, .5):6.1f} ms  p95 {p(dynamo, .95):6.1f} ms  "
          "(critical-path round trips: session/listeners/claim in parallel, then one BatchGetItem)")
    print(f"             pipeline own      p50 {p(own, .5):6.1f} ms  p95 {p(own, .95):6.1f} ms  (end to end minus those)")


class _Discard:
    namespace = "bench"
    service = "bench"

    def add_metric(self, **_):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=500)
    parser.add_argument("--post-ms", type=float, default=25.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--segments", type=int, default=50)
    parser.add_argument("--skip-real-client", action="store_true", help="skip the local HTTP server run")
    args = parser.parse_args()
    bench_broadcast(args.listeners, args.post_ms, args.concurrency)
    bench_segment(args.listeners, args.post_ms, args.concurrency)
    if not args.skip_real_client:
        bench_real_client(args.listeners, args.post_ms, args.concurrency)
    bench_latency(args.segments, args.concurrency)


if __name__ == "__main__":
    main()
