// The speaker's audio path to the server: numbered `sendAudio` chunks, paced and kept in order.
//
// Chunks are queued, not sent straight from the microphone callback: while a connection refresh
// is in progress (or the socket is being replaced) they wait, and go out on the new connection
// with the same increasing sequence numbers, so nothing said during a refresh is lost. Sending is
// paced (API Gateway may run two messages of one connection at once, so chunks sent closer than
// ~50 ms apart can arrive out of order).

const MIN_GAP_MS = 60;
const MAX_QUEUED = 600; // 60 s of audio; older chunks are dropped past that
const MAX_ATTEMPTS = 3;

/** base64 of an ArrayBuffer. */
export function toBase64(buffer) {
  const bytes = new Uint8Array(buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

export class AudioUplink extends EventTarget {
  /** @param {import("./connection.js").LiveConnection} connection */
  constructor(connection) {
    super();
    this.connection = connection;
    this.sessionId = null;
    this.enabled = false;
    this.sequence = 0;
    this.queue = [];
    this.sent = 0;
    this.dropped = 0;
    this.lastSentAt = 0;
    this.holdUntil = 0;
    this.timer = null;
    connection.addEventListener("state", () => this.#pump());
  }

  /** Start sending into a session (continues the sequence if it already ran). */
  start(sessionId) {
    this.sessionId = sessionId;
    this.enabled = true;
  }

  /** Stop taking audio (paused, muted, ended): what is said now must never be sent later. */
  stop() {
    this.enabled = false;
    this.dropped += this.queue.length;
    this.queue = [];
  }

  /** Queue one PCM16 chunk from the microphone. */
  push(pcm) {
    if (!this.enabled || !this.sessionId) return;
    this.sequence += 1;
    this.queue.push({ sequence: this.sequence, audio: toBase64(pcm), attempts: 0 });
    while (this.queue.length > MAX_QUEUED) {
      this.queue.shift();
      this.dropped += 1;
    }
    this.#pump();
  }

  /**
   * A refused chunk (an `error` push carrying `sequence`); returns true if it was one of ours.
   * Retryable refusals are queued again in sequence order.
   */
  handleError(error) {
    if (typeof error.sequence !== "number") return false;
    const retry = error.code === "INTERNAL_ERROR" || error.code === "RATE_LIMIT_UNAVAILABLE"
      || error.code === "RATE_LIMITED" || error.code === "NOT_SESSION_SPEAKER"
      || (error.code === "AUDIO_NOT_ACCEPTED" && error.retry === true);
    if (error.code === "RATE_LIMITED" || error.code === "RATE_LIMIT_UNAVAILABLE") {
      this.holdUntil = Date.now() + 1000 * (error.retryAfterSeconds || 1);
    }
    if (error.code === "NOT_SESSION_SPEAKER") this.connection.refresh();
    const original = this.inFlight?.get(error.sequence);
    if (retry && this.enabled && original && original.attempts < MAX_ATTEMPTS) {
      this.queue.push(original);
      this.queue.sort((a, b) => a.sequence - b.sequence);
    } else {
      this.dropped += 1;
      this.dispatchEvent(new CustomEvent("dropped", { detail: error }));
    }
    this.#pump();
    return true;
  }

  #pump() {
    clearTimeout(this.timer);
    if (!this.queue.length || !this.enabled) return;
    const wait = Math.max(this.lastSentAt + MIN_GAP_MS, this.holdUntil) - Date.now();
    if (wait > 0 || !this.connection.ready) {
      this.timer = setTimeout(() => this.#pump(), wait > 0 ? wait : MIN_GAP_MS);
      return;
    }
    const chunk = this.queue.shift();
    chunk.attempts += 1;
    const ok = this.connection.sendNoReply({
      action: "sendAudio", sessionId: this.sessionId, sequence: chunk.sequence, audio: chunk.audio,
    });
    if (!ok) {
      chunk.attempts -= 1;
      this.queue.unshift(chunk);
    } else {
      this.sent += 1;
      this.lastSentAt = Date.now();
      this.#remember(chunk);
    }
    if (this.queue.length) this.timer = setTimeout(() => this.#pump(), MIN_GAP_MS);
  }

  // The last few seconds of sent chunks, so a refused one can be sent again.
  #remember(chunk) {
    this.inFlight ??= new Map();
    this.inFlight.set(chunk.sequence, chunk);
    if (this.inFlight.size > 100) this.inFlight.delete(this.inFlight.keys().next().value);
  }
}
