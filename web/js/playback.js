// The listener's segment queue: captions and translated speech in speech order, never overlapping.
//
// docs/protocol.md, "Order, gaps and duplicates": segments can arrive out of `sequence` order, a
// message can arrive twice, a sequence may never arrive, and audio comes in parts to reassemble.
// So: drop repeats by (segmentId, type, part); assemble a segment's audio once all its parts are
// in; play segments one at a time in sequence order, waiting a short while for a missing earlier
// one before moving past it; a segment that turns up after a later one has played is skipped
// rather than played out of order. A caption may carry its segment's whole audio (`caption.audio`),
// which is queued the same way.

const WAIT_FOR_AUDIO_MS = 4000; // its caption came, its audio should follow
const WAIT_FOR_UNKNOWN_MS = 1500; // nothing of it came: it may never (paused, failed)

/** Decode a base64 string into bytes. */
function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Receives `caption` and `audio` messages; emits `caption` (a segment's full text, any order:
 * the caption view sorts) and plays audio in order. Also emits `playing`, `ended`, `skipped`.
 * Every event is appended to `trace` (kind, sequence, segmentId, language, at) for diagnostics.
 */
export class SegmentPlayer extends EventTarget {
  constructor({ createAudio = () => new Audio() } = {}) {
    super();
    this.createAudio = createAudio;
    this.language = null;
    this.seen = new Set();
    this.captions = new Map(); // segmentId -> {sequence, parts[], parts count}
    this.audio = new Map(); // segmentId -> {sequence, parts[], count, mimeType}
    this.ready = new Map(); // sequence -> {segmentId, blob, language}
    this.captioned = new Set(); // sequences whose caption arrived (their audio is worth waiting for)
    this.voiced = new Set(); // segmentIds whose audio is complete (queued or played)
    this.lastPlayed = 0;
    this.current = null;
    this.waitTimer = null;
    this.trace = [];
    this.muted = false;
  }

  /** The language segments are accepted in; others (in flight across a switch) are ignored. */
  setLanguage(language) {
    this.language = language;
    for (const [sequence, item] of this.ready) {
      if (item.language !== language) this.ready.delete(sequence);
    }
  }

  /** Take one `caption` or `audio` message. Returns false for a repeat or another language's. */
  accept(message) {
    if (message.type !== "caption" && message.type !== "audio") return false;
    if (this.language && message.language !== this.language) return false;
    const key = `${message.segmentId}|${message.type}|${message.part}`;
    if (this.seen.has(key)) {
      this.#note("duplicate", message);
      return false;
    }
    this.seen.add(key);
    if (message.type === "caption") this.#caption(message);
    else this.#audio(message);
    return true;
  }

  /** Stop and forget everything (leaving a session). */
  reset() {
    clearTimeout(this.waitTimer);
    if (this.current) {
      this.current.element.pause();
      URL.revokeObjectURL(this.current.element.src);
    }
    this.current = null;
    this.captions.clear();
    this.audio.clear();
    this.ready.clear();
    this.captioned.clear();
    this.voiced.clear();
    this.seen.clear();
    this.lastPlayed = 0;
  }

  #caption(message) {
    const entry = this.captions.get(message.segmentId) || { sequence: message.sequence, parts: [] };
    entry.parts[message.part - 1] = message.text;
    this.captions.set(message.segmentId, entry);
    if (entry.parts.filter((p) => p !== undefined).length < message.parts) return;
    this.captioned.add(message.sequence);
    const detail = {
      sequence: message.sequence, segmentId: message.segmentId, language: message.language,
      text: entry.parts.join(""), translated: message.translated, isFinal: message.isFinal,
      continuesSentence: message.continuesSentence === true, sourceText: message.sourceText,
    };
    this.#note("caption", message);
    this.dispatchEvent(new CustomEvent("caption", { detail }));
    // A caption may carry the segment's whole audio (then no `audio` messages follow).
    if (message.audio && typeof message.audio.data === "string") {
      this.#ready(message, [fromBase64(message.audio.data)], message.audio.mimeType);
    }
    this.#schedule();
  }

  #ready(message, parts, mimeType) {
    if (message.sequence <= this.lastPlayed || this.voiced.has(message.segmentId)) {
      this.#note("late", message);
      return;
    }
    this.voiced.add(message.segmentId);
    const blob = new Blob(parts, { type: mimeType || "audio/mpeg" });
    this.ready.set(message.sequence, { segmentId: message.segmentId, blob, language: message.language });
    this.#note("assembled", message);
  }

  #audio(message) {
    if (message.sequence <= this.lastPlayed) {
      this.#note("late", message);
      return;
    }
    const entry = this.audio.get(message.segmentId) || { sequence: message.sequence, parts: [], mimeType: message.mimeType };
    entry.parts[message.part - 1] = fromBase64(message.data);
    this.audio.set(message.segmentId, entry);
    if (entry.parts.filter((p) => p !== undefined).length < message.parts) return;
    this.audio.delete(message.segmentId);
    this.#ready(message, entry.parts, entry.mimeType);
    this.#schedule();
  }

  #schedule() {
    clearTimeout(this.waitTimer);
    if (this.current || this.ready.size === 0) return;
    const next = Math.min(...this.ready.keys());
    if (next === this.lastPlayed + 1 || this.lastPlayed === 0) {
      this.#play(next);
      return;
    }
    // Earlier segments are missing (sequences may jump by a block when the stream worker hands
    // over): give them a moment, longer when one of them has its caption and so should have audio.
    const captionedGap = [...this.captioned].some((s) => s > this.lastPlayed && s < next);
    const wait = captionedGap ? WAIT_FOR_AUDIO_MS : WAIT_FOR_UNKNOWN_MS;
    const readyAt = this.ready.get(next).readyAt ??= performance.now();
    const left = readyAt + wait - performance.now();
    if (left <= 0) this.#play(next);
    else this.waitTimer = setTimeout(() => this.#schedule(), left);
  }

  #play(sequence) {
    const item = this.ready.get(sequence);
    const previous = this.lastPlayed;
    this.ready.delete(sequence);
    this.lastPlayed = sequence;
    // Anything older still waiting would now play out of order: drop it.
    for (const older of [...this.ready.keys()].filter((s) => s < sequence)) this.ready.delete(older);
    for (const older of [...this.captioned].filter((s) => s <= sequence)) this.captioned.delete(older);
    const element = this.createAudio();
    element.src = URL.createObjectURL(item.blob);
    element.muted = this.muted;
    this.current = { sequence, element };
    const info = { sequence, segmentId: item.segmentId, language: item.language };
    const finish = (kind) => {
      if (this.current?.element !== element) return;
      URL.revokeObjectURL(element.src);
      this.current = null;
      this.#note(kind, info);
      this.dispatchEvent(new CustomEvent(kind, { detail: info }));
      this.#schedule();
    };
    element.addEventListener("ended", () => finish("ended"), { once: true });
    element.addEventListener("error", () => finish("skipped"), { once: true });
    this.#note("playing", info);
    this.dispatchEvent(new CustomEvent("playing", { detail: info }));
    element.play().catch((error) => {
      if (error.name === "NotAllowedError") {
        // Autoplay refused: keep the segment and ask the person to allow sound.
        this.current = null;
        this.ready.set(sequence, item);
        this.lastPlayed = previous;
        this.dispatchEvent(new CustomEvent("blocked", { detail: info }));
      } else {
        finish("skipped");
      }
    });
  }

  /** Try again after the person allowed sound (a click on "Enable sound"). */
  resume() {
    this.#schedule();
  }

  #note(kind, message) {
    this.trace.push({ kind, sequence: message.sequence, segmentId: message.segmentId, language: message.language, at: Date.now() });
    if (this.trace.length > 2000) this.trace.splice(0, 500);
  }
}
