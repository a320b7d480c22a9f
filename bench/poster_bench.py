"""Lean ``@connections`` poster vs botocore's client, side by side in one run.

    python bench/poster_bench.py [--listeners 500] [--post-ms 25] [--concurrency 64] [--runs 5]

One message to N listeners through the same ``Broadcaster`` (bounded thread pool), once with
botocore's ``apigatewaymanagementapi`` client (``clients.get("management_sdk")``) and
once with ``connections_poster.ConnectionsPoster``, against a local HTTP/1.1 keep-alive server
in its own process that answers every POST after --post-ms. Reports wall time per broadcast
and the client process's CPU per post (both medians over --runs). Goals for the lean poster:
500 posts <= 0.25 s wall, <= 0.3 ms CPU per post. Prints figures only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "functions"), str(Path(__file__).resolve().parents[1])]
for _name, _value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench-token",
                      "AWS_DEFAULT_REGION": "us-east-1"}.items():
    os.environ.setdefault(_name, _value)
os.environ.setdefault("LOG_LEVEL", "WARNING")

from translation_pipeline import clients  # noqa: E402
from translation_pipeline.connections_poster import ConnectionsPoster  # noqa: E402

from bench import slow_connections  # noqa: E402
from bench.broadcast_timing import measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=500)
    parser.add_argument("--post-ms", type=float, default=25.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server, endpoint = slow_connections.start(args.post_ms / 1000, check_signature=True, request_queue_size=256)
    try:
        clients.reset()
        boto = clients.get("management_sdk", args.concurrency + 16, endpoint)
        lean = ConnectionsPoster(endpoint, pool_size=args.concurrency + 16)
        ideal = -(-args.listeners // args.concurrency) * args.post_ms / 1000
        print(f"{args.listeners} posts, {args.post_ms:g} ms per post, concurrency {args.concurrency} "
              f"(ideal wall {ideal:.3f} s), median of {args.runs} runs:")
        for name, client in (("botocore", boto), ("lean", lean)):
            wall, best, cpu = measure(client, args.listeners, args.concurrency, args.runs, id_suffix="=")
            print(f"  {name:<9} wall {wall:.3f} s (best {best:.3f} s)   client CPU {cpu:.3f} ms/post")
        lean.close()
    finally:
        clients.reset()
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
