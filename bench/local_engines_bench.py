"""Figures of the local speech engines (local/engines).

    python bench/local_engines_bench.py [--runs 3] [--calls 50]

1. recognition: pocketsphinx on the shipped recording (local/data/speech-en-us.flac), fed in
   100 ms chunks as fast as it decodes: real-time factor (decode time / audio time, and CPU time /
   audio time of this process and the stream's decoding process, which other load on a shared
   machine does not inflate) and word
   error rate of the final results against the transcript; time to open a stream (a decoding
   process and its model; the local run keeps one ready); how much audio after a word's end it is
   first marked stable.
2. translation: apertium, one persistent pipeline per pair vs. a new ``apertium`` process per
   call: latency per call (median, p95).
3. synthesis: espeak-ng + sox per segment (the pipeline's SSML, one sentence) in mp3 and
   ogg_vorbis: time per segment (median, p95).

Prints figures only; nothing here asserts on timings.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from local.engines.polly import EspeakSynthesizer, SpeechRequest  # noqa: E402
from local.engines.transcribe import PocketsphinxStreamFactory  # noqa: E402
from local.engines.translate import ApertiumTranslator  # noqa: E402
from tests.local.engines.speech import TRANSCRIPT, recording_pcm, word_error_rate, words  # noqa: E402

SENTENCES = ["Good morning everyone.", "Thank you all for coming here today.",
             "We will talk about the new train station in the city.", "Please ask your questions at the end of the meeting."]


def _cpu_seconds() -> float:
    """User + system CPU time of this process (all threads): unlike wall time, not inflated by other load."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):  # decoding runs in a child process
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


async def recognition(runs: int) -> None:
    pcm = recording_pcm()
    seconds = len(pcm) / 32000
    reference = words(TRANSCRIPT.read_text())
    # No spare process loading in the background: the CPU figure is the stream's alone.
    factory = PocketsphinxStreamFactory(prewarm=False)
    for run in range(runs):
        opened = time.perf_counter()
        stream = await factory.start("en-US", 16000, "high")
        opening = time.perf_counter() - opened
        finals: list[str] = []
        fed = [0.0]  # seconds of audio sent so far
        lags: dict[tuple[str, int], float] = {}  # word -> audio seconds from its end to its first stable flag

        async def read(stream=stream, finals=finals, fed=fed, lags=lags) -> None:
            async for event in stream.events():
                result = event.transcript.results[0]
                for index, item in enumerate(result.alternatives[0].items):
                    if item.stable and item.item_type == "pronunciation":
                        lags.setdefault((result.result_id, index), max(0.0, fed[0] - item.end_time))
                if not result.is_partial:
                    finals.append(result.alternatives[0].transcript)

        reader = asyncio.create_task(read())
        decoding_processes = list((stream._process._processes or {}).values())
        started = time.perf_counter()
        cpu_started = _cpu_seconds()
        for offset in range(0, len(pcm), 3200):
            await stream.send_audio(pcm[offset:offset + 3200])
            await asyncio.sleep(0)  # let the reader see events at the audio position they came at
            fed[0] = min(len(pcm), offset + 3200) / 32000
        await stream.end()
        await reader
        decoding = time.perf_counter() - started
        for process in decoding_processes:
            process.join(30)  # reaped, so its CPU time counts
        cpu = _cpu_seconds() - cpu_started
        values = list(lags.values())
        wer = word_error_rate(reference, words(" ".join(finals)))
        print(f"recognition run {run + 1}: {seconds:.2f} s audio, real-time factor {decoding / seconds:.3f} "
              f"(CPU time / audio time {cpu / seconds:.3f}), "
              f"WER {wer:.1%} ({len(reference)} words), stream open {opening:.2f} s; a word is stable "
              f"{statistics.median(values):.2f} s (p95 {_p95(values):.2f} s) of audio after it ends")
        if run == 0:
            print("  heard: " + " | ".join(finals))


async def translation(calls: int) -> None:
    translator = ApertiumTranslator()
    try:
        for target in ("es", "ca", "gl"):
            if ("en", target) not in translator.pairs():
                continue
            await translator.translate("Warm up.", "en", target)
            times = []
            for n in range(calls):
                started = time.perf_counter()
                await translator.translate(SENTENCES[n % len(SENTENCES)], "en", target)
                times.append(time.perf_counter() - started)
            print(f"apertium en-{target} persistent pipeline: median {statistics.median(times) * 1000:.1f} ms, "
                  f"p95 {_p95(times) * 1000:.1f} ms per call ({calls} calls)")
        times = []
        for n in range(5):
            started = time.perf_counter()
            subprocess.run(["apertium", "-u", "eng-spa"], input=SENTENCES[n % 4].encode(), capture_output=True, check=True)
            times.append(time.perf_counter() - started)
        print(f"apertium eng-spa new process per call: median {statistics.median(times) * 1000:.0f} ms (5 calls)")
    finally:
        translator.close()


async def synthesis(calls: int) -> None:
    synthesizer = EspeakSynthesizer()
    ssml = '<speak><prosody rate="110%" volume="medium">Hablaremos sobre la nueva estación de tren en la ciudad.</prosody></speak>'
    for fmt in ("mp3", "ogg_vorbis", "pcm"):
        request = SpeechRequest.parse({"Text": ssml, "TextType": "ssml", "VoiceId": "Lucia", "Engine": "neural",
                                       "OutputFormat": fmt})
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            await synthesizer.synthesize(request)
            times.append(time.perf_counter() - started)
        print(f"espeak-ng + sox {fmt}: median {statistics.median(times) * 1000:.0f} ms, p95 {_p95(times) * 1000:.0f} ms "
              f"per segment ({calls} segments of one sentence)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(recognition(args.runs))
    asyncio.run(translation(args.calls))
    asyncio.run(synthesis(max(5, args.calls // 5)))


if __name__ == "__main__":
    main()
