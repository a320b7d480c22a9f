"""Word latency of the partial-results processor on continuous speech, and end to end to listeners.

    python bench/phrase_latency_bench.py [--seeds 10] [--iterations 20] [--languages 3] [--listeners 500]
                                         [--max-words N] [--min-words N] [--max-wait S]

Replays: the generated continuous-speech streams of
``functions/audio_transcription/tests/speech_replays.py`` (a partial every 0.5 s, words
turning stable one or two words behind, 0.6-1.1 s after they end), with commas and full
stops in the partials and without any punctuation until the final, one stream per seed.
The processor runs at the stack defaults (``Pulumi.yaml``'s ``transcription:`` values), fed
every event at its arrival time and ticked every 50 ms between events, as the stream worker does.

Printed per kind of stream:

* word latency: when the word left the processor in a segment minus the end of the word in
  the audio (p50, p95, max) and the stabilization lag of the stream itself (when Transcribe
  first flagged the word stable minus its end: the floor);
* segments: median words, share of one-word segments, segments per second of speech;
* whether every word of every final was emitted exactly once, in order;
* processor cost: CPU microseconds per TranscriptEvent (``process``), and per event including
  the ticks between events (every 50 ms).

End to end (a discrete-event model of the deployed path, with the recorded service latencies
below and the real processor's emission times): segment emitted -> async invoke of the
TranslationProcessor -> its DynamoDB reads -> per language, in parallel: Translate, then the
caption posted while Polly synthesizes, then the audio posted, every post taking 25 ms in a
pool of ``translation:broadcastConcurrency`` (the Broadcaster's shape). Printed: speech to
last listener per word (end of the word in the audio -> its segment's audio posted to the last
listener), p50 and p95, and Polly requests per second against the account's neural quota.

Prints figures only; nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions")]

import yaml  # noqa: E402
from audio_transcription.partial_results.config import ProcessorConfig  # noqa: E402
from audio_transcription.partial_results.processor import PartialResultProcessor  # noqa: E402
from audio_transcription.tests.replays import replay  # noqa: E402
from audio_transcription.tests.speech_replays import continuous_speech, continuous_speech_doc  # noqa: E402

TICK = 0.05
POLLY_NEURAL_TPS = 8.0


@dataclass(frozen=True)
class Services:
    """Recorded service latencies (seconds) of the end-to-end model."""

    invoke: float = 0.05  # Lambda Invoke (Event) from the worker + async queue to the handler
    reads: float = 0.03  # ledger claim, Sessions row, listeners Query (DynamoDB, in parallel) + cache BatchGet
    translate: float = 0.15
    polly_first_byte: float = 0.25
    post: float = 0.025  # one post_to_connection
    post_cpu: float = 0.0  # CPU per post (signing, HTTP) in the function, one post at a time per vCPU


def stack_defaults() -> ProcessorConfig:
    """The processor's settings as Pulumi.yaml gives every new stack."""
    config = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]

    def value(key: str) -> str:
        return str(config[f"transcription:{key}"]["value"])

    return ProcessorConfig(
        min_stability_threshold=float(value("minStabilityThreshold")),
        max_buffer_timeout=float(value("maxBufferTimeout")),
        pause_threshold=float(value("pauseThreshold")),
        orphan_timeout=float(value("orphanTimeout")),
        max_rate_per_second=float(value("maxRatePerSecond")),
        dedup_cache_ttl=float(value("dedupCacheTtl")),
        phrase_max_words=int(value("phraseMaxWords")),
        phrase_min_words=int(value("phraseMinWords")),
        phrase_max_wait=float(value("phraseMaxWait")),
        phrase_tail_words=int(value("phraseTailWords")),
    )


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def stabilization_lags(replay) -> list[float]:
    """When each word was first flagged stable in a partial, minus its end."""
    first: dict[float, float] = {}
    for at, event in replay.events:
        for result in event.transcript.results:
            if result.is_partial:
                for item in result.alternatives[0].items:
                    if item.stable and item.item_type != "punctuation" and item.start_time not in first:
                        first[item.start_time] = at - item.end_time
    return list(first.values())


def word_figures(replay, emitted, truth) -> tuple[list[float], list[int], bool, int]:
    """(latency per word, words per segment, every word once in order, words sent as heard that the final changed).

    A word is identified by its place in the audio (start time): a heard word that Transcribe
    later changes stays as it was sent (README, "When a phrase is emitted"), so it counts as
    that word, sent once, and is counted apart as changed.
    """
    words = [(w.content.casefold(), w.start_time, at) for at, seg in emitted for w in seg.words if not w.punctuation]
    once_in_order = [s for _, s, _ in words] == [s for _, s, _ in truth]
    said = {s: c.casefold() for c, s, _ in truth}
    changed = sum(1 for c, s, _ in words if said.get(s, c) != c)
    ends = {s: e for _, s, e in truth}
    latencies = [at - ends[s] for _, s, at in words if s in ends]
    return latencies, [seg.word_count for _, seg in emitted], once_in_order, changed


def cost(replays, config: ProcessorConfig, iterations: int) -> tuple[float, float]:
    """(us per event in process(), us per event with the ticks between events).

    CPU time of this process (``time.process_time``), each replay run ``iterations`` times and
    its fastest run counted (as ``timeit`` does), so other load on a shared machine does not
    inflate the figure.
    """
    process_best = ticks_best = 0.0
    events = 0
    for rep in replays:
        best_process = best_total = float("inf")
        for _ in range(iterations):
            p = PartialResultProcessor(config)
            now = rep.events[0][0]
            spent_ticks = 0.0
            started = time.process_time()
            for at, event in rep.events:
                t0 = time.process_time()
                while now + TICK < at:
                    now += TICK
                    p.tick(now)
                spent_ticks += time.process_time() - t0
                now = at
                p.process(event, now)
            total = time.process_time() - started
            best_process = min(best_process, total - spent_ticks)
            best_total = min(best_total, total)
        process_best += best_process
        ticks_best += best_total
        events += len(rep.events)
    return process_best / events * 1e6, ticks_best / events * 1e6


def end_to_end(emitted, truth, services: Services, listeners: int, languages: int,
               concurrency: int) -> list[float]:
    """Speech (end of word) to its segment's audio posted to the last listener, per word."""
    ends = {s: e for _, s, e in truth}
    per_language = [listeners // languages + (1 if i < listeners % languages else 0) for i in range(languages)]
    latencies = []
    for at, seg in emitted:
        started = at + services.invoke + services.reads
        lanes = [started] * concurrency  # the Broadcaster's pool: free-at times
        heapq.heapify(lanes)
        cpu_free = started
        posts: list[tuple[float, int, bool]] = []  # (ready at, language, is audio)
        for lang, count in enumerate(per_language):
            translated = started + services.translate
            posts += [(translated, lang, False)] * count
            posts += [(translated + services.polly_first_byte, lang, True)] * count
        posts.sort(key=lambda p: p[0])
        last_audio = started
        for ready, _, is_audio in posts:
            lane = heapq.heappop(lanes)
            begin = max(lane, ready, cpu_free)
            cpu_free = begin + services.post_cpu
            done = begin + services.post_cpu + services.post
            heapq.heappush(lanes, done)
            if is_audio:
                last_audio = max(last_audio, done)
        latencies += [last_audio - ends[w.start_time] for w in seg.words if not w.punctuation and w.start_time in ends]
    return latencies


def main(argv: list[str]) -> int:
    """Run and print the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="generated streams per kind")
    parser.add_argument("--iterations", type=int, default=20, help="passes for the cost figure")
    parser.add_argument("--languages", type=int, default=3, help="target languages per session (end to end)")
    parser.add_argument("--listeners", type=int, default=0, help="listeners per session (default: session:maxListeners)")
    parser.add_argument("--max-words", type=int, help="override transcription:phraseMaxWords")
    parser.add_argument("--min-words", type=int, help="override transcription:phraseMinWords")
    parser.add_argument("--max-wait", type=float, help="override transcription:phraseMaxWait")
    parser.add_argument("--tail-words", type=int, help="override transcription:phraseTailWords")
    parser.add_argument("--post-cpu-ms", type=float, default=0.0,
                        help="CPU per post_to_connection in the function (ms per vCPU; measured 1.2-2.4 with botocore)")
    args = parser.parse_args(argv)
    stack = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    listeners = args.listeners or int(stack["session:maxListeners"]["value"])
    concurrency = int(stack["translation:broadcastConcurrency"]["value"])
    config = stack_defaults()
    overrides = {"phrase_max_words": args.max_words, "phrase_min_words": args.min_words, "phrase_max_wait": args.max_wait,
                 "phrase_tail_words": args.tail_words}
    config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    print(f"processor at the stack defaults: threshold {config.min_stability_threshold}, phraseMaxWords "
          f"{config.phrase_max_words}, phraseMinWords {config.phrase_min_words}, phraseMaxWait {config.phrase_max_wait} s, "
          f"phraseTailWords {config.phrase_tail_words}, pause {config.pause_threshold} s, "
          f"buffer timeout {config.max_buffer_timeout} s; Python {sys.version.split()[0]}")
    services = Services(post_cpu=args.post_cpu_ms / 1000)
    print(f"end to end: {listeners} listeners over {args.languages} languages, broadcast concurrency {concurrency}; "
          f"invoke {services.invoke * 1000:.0f} ms, reads {services.reads * 1000:.0f} ms, Translate "
          f"{services.translate * 1000:.0f} ms, Polly {services.polly_first_byte * 1000:.0f} ms to first byte, "
          f"{services.post * 1000:.0f} ms per post" + (f" + {args.post_cpu_ms:g} ms CPU" if args.post_cpu_ms else ""))
    for punctuated in (True, False):
        seeds = range(11, 11 + args.seeds)
        replays = [continuous_speech(punctuated, seed) for seed in seeds]
        truths = [[(c, s, e) for c, s, e in continuous_speech_doc(punctuated, seed)["words"]] for seed in seeds]
        latencies, lengths, lags, e2e = [], [], [], []
        exact = True
        speech = 0.0
        heard = changed = 0
        for rep, truth in zip(replays, truths, strict=True):
            processor = PartialResultProcessor(config)
            emitted = replay(processor, rep.events, tick=TICK, flush=True)
            lat, seg_words, ok, wrong = word_figures(rep, emitted, truth)
            latencies += lat
            lengths += seg_words
            exact &= ok
            heard += processor.stats.heard_words
            changed += wrong
            lags += stabilization_lags(rep)
            speech += truth[-1][2] - truth[0][1]
            e2e += end_to_end(emitted, truth, services, listeners, args.languages, concurrency)
        per_event, with_ticks = cost(replays, config, args.iterations)
        rate = len(lengths) / speech
        kind = "with punctuation in partials" if punctuated else "no punctuation until the final"
        print(f"\ncontinuous speech, {kind} ({len(replays)} streams, {sum(len(t) for t in truths)} words, "
              f"{speech:.0f} s, {60 * sum(len(t) for t in truths) / speech:.0f} words/min)")
        print(f"  stabilization lag (floor) p50 {statistics.median(lags):.2f} s, p95 {pct(lags, 95):.2f} s")
        print(f"  word latency      p50 {statistics.median(latencies):.2f} s, p95 {pct(latencies, 95):.2f} s, "
              f"max {max(latencies):.2f} s   (goal p50 <= 1.2 s, p95 <= 2.0 s)")
        print(f"  segments          median {statistics.median(lengths):.1f} words, one-word "
              f"{100 * sum(1 for n in lengths if n == 1) / len(lengths):.1f}%, {rate:.2f} per second of speech "
              f"(goal median >= 4, one-word <= 10%)")
        words = sum(len(t) for t in truths)
        print(f"  every word once, in order: {'yes' if exact else 'NO'}; sent as heard (before stable) "
              f"{100 * heard / words:.1f}% of words, of which the final changed {changed} "
              f"({100 * changed / words:.2f}% of words)")
        print(f"  processor cost    {per_event:.1f} us per event ({with_ticks:.1f} us with the ticks between events; "
              f"goal <= 50 us)")
        print(f"  end to end        speech -> last listener p50 {statistics.median(e2e):.2f} s, "
              f"p95 {pct(e2e, 95):.2f} s   (goal p50 <= 2.0 s, p95 <= 3.0 s)")
        polly = rate * args.languages
        print(f"  Polly neural      {polly:.2f} requests/s per session at {args.languages} languages: one account "
              f"(8/s) carries {POLLY_NEURAL_TPS / rate:.0f} session-languages ({POLLY_NEURAL_TPS / polly:.1f} sessions)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
