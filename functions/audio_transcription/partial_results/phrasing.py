"""Early phrases: where to cut settled words that no punctuation or pause has ended yet.

Waiting for a sentence mark, a pause or the final result costs 2-7 s in continuous speech.
Instead, pending words go out as a phrase as soon as ``phrase_min_words`` of them are there,
or, with at least two, once the oldest settled one has waited ``phrase_max_wait`` seconds.
A phrase holds at most ``phrase_max_words`` words. It is cut where the words allow:

* after a clause mark (a settled comma that was too early to end a phrase on its own);
* before a conjunction or relative word ("and", "but", "because", "which" ...), so the next
  phrase starts where a new clause starts;
* not after a word that leans on the next one (an article, preposition or possessive:
  "about the" | "rainforest" translates badly), when a word earlier is possible;
* otherwise after the last word.

A natural cut leaves at most one word for the next phrase (every word held back waits for
the next cut) and never makes a phrase shorter than ``phrase_min_words``. When the unsettled
words show that the sentence ends one word later, the cut keeps a word back so the sentence's
last word is not left alone.

**Heard words.** After its settled words a phrase may take up to ``tail`` *heard* words
(``heard_tail``): words not yet settled that the speaker has finished, because another word
follows them in the partial. Transcribe flags a word stable about 0.9 s after it ends; it is
heard about 0.5 s after. The last word of a phrase decides when the phrase can leave, so one
heard word lets a phrase of four words leave about 0.4 s sooner. Words that lean on the next
one do not count against ``tail`` (they go with the word they lean on), a phrase never ends
on one, and a heard conjunction is never taken (the cut goes before it). A heard word can
still change; the processor then keeps the word it sent (README, "When a phrase is emitted").
With ``tail`` 0 only settled words are cut, so an early phrase never holds a word that can
still change.

Words are compared case-insensitively; the word lists cover English and the most common
function words of Spanish, French, German, Italian and Portuguese (other languages cut after
the last word, which is still correct, only less natural).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from audio_transcription.partial_results.stability import CLAUSE_END, PUNCTUATION, SENTENCE_END

if TYPE_CHECKING:
    from amazon_transcribe.model import Item

# A new clause starts at these words: a phrase may end just before one.
CLAUSE_STARTERS = frozenset("""
and but or so because although though while whereas since unless until when whenever where
which who whom whose that if then however therefore yet nor
y pero o porque aunque mientras cuando donde que si entonces
et mais ou donc parce car lorsque quand où qui que si alors
und aber oder denn weil obwohl während wenn wo dass ob dann
e ma oppure perché mentre quando dove che se allora
mas ou porque embora enquanto quando onde que se então
""".split())

# Words that lean on the next word (articles, prepositions, possessives): a phrase should not
# end on one of these ("talk about the" | "rainforest" translates badly).
LEANING = frozenset("""
a an the to of in on at by for from with about into over under between through as than
my your his her its our their this these those every each
el la los las un una unos unas de del al en con por para sin sobre entre mi tu su sus
le les une des du au aux dans sur avec pour sans sous chez mon ton son ses notre votre leur
den dem des ein eine einen einem einer zu von mit bei nach aus für auf im am zum zur
il lo gli uno di da su per tra fra nel nella alla
os um uma do dos das em no na nos nas com
""".split())

# The fewest words a phrase goes out with once it has waited (one-word phrases translate badly).
MIN_CUT_WORDS = 2


def _key(item: Item) -> str:
    return (item.content or "").casefold()


def pending_words(items: Sequence[Item], start: int, end: int) -> list[int]:
    """Indices of the spoken words (not punctuation) in ``items[start:end]``."""
    return [i for i in range(start, end) if items[i].item_type != PUNCTUATION]


def words_to_sentence_end(items: Sequence[Item], start: int) -> int | None:
    """Spoken words from ``start`` up to the next sentence mark, or None if none is in sight."""
    count = 0
    for i in range(start, len(items)):
        it = items[i]
        if it.item_type == PUNCTUATION:
            if (it.content or "") in SENTENCE_END:
                return count
        else:
            count += 1
    return None


def heard_tail(items: Sequence[Item], settled_end: int, tail: int) -> int:
    """End index of up to ``tail`` heard words right after the settled items.

    A heard word is a spoken word that another spoken word follows in the partial (the speaker
    has finished it). The run stops at a mark (an unsettled mark may vanish), at a conjunction
    (a phrase would be cut before it anyway), before a word that a mark follows (the mark is
    unsettled) and before the last word of the partial. Words that lean on the next one do
    not count against ``tail``.
    """
    end = settled_end
    limit = len(items) - 1
    while tail > 0 and end < limit:
        it = items[end]
        if it.item_type == PUNCTUATION or _key(it) in CLAUSE_STARTERS or items[end + 1].item_type == PUNCTUATION:
            break
        end += 1
        if _key(it) not in LEANING:
            tail -= 1
    return end


def early_cut(items: Sequence[Item], start: int, settled_end: int, min_words: int, max_words: int,
              waited: float, max_wait: float, heard_end: int | None = None) -> int | None:
    """End index (exclusive) of the early phrase to emit from ``items[start:heard_end]``, or None.

    ``items[start:settled_end]`` are settled, ``items[settled_end:heard_end]`` heard (see
    ``heard_tail``); ``waited`` is how long the first settled word has been settled. The
    phrase goes out once ``min_words`` words are pending (not counting heard words at the end
    that lean on the next one), or at least ``MIN_CUT_WORDS`` once ``waited`` reaches ``max_wait``.
    It holds at most ``max_words`` words, ends after a word (or after the clause mark that
    follows it) and never after a heard word that leans on the next one.
    """
    heard_end = settled_end if heard_end is None else max(heard_end, settled_end)
    if max_words <= 0 or settled_end <= start:
        return None
    every = pending_words(items, start, heard_end)
    settled_count = len(every) - (heard_end - settled_end)
    count = len(every)
    while count > settled_count and _key(items[every[count - 1]]) in LEANING:
        count -= 1  # a heard word that leans on the next one waits for it
    low = min(min_words, max_words)
    if count < low and (waited < max_wait or count < MIN_CUT_WORDS):
        return None
    count = min(count, max_words)
    if count > settled_count:
        usable_end = every[count - 1] + 1
    else:
        usable_end = min(settled_end, every[count]) if count < len(every) else settled_end
    low = min(low, count)
    # Words still to come in this sentence, if its mark is already in sight (unsettled).
    tail = words_to_sentence_end(items, usable_end)
    if tail is not None and tail < MIN_CUT_WORDS and waited < max_wait:
        # The sentence ends within a word: cutting now would leave its end alone (or voice a
        # finished sentence as going on). Keep back a word to go with it, or wait for the mark
        # to settle (about one partial).
        keep = MIN_CUT_WORDS - tail
        if count - keep < low:
            return None
        count -= keep
    # A natural cut leaves at most one word for the next phrase (a word held back waits for
    # the next cut) and never makes the phrase shorter than ``min_words``.
    lowest = max(low, count - 1)
    for n in range(count, lowest - 1, -1):
        after = every[n - 1]
        nxt = every[n] if n < len(every) else None
        if nxt is not None and _key(items[nxt]) in CLAUSE_STARTERS:
            return _end_after(items, after, nxt)
        mark = items[after + 1] if after + 1 < usable_end else None
        if mark is not None and mark.item_type == PUNCTUATION and (mark.content or "") in CLAUSE_END:
            return after + 2
    n = count
    if n > lowest and _key(items[every[n - 1]]) in LEANING:
        n -= 1
    return _end_after(items, every[n - 1], every[n] if n < len(every) else usable_end)


def _end_after(items: Sequence[Item], word: int, limit: int) -> int:
    """End index just after ``word`` and the punctuation that follows it (before ``limit``)."""
    end = word + 1
    while end < limit and items[end].item_type == PUNCTUATION:
        end += 1
    return end
