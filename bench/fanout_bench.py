"""Shard fan-out: delivery time of one segment to 50, 500 and 2,000 listeners, one invocation vs shards.

    python bench/fanout_bench.py [--listeners 50 500 2000] [--shard 500] [--post-ms 25] [--concurrency 64]
                                 [--segments 3] [--combined]

Runs the real TranslationProcessor (DynamoDB in moto, Translate and Polly faked at zero delay)
posting through the lean poster to a local ``@connections`` server that answers every POST
after --post-ms (asyncio, its own processes sharing the port). Shard invocations are emulated the way
Lambda runs them: warm worker processes, each its own container with the handler's own
processor (built from the environment as in Lambda), receiving the ``shardPost`` event
through ``handler.handle``. For each audience it reports, median over --segments segments,
the fan-out time: segment emitted to the last listener posted (over every invocation), less
the moto DynamoDB reads (an artefact of moto, ~10x slower than DynamoDB). Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]
for _name, _value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
                      "AWS_DEFAULT_REGION": "us-east-1", "LOG_LEVEL": "WARNING"}.items():
    os.environ.setdefault(_name, _value)
os.environ.pop("AWS_ENDPOINT_URL", None)

from bench.slow_connections import serve_asyncio  # noqa: E402

SESSION = "bench-session"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(endpoint: str, concurrency: int, shard: int, combined: bool) -> dict[str, str]:
    from translation_pipeline.tests.fakes import CACHE, CONNECTIONS, INDEX, SESSIONS

    return {"SESSIONS_TABLE": SESSIONS, "CONNECTIONS_TABLE": CONNECTIONS, "CONNECTIONS_BY_SESSION_INDEX": INDEX,
            "TRANSLATION_CACHE_TABLE": CACHE, "WEBSOCKET_ENDPOINT": endpoint, "BROADCAST_CONCURRENCY": str(concurrency),
            "FANOUT_SHARD_LISTENERS": str(shard), "COMBINE_CAPTION_AUDIO": "true" if combined else "false",
            "AWS_LAMBDA_FUNCTION_NAME": "bench-translation"}


def _worker_start(env: dict[str, str]) -> None:
    """A warm container: environment set, processor built, connections opened on first use."""
    os.environ.update(env)
    from translation_pipeline import handler

    handler.get_processor()


def _worker_handle(payload: bytes) -> tuple[float | None, float]:
    """One shard invocation through the handler; the time of its last post and the CPU seconds it took."""
    from translation_pipeline import handler

    cpu = time.process_time()
    result = handler.handle(json.loads(payload), None)
    posted = [o.last_posted_at for o in result.languages.values() if o.last_posted_at]
    return (max(posted) if posted else None), time.process_time() - cpu


class PoolLambda:
    """``invoke(InvocationType="Event")`` handed to a warm worker process, as Lambda hands it to a container."""

    def __init__(self, pool: multiprocessing.pool.Pool) -> None:
        self._pool = pool
        self.pending: list = []

    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: bytes) -> dict:  # noqa: N803
        assert InvocationType == "Event"
        self.pending.append(self._pool.apply_async(_worker_handle, (Payload,)))
        return {"StatusCode": 202}

    def wait(self) -> tuple[list[float], float]:
        """Last-post times of the shards, and their CPU seconds in all."""
        done = [p.get(timeout=120) for p in self.pending]
        self.pending = []
        return [t for t, _ in done if t], sum(c for _, c in done)


def run(listeners: int, shard: int, args, endpoint: str) -> tuple[float, int, float]:
    """Median fan-out seconds over the segments, invocations per segment, and the shard invocations' median
    CPU ms per post (they run no moto, so that is the posting cost alone; NaN without shards)."""
    import boto3
    from moto import mock_aws
    from translation_pipeline.processor import build_processor
    from translation_pipeline.segment import Segment
    from translation_pipeline.settings import TranslationSettings
    from translation_pipeline.tests.fakes import (
        FakePolly,
        FakeTranslate,
        create_tables,
        put_connection,
        put_session,
        segment_event,
    )

    env = _environment(endpoint, args.concurrency, shard, args.combined)
    pool = multiprocessing.get_context("fork").Pool(max(1, -(-listeners // shard) - 1) if shard else 1,
                                                    initializer=_worker_start, initargs=(env,))
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(ddb)
        now = time.time()
        put_session(ddb, SESSION, now, listeners=listeners)
        for i in range(listeners):
            put_connection(ddb, f"conn-{i:05d}=", SESSION, now, language="es")
        from translation_pipeline.connections_poster import ConnectionsPoster

        settings = TranslationSettings.from_env(env)
        lam = PoolLambda(pool)
        processor = build_processor(settings, dynamodb=ddb, translate=FakeTranslate(), polly=FakePolly(audio_size=9_000),
                                    management=ConnectionsPoster(endpoint, pool_size=args.concurrency + 16),
                                    lambda_client=lam)
        times, cpus, invocations = [], [], 1
        for seq in range(0, args.segments + 1):  # segment 0 warms every connection and pool
            event = segment_event(SESSION, seq, f"Phrase {seq} of the fan-out benchmark.", emitted_at=time.time())
            result = processor.process(Segment.from_event(event), function_name="bench-translation")
            shard_ends, shard_cpu = lam.wait()
            ends = [o.last_posted_at for o in result.languages.values() if o.last_posted_at] + shard_ends
            es = result.languages["es"]
            assert es.delivered + es.dispatched == listeners, (es.delivered, es.dispatched)
            invocations = es.shards
            if seq:
                moto_s = (result.timings["reads"] + result.timings["cache"]) / 1000
                times.append(max(ends) - event["emittedAt"] - moto_s)
                if es.dispatched:
                    cpus.append(shard_cpu / (es.dispatched * (1 if args.combined else 2)) * 1000)
        processor.shutdown()
    pool.terminate()
    pool.join()
    return statistics.median(times), invocations, statistics.median(cpus) if cpus else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, nargs="+", default=[50, 500, 2000])
    parser.add_argument("--shard", type=int, default=500)
    parser.add_argument("--post-ms", type=float, default=25.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--segments", type=int, default=3)
    parser.add_argument("--servers", type=int, default=2, help="server processes sharing the port")
    parser.add_argument("--combined", action="store_true", help="caption with its audio inside (one post per listener)")
    args = parser.parse_args()
    port = _free_port()
    servers = [multiprocessing.Process(target=serve_asyncio, args=(port, args.post_ms / 1000), daemon=True) for _ in range(args.servers)]
    for server in servers:
        server.start()
    time.sleep(0.5)
    endpoint = f"http://127.0.0.1:{port}/dev"
    messages = 1 if args.combined else 2
    print(f"fan-out of one segment ({messages} message(s) per listener), {args.post_ms:g} ms per post, "
          f"{args.concurrency} posts in flight per invocation, median of {args.segments} segments "
          f"({os.cpu_count()} CPU cores for everything):")
    try:
        for listeners in args.listeners:
            single, _, _ = run(listeners, 0, args, endpoint)
            sharded, invocations, sharded_cpu = run(listeners, args.shard, args, endpoint)
            ideal = -(-min(listeners, args.shard) * messages // args.concurrency) * args.post_ms / 1000
            shard_cpu = f", shard CPU {sharded_cpu:.2f} ms/post" if invocations > 1 else ""
            print(f"  {listeners:>5} listeners: one invocation {single:.3f} s | shards of {args.shard}: {sharded:.3f} s "
                  f"over {invocations} invocation(s){shard_cpu} | ideal per shard {ideal:.3f} s")
    finally:
        for server in servers:
            server.terminate()


if __name__ == "__main__":
    main()
