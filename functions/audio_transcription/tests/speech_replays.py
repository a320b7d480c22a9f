"""Generated replays of continuous speech, shaped like Transcribe's stabilized partial results.

A passage is "spoken" at a natural pace (word lengths from the letters, short gaps, longer
pauses after clause and sentence marks; about 150-170 words a minute), split into results
the way Transcribe ends a result at a sentence end after several seconds. For each result:

* a partial every 0.5 s (±30 ms), showing every word that started 0.2 s or more before it;
  the word still being spoken is a guess (its first letters, or a sound-alike word);
* a word is flagged ``Stable`` in the first partial at least 0.6 s after its end once the
  next word has been heard in full, and after every word before it: so items turn stable
  one or two words behind the speaker, 0.6-1.1 s after they end (Transcribe's word emission
  latency is about 0.9 s);
* an unstable word is now and then misheard and corrected in a later partial; a stable word
  never changes;
* ``punctuated`` partials carry the passage's commas and full stops (a mark is shown once the
  word after it is heard, and turns stable with that word) and now and then a spurious full
  stop after the newest word; otherwise partials carry no punctuation at all and only the
  final result has it;
* the final result comes 0.6-0.9 s after the result's last word (``final_lag``), fully
  punctuated; the next result's partials do not wait for it.

The output is the replay format of ``data/*.json`` (Transcribe's wire JSON, parsed by the SDK's
own parser in ``replays.load_replay``), plus ``words``: every spoken word with its times.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audio_transcription.tests.replays import DATA_DIR, Replay, replay_from_doc

PASSAGE = (
    "Good afternoon and thank you for coming. Today I want to talk about how our city is going to "
    "change the way people move around over the next ten years. Most of you drove here today, and "
    "that is not a criticism, because for many of us the car is still the only practical choice. "
    "But we know that the roads are full in the morning and in the evening, the buses are slow, and "
    "the air on the main streets is not as clean as it should be. So the council has agreed a plan "
    "with three parts. The first part is a network of protected cycle lanes that connects every "
    "school and every station with the centre. The second part is a bus service that runs every "
    "ten minutes on the main routes, from early in the morning until midnight, with real time "
    "information at every stop. The third part is the one that people ask me about most often, "
    "which is what happens to parking in the old town. We will not close the old town to cars, but "
    "we will move most of the parking to the edge of it, and we will use the space for wider "
    "pavements, trees and places to sit. None of this happens overnight. The first lanes open in "
    "the spring, the new buses arrive in the autumn, and the work in the old town starts next year "
    "after we have listened to the people who live and work there. I would like to thank the "
    "teams who have worked on this plan for the last two years, and I am happy to take your "
    "questions now."
)

_TOKEN = re.compile(r"[^\s.,?!;:]+|[.,?!;:]")
_SOUND_ALIKE = ["the", "a", "and", "in", "to", "for", "our", "are", "on", "at", "be", "we"]


@dataclass
class SpokenWord:
    """One word of the passage with its times in the audio, and the mark written after it."""

    content: str
    start: float
    end: float
    mark: str = ""


def speak(passage: str, rng: random.Random, start: float = 0.3, pace: float = 1.0) -> list[SpokenWord]:
    """Times for every word of ``passage``; ``pace`` > 1 speaks faster."""
    words: list[SpokenWord] = []
    t = start
    for token in _TOKEN.findall(passage):
        if re.fullmatch(r"[.,?!;:]", token):
            if words:
                words[-1].mark = token
                t += (rng.uniform(0.25, 0.45) if token in ".?!" else rng.uniform(0.08, 0.18)) / pace
            continue
        duration = (0.09 + 0.052 * len(token)) * rng.uniform(0.85, 1.15) / pace
        words.append(SpokenWord(token, round(t, 3), round(t + duration, 3)))
        t += duration + rng.uniform(0.02, 0.08) / pace
    return words


def split_results(words: list[SpokenWord], rng: random.Random) -> list[list[SpokenWord]]:
    """Results end at a sentence end once they are 6-14 s long (and with the passage)."""
    results: list[list[SpokenWord]] = []
    current: list[SpokenWord] = []
    target = rng.uniform(6.0, 14.0)
    for w in words:
        current.append(w)
        if w.mark in ".?!" and w.mark and current[-1].end - current[0].start >= target:
            results.append(current)
            current = []
            target = rng.uniform(6.0, 14.0)
    if current:
        results.append(current)
    return results


def _item(content: str, start: float, end: float, punct: bool, stable: bool, confidence: float | None = None) -> dict:
    item: dict[str, Any] = {"Content": content, "StartTime": round(start, 3), "EndTime": round(end, 3),
                            "Type": "punctuation" if punct else "pronunciation", "VocabularyFilterMatch": False,
                            "Stable": stable}
    if confidence is not None:
        item["Confidence"] = confidence
    return item


def _result(rid: str, items: list[dict], partial: bool, start: float, end: float) -> dict:
    text = re.sub(r"\s+([.,?!;:])", r"\1", " ".join(i["Content"] for i in items))
    return {"Alternatives": [{"Items": items, "Transcript": text}], "ChannelId": None,
            "EndTime": round(end, 3), "IsPartial": partial, "ResultId": rid, "StartTime": round(start, 3)}


def result_events(rid: str, words: list[SpokenWord], rng: random.Random, punctuated: bool,
                  last_of_stream: bool, final_lag: tuple[float, float] = (0.6, 0.9)) -> list[tuple[float, dict]]:
    """(arrival, Result JSON) of one result's partials and its final."""
    out: list[tuple[float, dict]] = []
    heard_lag, stable_lag = 0.2, 0.6
    first = words[0]
    t = first.start + heard_lag + rng.uniform(0.05, 0.3)
    final_at = words[-1].end + rng.uniform(*final_lag)
    stable_until = 0  # words flagged stable so far (a prefix that only grows)
    guesses: dict[int, str] = {}
    while t < final_at - 0.05:
        shown = [i for i, w in enumerate(words) if w.start <= t - heard_lag]
        if shown:
            n = len(shown)
            complete = [i for i in shown if words[i].end <= t - heard_lag]
            # Stable: 0.6 s past its end, the next word heard in full, and every word before stable.
            while (stable_until < n and words[stable_until].end + stable_lag <= t
                   and stable_until + 1 < len(complete)):
                stable_until += 1
            items: list[dict] = []
            for i in range(n):
                w = words[i]
                stable = i < stable_until
                content = w.content
                if not stable:
                    if i == n - 1 and w.end > t - heard_lag:
                        content = w.content[: max(1, (len(w.content) + 1) // 2)]  # still being said
                    elif i not in guesses and rng.random() < 0.12:
                        guesses[i] = rng.choice(_SOUND_ALIKE)
                    if i in guesses and i >= n - 2:
                        content = guesses[i]
                items.append(_item(content, w.start, w.end, False, stable))
                # A mark shows once the next word is heard; it settles with that word.
                if punctuated and w.mark and i + 1 < n:
                    items.append(_item(w.mark, w.end, w.end, True, i + 1 < stable_until))
            if punctuated and rng.random() < 0.1 and items[-1]["Type"] != "punctuation":
                last = words[n - 1]
                items.append(_item(".", last.end, last.end, True, False))  # spurious: gone next time
            out.append((round(t, 3), _result(rid, items, True, first.start, t - 0.1)))
        t += 0.5 + rng.uniform(-0.03, 0.03)
    items = []
    for i, w in enumerate(words):
        items.append(_item(w.content, w.start, w.end, False, True, round(0.9 + 0.01 * (i % 10), 3)))
        if w.mark:
            items.append(_item(w.mark, w.end, w.end, True, True))
    if last_of_stream and items[-1]["Type"] != "punctuation":
        items.append(_item(".", words[-1].end, words[-1].end, True, True))
    out.append((round(max(final_at, out[-1][0] + 0.05 if out else final_at), 3),
                _result(rid, items, False, first.start, words[-1].end)))
    return out


def continuous_speech_doc(punctuated: bool, seed: int = 11, passage: str = PASSAGE, pace: float = 1.0,
                          final_lag: tuple[float, float] = (0.6, 0.9)) -> dict:
    """A replay document (``data/*.json`` format) of ``passage`` spoken without stopping."""
    rng = random.Random(seed)
    words = speak(passage, rng, pace=pace)
    timed: list[tuple[float, int, dict]] = []
    expected: dict[str, list[str]] = {}
    results = split_results(words, rng)
    for k, group in enumerate(results):
        rid = f"{seed:04d}{k:04d}-5eec-4000-8000-{'p' if punctuated else 'n'}{k:011d}"
        for at, res in result_events(rid, group, rng, punctuated, k == len(results) - 1, final_lag):
            timed.append((at, k, res))
        expected[rid] = [w.content for w in group]
    timed.sort(key=lambda x: (x[0], x[1]))
    events: list[dict] = []
    for at, _, res in timed:
        if events and abs(events[-1]["at"] - at) < 1e-9:
            events[-1]["TranscriptEvent"]["Transcript"]["Results"].append(res)
        else:
            events.append({"at": at, "TranscriptEvent": {"Transcript": {"Results": [res]}}})
    spoken_seconds = words[-1].end - words[0].start
    description = (f"Continuous speech, {len(words)} words in {spoken_seconds:.1f} s "
                   f"({60 * len(words) / spoken_seconds:.0f} words/min), {len(results)} results, stabilization high; "
                   + ("partials carry commas and full stops (and spurious ones)." if punctuated
                      else "partials carry no punctuation; only finals do."))
    return {"description": description, "stabilization": "high", "expected": expected, "orphans": [],
            "events": events, "words": [[w.content, w.start, w.end] for w in words]}


def continuous_speech(punctuated: bool, seed: int = 11, pace: float = 1.0) -> Replay:
    """The generated replay, parsed like a recorded one."""
    name = f"continuous_{'punctuated' if punctuated else 'unpunctuated'}_{seed}"
    return replay_from_doc(continuous_speech_doc(punctuated, seed, pace=pace), name)


def write_recorded(seed: int = 11) -> list[Path]:
    """Write two continuous-speech replays (the passage's first 30 s) into ``data/``, beside the recorded ones."""
    paths = []
    passage = " ".join(PASSAGE.split()[:80]) + " questions now."
    for punctuated in (True, False):
        doc = continuous_speech_doc(punctuated, seed, passage)
        path = DATA_DIR / f"continuous_{'punctuated' if punctuated else 'unpunctuated'}.json"
        path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_recorded():
        print(f"wrote {p.name}")
