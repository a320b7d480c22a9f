"""Benchmark of PartialResultProcessor on the recorded Transcribe sequences.

Prints the processor's cost per TranscriptEvent (microseconds) and events per second over
every replay in functions/audio_transcription/tests/data (goal: under 50 us per event), and
the median lead time of stable-phrase emission: how long before its result's final arrived a
phrase emitted from partial results went out.

    python bench/partial_results_bench.py [--iterations 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

from audio_transcription.partial_results.config import ProcessorConfig  # noqa: E402
from audio_transcription.partial_results.processor import PartialResultProcessor  # noqa: E402
from audio_transcription.tests.replays import all_replays, replay  # noqa: E402

GOAL_US = 50.0


def configs() -> dict[str, ProcessorConfig]:
    """The stack default (threshold 1.0, early phrases of 4-6 words, one heard word) and early phrases off."""
    base = dict(max_buffer_timeout=7.0, pause_threshold=2.0, orphan_timeout=15.0, max_rate_per_second=10,
                dedup_cache_ttl=10, min_stability_threshold=1.0)
    return {"early phrases (stack config)": ProcessorConfig(phrase_max_words=6, phrase_min_words=4,
                                                             phrase_max_wait=1.1, phrase_tail_words=1, **base),
            "early phrases off": ProcessorConfig(phrase_max_words=0, **base)}


def cost(replays, config: ProcessorConfig, iterations: int) -> tuple[float, float, int]:
    """(microseconds per event, events per second, events timed) for process() over every replay."""
    timings = []
    events = 0
    for _ in range(iterations):
        for rep in replays:
            processor = PartialResultProcessor(config)
            started = time.perf_counter()
            for at, event in rep.events:
                processor.process(event, at)
            timings.append(time.perf_counter() - started)
            events += len(rep.events)
    total = sum(timings)
    return total / events * 1e6, events / total, events


def lead_times(replays, config: ProcessorConfig) -> list[float]:
    """Seconds between each phrase emitted from partials and its result's final."""
    leads = []
    for rep in replays:
        for at, segment in replay(PartialResultProcessor(config), rep.events, tick=0.1):
            final_at = rep.final_at.get(segment.result_id)
            if not segment.is_final and segment.reason in ("stable", "early", "timeout") and final_at is not None:
                leads.append(final_at - at)
    return leads


def main(argv: list[str]) -> int:
    """Run and print the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200, help="passes over the replay corpus")
    args = parser.parse_args(argv)
    replays = all_replays()
    print(f"{len(replays)} replays, {sum(len(r.events) for r in replays)} TranscriptEvents per pass, "
          f"{args.iterations} passes; Python {sys.version.split()[0]}")
    ok = True
    for name, config in configs().items():
        us, rate, events = cost(replays, config, args.iterations)
        leads = lead_times(replays, config)
        ok &= us < GOAL_US
        print(f"\n{name}")
        print(f"  processor cost   {us:8.1f} us/event   ({rate:,.0f} events/s over {events:,} events; goal < {GOAL_US:.0f} us)")
        if leads:
            print(f"  lead before final: median {statistics.median(leads):.2f} s over {len(leads)} phrases "
                  f"emitted from partials (min {min(leads):.2f} s, max {max(leads):.2f} s)")
        for rep in replays:
            per = lead_times([rep], config)
            text = f"median {statistics.median(per):5.2f} s ({len(per)} phrases)" if per else "none (final only)"
            print(f"    {rep.name:32s} {text}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
