"""Timing one caption broadcast to N listeners through the pipeline's ``Broadcaster``.

Imported by benchmarks that have already put ``functions/`` on ``sys.path``.
"""

from __future__ import annotations

import statistics
import time

from translation_pipeline.broadcast import Broadcaster

CAPTION = b'{"type":"caption","sessionId":"bench-session","sequence":1,"text":"' + b"x" * 120 + b'"}'


def measure(client, listeners: int, concurrency: int, runs: int, id_suffix: str = "") -> tuple[float, float, float]:
    """(median wall s, best wall s, median client CPU ms per post) of one caption to ``listeners`` connections
    named ``conn-NNNN<id_suffix>``, over ``runs`` broadcasts after one that opens the connections and starts
    the pool's threads."""
    broadcaster = Broadcaster(client, None, concurrency, 3, 0.05, 1.0)
    connections = [f"conn-{i:04d}{id_suffix}" for i in range(listeners)]
    broadcaster.broadcast("bench-session", connections, [CAPTION])
    walls, cpus = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = broadcaster.broadcast("bench-session", connections, [CAPTION])
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
        assert len(result.delivered) == listeners, result.failure_codes
    broadcaster.shutdown()
    return statistics.median(walls), min(walls), statistics.median(cpus) / listeners * 1000
