"""Speech to listener latency per word through the whole simulated system (tests/integration).

    python bench/system_latency_bench.py [--listeners 500] [--languages 3] [--post-cpu-ms 0]

The dev stack's functions run as in the end-to-end test (``tests/integration/system.py``):
the speaker streams continuous speech in 100 ms ``sendAudio`` chunks on a simulated clock,
the chunks go through the AudioChunks table to the real stream worker, whose Transcribe
stream is the system test's fake (partials every 0.45 s, all but the newest two words
stable), through the partial-results processor at the stack's settings and the forwarder's
ordered invokes, into the real TranslationProcessor (moto DynamoDB, fake Translate, Polly and
``@connections``), which posts captions and audio to three listeners.

The simulated clock stands still while the TranslationProcessor runs (its moto calls take
real time, and moto's 500-row Query alone takes about a second), so the AWS services'
latencies are added from the recorded figures, as in ``bench/phrase_latency_bench.py``:
async invoke 50 ms, reads 30 ms, Translate 150 ms, Polly 250 ms to first byte, 25 ms per post
for ``--listeners`` listeners over ``--languages`` languages with the stack's broadcast
concurrency. Printed: for each spoken word, end of the word in the speaker's audio -> its
segment handed to the TranslationProcessor (the worker path, simulated), and -> its segment's
audio posted to the last listener (p50, p95, max); every word delivered exactly once and in order.

Prints figures only; nothing asserts on timings.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import logging
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "functions"), str(ROOT / "bench")]
os.environ.setdefault("LOG_LEVEL", "ERROR")

import pytest  # noqa: E402
import yaml  # noqa: E402
from phrase_latency_bench import Services, end_to_end, pct  # noqa: E402

from tests.integration.speech import build_track  # noqa: E402
from tests.integration.stack import StackView  # noqa: E402
from tests.integration.system import System  # noqa: E402

# Continuous speech: sentences with the short pauses a speaker leaves between them.
SCRIPT = [
    ("Good afternoon and thank you for coming, today I want to talk about how our city is going to change "
     "the way people move around over the next ten years.", 0.4),
    ("Most of you drove here today, and that is not a criticism, because for many of us the car is still the "
     "only practical choice.", 0.4),
    ("But we know that the roads are full in the morning and in the evening, the buses are slow, and the air on "
     "the main streets is not as clean as it should be.", 0.4),
    ("So the council has agreed a plan with three parts, and the first part is a network of protected cycle "
     "lanes that connects every school and every station with the centre.", 0.4),
    ("The second part is a bus service that runs every ten minutes on the main routes from early in the morning "
     "until midnight.", 3.0),
]
LISTENERS = [("es", "es", "203.0.113.11"), ("fr", "fr", "198.51.100.21"), ("de", "de", "192.0.2.31")]
SPEECH_START = 5.0


def run_story(system: System, track) -> tuple[float, str]:
    """Speaker, three listeners, the whole track in real-time chunks, then the end of the session."""
    t0 = system.clock()
    speech = t0 + SPEECH_START
    tl = system.timeline
    session = {}

    def open_session() -> None:
        token = system.cognito.access_token("7c1e9d2a-0b5f-4a8e-9f61-3d2b8c4e5a10", "speaker@example.com")
        status, _ = system.connect("speaker", "speaker", "198.51.100.7", token=token)
        assert status == 200
        system.send("speaker", {"action": "createSession", "sourceLanguage": "en-US", "requestId": "create-1"})
        session["id"] = system.received("speaker")[-1]["sessionId"]

    tl.at(t0, "speaker connects", open_session)
    for n, (name, language, ip) in enumerate(LISTENERS):
        def join(name=name, language=language, ip=ip) -> None:
            system.connect(name, "listener", ip)
            system.send(name, {"action": "joinSession", "sessionId": session["id"], "targetLanguage": language})
        tl.at(t0 + 1.0 + 0.5 * n, f"{name} joins", join)
    for sequence, chunk in enumerate(track.chunks(0.0, track.seconds)):
        def send(seq=sequence, pcm=chunk.pcm) -> None:
            system.send("speaker", {"action": "sendAudio", "sessionId": session["id"], "sequence": seq,
                                    "audio": base64.b64encode(pcm).decode()})
        tl.at(round(speech + chunk.start, 3), f"chunk {sequence}", send)
    end = speech + track.seconds + 15.0
    tl.at(end, "end", lambda: system.send("speaker", {"action": "speakerControl", "sessionId": session["id"],
                                                      "command": "end"}))
    system.run(until=end + 5.0)
    return speech, session["id"]


class _Seg:
    """The shape ``end_to_end`` reads: words with start times (track seconds)."""

    def __init__(self, words) -> None:
        self.words = words


class _Word:
    def __init__(self, start: float) -> None:
        self.start_time = start
        self.punctuation = False


def main(argv: list[str]) -> int:
    """Run the story and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=0, help="modelled listeners (default: session:maxListeners)")
    parser.add_argument("--languages", type=int, default=3)
    parser.add_argument("--post-cpu-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    stack_cfg = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["config"]
    listeners = args.listeners or int(stack_cfg["session:maxListeners"]["value"])
    concurrency = int(stack_cfg["translation:broadcastConcurrency"]["value"])
    started = time.perf_counter()
    stack = StackView.load("dev")
    track = build_track(SCRIPT)
    words = [w for p in track.phrases for w in p.word_times]
    # The functions print their EMF metrics to stdout, as in Lambda; keep them out of the figures.
    with pytest.MonkeyPatch.context() as monkeypatch, contextlib.redirect_stdout(io.StringIO()):
        system = System(stack, track, monkeypatch, start=float(int(time.time()))).start()
        try:
            speech, _ = run_story(system, track)
            deliveries = [d for d in system.deliveries if d.result.get("status") == "processed"]
        finally:
            system.stop()
    env = stack.deployment.function("-audio-stream-worker").inputs["environment"]["variables"]
    print(f"dev stack, worker settings: threshold {env['MIN_STABILITY_THRESHOLD']}, phraseMaxWords "
          f"{env['PHRASE_MAX_WORDS']}, phraseMinWords {env['PHRASE_MIN_WORDS']}, phraseMaxWait {env['PHRASE_MAX_WAIT']} s, phraseTailWords {env['PHRASE_TAIL_WORDS']}; "
          f"speech from {track.source}, {len(words)} words in {track.phrases[-1].end - track.phrases[0].start:.1f} s; "
          f"{len(deliveries)} segments; run took {time.perf_counter() - started:.0f} s")
    # Each segment's words: the track words inside its audio span (session seconds = track seconds here).
    delivered: list[tuple[str, float, float]] = []  # (word, start, delivered at)
    emitted = []
    for d in sorted(deliveries, key=lambda d: d.payload["sequence"]):
        lo, hi = d.payload["startTime"] - 0.02, d.payload["endTime"] + 0.02
        inside = [(w, s, e) for w, s, e in words if s >= lo and e <= hi]
        delivered += [(w, s, d.at) for w, s, _ in inside]
        emitted.append((d.at - speech, _Seg([_Word(s) for _, s, _ in inside])))
    exact = [(w.lower(), s) for w, s, _ in delivered] == [(w.lower(), s) for w, s, _ in words]
    ends = {s: e for _, s, e in words}
    to_pipeline = [at - speech - ends[s] for _, s, at in delivered]
    services = Services(post_cpu=args.post_cpu_ms / 1000)
    truth = [(w, s, e) for w, s, e in words]
    to_listener = end_to_end(emitted, truth, services, listeners, args.languages, concurrency)
    print(f"every word delivered once, in order: {'yes' if exact else 'NO'}")
    print(f"word end -> segment at the TranslationProcessor (worker path, simulated): p50 {statistics.median(to_pipeline):.2f} s, "
          f"p95 {pct(to_pipeline, 95):.2f} s, max {max(to_pipeline):.2f} s")
    cpu = f", {args.post_cpu_ms:g} ms CPU per post" if args.post_cpu_ms else ""
    print(f"word end -> audio posted to the last of {listeners} listeners ({args.languages} languages, "
          f"services modelled{cpu}): "
          f"p50 {statistics.median(to_listener):.2f} s, p95 {pct(to_listener, 95):.2f} s, max {max(to_listener):.2f} s "
          f"(goal p50 <= 2.0 s, p95 <= 3.0 s)")
    lengths = [len(seg.words) for _, seg in emitted]
    print(f"segments: median {statistics.median(lengths):.1f} words, one-word {100 * sum(1 for n in lengths if n == 1) / len(lengths):.1f}%; "
          f"texts: {' | '.join(d.payload['text'] for d in sorted(deliveries, key=lambda d: d.payload['sequence'])[:8])} ...")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
