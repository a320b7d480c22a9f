"""Writes the replay files in ``data/`` (run: ``python functions/audio_transcription/tests/replay_builder.py``).

A result is scripted as its successive partial transcripts; in a stabilized stream ``|``
splits each partial into the words Transcribe marks ``stable`` (before) and those it may
still change (after). Word times come from the final transcript's timeline (by word
position), the way Transcribe keeps a word's time while its text settles; ``~2.5`` inserts
a 2.5 s pause before the next word. Events arrive shortly after the audio they cover.
The two ``aws_docs_*`` files follow the partial sequence of AWS's "Streaming and partial
results" documentation (the Amazon rainforest sentence), without and with stabilization.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
_TOKEN = re.compile(r"~[0-9.]+|[^\s.,?!;:]+|[.,?!;:]")


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(content, is_punctuation) tokens; pause markers are kept as ('~x', False)."""
    return [(t, bool(re.fullmatch(r"[.,?!;:]", t))) for t in _TOKEN.findall(text)]


def _timeline(final_text: str, start: float) -> list[tuple[float, float]]:
    """(start, end) of each spoken word of the final transcript."""
    times = []
    t = start
    for content, punct in _tokens(final_text):
        if punct:
            continue
        if content.startswith("~"):
            t += float(content[1:])
            continue
        duration = round(0.12 + 0.055 * len(content), 3)
        times.append((round(t, 3), round(t + duration, 3)))
        t += duration + 0.04
    return times


def _time_of(timeline: list[tuple[float, float]], i: int) -> tuple[float, float]:
    if i < len(timeline):
        return timeline[i]
    last_end = timeline[-1][1] if timeline else 0.0
    extra = i - len(timeline) + 1
    return round(last_end + 0.35 * (extra - 1) + 0.04, 3), round(last_end + 0.35 * extra, 3)


def _items(text: str, timeline, stabilized: bool, final: bool, confidence_seed: int) -> list[dict[str, Any]]:
    stable_part, _, unstable_part = text.partition("|") if "|" in text else ("", "", text)
    items: list[dict[str, Any]] = []
    spoken_index = 0
    last_end = timeline[0][0] if timeline else 0.0
    for part, stable in ((stable_part, True), (unstable_part, False)):
        for content, punct in _tokens(part):
            if content.startswith("~"):
                continue
            if punct:
                start = end = last_end
            else:
                start, end = _time_of(timeline, spoken_index)
                spoken_index += 1
                last_end = end
            item: dict[str, Any] = {
                "Content": content, "StartTime": start, "EndTime": end,
                "Type": "punctuation" if punct else "pronunciation", "VocabularyFilterMatch": False,
            }
            if not punct:
                item["Confidence"] = round(0.9 + 0.01 * ((confidence_seed + spoken_index) % 10), 3) if final else None
                if item["Confidence"] is None:
                    del item["Confidence"]
            if stabilized:
                item["Stable"] = True if final else stable
            items.append(item)
    return items


def _result(rid: str, text: str, timeline, stabilized: bool, final: bool, seed: int, audio_end: float | None):
    items = _items(text, timeline, stabilized, final, seed)
    transcript = re.sub(r"\s+([.,?!;:])", r"\1", " ".join(i["Content"] for i in items))
    start = items[0]["StartTime"] if items else 0.0
    end = audio_end if audio_end is not None else (items[-1]["EndTime"] if items else start)
    return {
        "Alternatives": [{"Items": items, "Transcript": transcript}],
        "ChannelId": None, "EndTime": round(end, 3), "IsPartial": not final,
        "ResultId": rid, "StartTime": round(start, 3),
    }


def script_result(rid: str, final_text: str, partials: list[str], *, stabilized: bool, start: float,
                  final: bool = True, latency: float = 0.35, final_latency: float = 0.8,
                  audio_end_lead: float = 0.1) -> list[tuple[float, dict[str, Any]]]:
    """(arrival time, Result JSON) for one result: its partials, then (unless ``final`` is
    False) the final."""
    timeline = _timeline(final_text, start)
    out = []
    last_at = start
    for k, text in enumerate(partials):
        clean = text.replace("|", " ")
        n_spoken = sum(1 for c, p in _tokens(clean) if not p and not c.startswith("~"))
        end = _time_of(timeline, max(n_spoken - 1, 0))[1]
        at = round(max(last_at + 0.05, end + latency), 3)
        last_at = at
        out.append((at, _result(rid, text, timeline, stabilized, False, k, end + audio_end_lead)))
    if final:
        end = timeline[-1][1]
        at = round(max(last_at + 0.1, end + final_latency), 3)
        out.append((at, _result(rid, final_text.replace("|", ""), timeline, stabilized, True, 7, None)))
    return out


def _spoken_words(text: str) -> list[str]:
    return [c for c, p in _tokens(text.replace("|", " ")) if not p and not c.startswith("~")]


def write_replay(name: str, description: str, stabilization: str | None, scripts: list[dict[str, Any]]) -> None:
    """Merge result scripts into events (results arriving together share an event) and write the file."""
    timed: list[tuple[float, int, dict[str, Any]]] = []
    expected: dict[str, list[str]] = {}
    orphans: list[str] = []
    for order, s in enumerate(scripts):
        final = s.get("final", True)
        for at, result in script_result(s["id"], s["text"], s["partials"], stabilized=stabilization is not None,
                                        start=s["start"], final=final):
            timed.append((at, order, result))
        expected[s["id"]] = _spoken_words(s["text"] if final else s["partials"][-1])
        if not final:
            orphans.append(s["id"])
    timed.sort(key=lambda x: (x[0], x[1]))
    events: list[dict[str, Any]] = []
    for at, _, result in timed:
        if events and abs(events[-1]["at"] - at) < 1e-9:
            events[-1]["TranscriptEvent"]["Transcript"]["Results"].append(result)
        else:
            events.append({"at": at, "TranscriptEvent": {"Transcript": {"Results": [result]}}})
    doc = {"description": description, "stabilization": stabilization, "expected": expected,
           "orphans": orphans, "events": events}
    DATA_DIR.mkdir(exist_ok=True)
    (DATA_DIR / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def _growing_partials(text: str, lag: int) -> list[str]:
    """Partials that add one word at a time; all but the newest ``lag`` words are stable.

    A partial shows every token before its newest word's successor (so a mark after a word
    shows up with the next word); the stable part is every token before word ``n - lag + 1``.
    """
    toks = [c for c, _ in _tokens(text)]
    word_at = [i for i, c in enumerate(toks) if not re.fullmatch(r"[.,?!;:]", c)]
    partials = []
    for n in range(1, len(word_at) + 1):
        shown_end = word_at[n - 1] + 1
        stable_words = max(0, n - lag)
        stable_end = word_at[stable_words] if stable_words < n else shown_end
        partials.append(" ".join(toks[:stable_end]) + "|" + " ".join(toks[stable_end:shown_end]))
    return partials


AMAZON = "The Amazon is the largest rainforest on the planet."


def build_all() -> None:
    """Write every replay file."""
    write_replay(
        "aws_docs_amazon_unstabilized",
        "AWS docs 'Streaming and partial results' sequence, stabilization off (no Stable flags): "
        "interim punctuation and mis-hearings ('the law.', 'ray', 'rain for') that later change.",
        None,
        [{"id": "12345a67-8bc9-0de1-2f34-a5b678c90d12", "start": 0.025, "text": AMAZON, "partials": [
            "The", "The Amazon.", "The Amazon is", "The Amazon is the law.", "The Amazon is the largest",
            "The Amazon is the largest ray", "The Amazon is the largest rain for",
            "The Amazon is the largest rainforest.", "The Amazon is the largest rainforest on the",
            "The Amazon is the largest rainforest on the planet."]}],
    )
    write_replay(
        "aws_docs_amazon_stabilized",
        "The same sentence with partial-results stabilization (high): only the last words change.",
        "high",
        [{"id": "34567e89-0fa1-2bc3-4d56-78e90123456f", "start": 0.025, "text": AMAZON, "partials": [
            "|The", "|The Amazon.", "The| Amazon is", "The Amazon| is the law.", "The Amazon is| the largest",
            "The Amazon is the| largest ray", "The Amazon is the largest| rain for",
            "The Amazon is the largest| rainforest.", "The Amazon is the largest rainforest| on the",
            "The Amazon is the largest rainforest on the| planet."]}],
    )
    text = ("Good morning everyone. Thank you all for joining us today, we will talk about the rainforest "
            "and why it matters so much. Let us begin with a short story.")
    partials = _growing_partials(text, lag=3)
    write_replay(
        "three_sentences_stabilized",
        "One long result of three sentences (stabilization high): the first sentences become stable "
        "long before the final result.",
        "high",
        [{"id": "a1b2c3d4-0000-4000-8000-000000000001", "start": 0.3, "text": text, "partials": partials}],
    )
    write_replay(
        "corrections_stabilized",
        "Unstable tail words rewritten several times (homophones, word splits) before they settle.",
        "high",
        [{"id": "c0ffee00-0000-4000-8000-000000000002", "start": 0.2,
          "text": "It is easy to recognize speech with a new display. We meet at two.",
          "partials": [
              "|It's", "|It is easy", "It is| easy to wreck", "It is easy| to wreck a nice",
              "It is easy to| wreck a nice beach", "It is easy to| recognize speech", "It is easy to| recognize speech with",
              "It is easy to recognize| speech with a nudist", "It is easy to recognize speech| with a new display.",
              "It is easy to recognize speech with a new display.| We meet", "It is easy to recognize speech with a new display.| We meet at too",
              "It is easy to recognize speech with a new display. We| meet at two."]}],
    )
    long_text = ("so the plan for the next quarter is to expand the pilot to three more regions and to hire "
                 "two more engineers who can help us maintain the pipeline while we keep the costs under "
                 "control and report back to the board every month")
    long_partials = _growing_partials(long_text, lag=2)
    write_replay(
        "long_sentence_no_punctuation",
        "A 40-word run-on sentence with no punctuation until the final result: only max_buffer_timeout "
        "gets words out before the final.",
        "high",
        [{"id": "10ae0000-0000-4000-8000-000000000003", "start": 0.1, "text": long_text + ".",
          "partials": long_partials}],
    )
    write_replay(
        "pauses_stabilized",
        "Words separated by a 2.6 s pause inside one result, no punctuation: the pause ends the phrase.",
        "high",
        [{"id": "9a05e000-0000-4000-8000-000000000004", "start": 0.2,
          "text": "we start in five minutes ~2.6 please take your seats now",
          "partials": ["|we start", "we| start in five", "we start| in five minutes",
                       "we start in five minutes| please", "we start in five minutes| please take your",
                       "we start in five minutes please| take your seats", "we start in five minutes please take| your seats now"]}],
    )
    write_replay(
        "final_never_comes",
        "The stream stops after partials of a second result; its final never arrives (orphan).",
        "high",
        [{"id": "f1a10000-0000-4000-8000-000000000005", "start": 0.1, "text": "Hello and welcome.",
          "partials": ["|Hello", "Hello| and welcome"]},
         {"id": "0e9a0000-0000-4000-8000-000000000006", "start": 2.4, "text": "today we look at",
          "partials": ["|today", "today| we look", "today we| look at"], "final": False}],
    )
    write_replay(
        "multi_result_stabilized",
        "Three consecutive results; a final and the next result's first partial share one event.",
        "medium",
        [{"id": "aaaa0000-0000-4000-8000-000000000007", "start": 0.1, "text": "Hi everyone, glad you could make it.",
          "partials": ["|Hi", "Hi| everyone", "Hi everyone,| glad you", "Hi everyone, glad| you could make", "Hi everyone, glad you could| make it."]},
         {"id": "bbbb0000-0000-4000-8000-000000000008", "start": 3.2, "text": "First, some news from the team.",
          "partials": ["|First", "First,| some news", "First, some| news from the", "First, some news from| the team."]},
         {"id": "cccc0000-0000-4000-8000-000000000009", "start": 6.0, "text": "We shipped the new release yesterday.",
          "partials": ["|We", "We| shipped the", "We shipped| the new release", "We shipped the new| release yesterday."]}],
    )
    lt = ("Welcome back to the show. Today we talk with a scientist who studies glaciers, and she has "
          "some surprising news about how fast they are melting. Let us hear it.")
    lt_words = [c for c, _ in _tokens(lt)]
    unstab = []
    count = 0
    for i, c in enumerate(lt_words):
        if re.fullmatch(r"[.,?!;:]", c):
            continue
        count += 1
        shown = " ".join(lt_words[: i + 1])
        # Mis-hearing of the newest word now and then, fixed in the next partial.
        if count % 4 == 0:
            shown = " ".join(lt_words[:i] + [c + "s"])
        unstab.append(shown)
    write_replay(
        "unstabilized_long",
        "Three sentences without stabilization flags: LocalAgreement-2 settles words; the newest word "
        "is sometimes misheard and fixed in the next partial.",
        None,
        [{"id": "dddd0000-0000-4000-8000-00000000000a", "start": 0.2, "text": lt, "partials": unstab}],
    )


def main(argv: list[str]) -> int:
    """Rewrite every replay file."""
    build_all()
    print(f"wrote {len(list(DATA_DIR.glob('*.json')))} replay files to {DATA_DIR.name}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
