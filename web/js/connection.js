// One logical connection to the backend that outlives its WebSockets (docs/protocol.md).
//
// API Gateway closes every WebSocket after 2 hours and after 10 idle minutes, and networks drop.
// LiveConnection keeps the session going across that: it sends a heartbeat every minute, and on
// `refreshRequired` (or at the `refreshAt` a heartbeat reply names) it opens a second socket,
// moves the session onto it with `refreshConnection`, and only then closes the old one. A socket
// that closes unexpectedly is replaced the same way, with backoff.

const HEARTBEAT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;
const PROTOCOL_ERROR_SESSION_GONE = new Set([
  "SESSION_ENDED", "SESSION_NOT_FOUND", "NOT_SESSION_SPEAKER", "FORBIDDEN", "INVALID_REFRESH_TOKEN",
]);

/** An `error` reply from the server: `code` is stable, `reply` holds the details. */
export class ProtocolError extends Error {
  constructor(reply) {
    super(reply.message || reply.code);
    this.code = reply.code;
    this.reply = reply;
  }
}

/** The WebSocket could not be opened (a refused handshake: 403, 429, 503... browsers hide which). */
export class HandshakeError extends Error {}

/**
 * A connection for one role. Events (all CustomEvent, data in `detail`):
 * - `push`: a message the server sent on its own (caption, audio, sessionUpdate, error pushes...)
 * - `state`: `detail` is "connecting" | "open" | "refreshing" | "reconnecting" | "closed"
 * - `refreshed`: the session moved to a new socket (`detail` is the connectionRefreshed reply)
 * - `sessionLost`: a refresh found the session over (`detail` is the ProtocolError)
 * - `replaced`: another client took this session or membership over (connectionReplaced)
 */
export class LiveConnection extends EventTarget {
  /**
   * @param {{url: string, role: "speaker"|"listener", token?: () => Promise<string|null>}} options
   */
  constructor({ url, role, token = async () => null }) {
    super();
    this.url = url;
    this.role = role;
    this.tokenProvider = token;
    this.socket = null;
    this.connectionId = null;
    this.sessionId = null;
    this.refreshToken = null;
    this.targetLanguage = null;
    this.refreshing = false;
    this.closed = false;
    this.state = "connecting";
    this.refreshCount = 0;
    this.pending = new Map();
    this.counter = 0;
    this.heartbeatTimer = null;
    this.refreshTimer = null;
    this.reconnectTimer = null;
    this.failures = 0;
  }

  /** Open the first socket. Throws HandshakeError if the server refuses it. */
  async connect() {
    this.#setState("connecting");
    this.socket = await this.#openSocket();
    this.#setState("open");
    this.#startHeartbeat();
  }

  /** True when messages can go out now (open socket, no refresh in progress). */
  get ready() {
    return !this.closed && !this.refreshing && this.socket?.readyState === WebSocket.OPEN;
  }

  /** Send an action and wait for its direct reply; rejects with ProtocolError on an `error` reply. */
  request(action, fields = {}) {
    return this.#requestOn(this.socket, action, fields);
  }

  /** Send a message that gets no reply on success (sendAudio). Returns false if it could not go out. */
  sendNoReply(message) {
    if (!this.ready) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Move the session onto a fresh socket (the protocol's refresh flow); safe to call any time. */
  async refresh() {
    if (this.refreshing || this.closed) return;
    this.refreshing = true;
    this.#setState("refreshing");
    clearTimeout(this.refreshTimer);
    const old = this.socket;
    let fresh = null;
    try {
      fresh = await this.#openSocket();
      if (this.sessionId) {
        // The refresh token proves this place is ours: only the connection that got it can pass it on.
        const fields = { sessionId: this.sessionId };
        if (this.refreshToken) fields.refreshToken = this.refreshToken;
        if (this.role === "listener") {
          if (this.connectionId) fields.previousConnectionId = this.connectionId;
          if (this.targetLanguage) fields.targetLanguage = this.targetLanguage;
        }
        const reply = await this.#requestOn(fresh, "refreshConnection", fields);
        this.socket = fresh;
        this.#closeQuietly(old, "refreshed");
        this.refreshCount += 1;
        this.dispatchEvent(new CustomEvent("refreshed", { detail: reply }));
      } else {
        this.socket = fresh;
        this.#closeQuietly(old, "refreshed");
      }
      this.failures = 0;
      this.refreshing = false;
      this.#setState("open");
      this.#startHeartbeat();
    } catch (error) {
      this.refreshing = false;
      if (error instanceof ProtocolError && PROTOCOL_ERROR_SESSION_GONE.has(error.code)) {
        // The session is over (or no longer ours): keep the new socket, drop the session.
        this.sessionId = null;
        this.socket = fresh;
        this.#closeQuietly(old, "session gone");
        this.#setState("open");
        this.#startHeartbeat();
        this.dispatchEvent(new CustomEvent("sessionLost", { detail: error }));
        return;
      }
      this.#closeQuietly(fresh, "refresh failed");
      if (old && old.readyState === WebSocket.OPEN) {
        this.#setState("open");
        this.refreshTimer = setTimeout(() => this.refresh(), this.#backoff());
      } else {
        this.#scheduleReconnect();
      }
    }
  }

  /** Close for good (leave the page, sign out). */
  close() {
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.refreshTimer);
    clearTimeout(this.reconnectTimer);
    this.#closeQuietly(this.socket, "bye");
    this.#setState("closed");
  }

  async #socketUrl() {
    const url = new URL(this.url);
    url.searchParams.set("role", this.role);
    const token = await this.tokenProvider();
    if (token) url.searchParams.set("token", token);
    return url.toString();
  }

  async #openSocket() {
    const url = await this.#socketUrl();
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      let opened = false;
      ws.addEventListener("open", () => {
        opened = true;
        resolve(ws);
      });
      ws.addEventListener("message", (event) => this.#onFrame(ws, event.data));
      ws.addEventListener("close", (event) => {
        if (!opened) reject(new HandshakeError(`the server refused the connection (code ${event.code})`));
        else this.#onClose(ws);
      });
    });
  }

  #requestOn(ws, action, fields) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error("not connected"));
    this.counter += 1;
    const requestId = `${this.role[0]}-${Date.now().toString(36)}-${this.counter}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`no reply to ${action}`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(requestId, { ws, resolve, reject, timer });
      ws.send(JSON.stringify({ action, ...fields, requestId }));
    });
  }

  #onFrame(ws, data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!message || typeof message !== "object") return;
    this.#observe(ws, message);
    const waiter = message.requestId && this.pending.get(message.requestId);
    if (waiter) {
      this.pending.delete(message.requestId);
      clearTimeout(waiter.timer);
      if (message.type === "error") waiter.reject(new ProtocolError(message));
      else waiter.resolve(message);
      return;
    }
    if (message.type === "heartbeatAck") return;
    // A reply that came after its request gave up (a slow server) still says what happened:
    // it goes to the page as a push (controlApplied, languageSwitched...).
    if (message.type === "connectionReplaced") {
      // Expected on the socket a refresh just left; on the current one, someone else took over.
      if (ws === this.socket && !this.refreshing) {
        this.sessionId = null;
        this.dispatchEvent(new CustomEvent("replaced", { detail: message }));
      }
      return;
    }
    if (message.type === "refreshRequired" || message.type === "connectionExpiring") {
      if (ws === this.socket) this.refresh();
      return;
    }
    this.dispatchEvent(new CustomEvent("push", { detail: message }));
  }

  /** Keep the session facts a refresh needs, from whichever reply or push carries them. */
  #observe(ws, message) {
    switch (message.type) {
      case "sessionCreated":
      case "sessionJoined":
      case "connectionRefreshed":
        this.sessionId = message.sessionId;
        this.connectionId = message.connectionId || this.connectionId;
        if (message.refreshToken) this.refreshToken = message.refreshToken;
        if (message.targetLanguage) this.targetLanguage = message.targetLanguage;
        break;
      case "languageSwitched":
        this.targetLanguage = message.targetLanguage;
        break;
      case "sessionLeft":
      case "sessionEnded":
        this.sessionId = null;
        this.refreshToken = null;
        break;
      case "heartbeatAck":
        if (ws !== this.socket) break;
        this.connectionId = message.connectionId || this.connectionId;
        this.#scheduleRefresh(message);
        break;
      default:
        break;
    }
  }

  #scheduleRefresh(ack) {
    if (typeof ack.refreshAt !== "number" || typeof ack.serverTime !== "number") return;
    clearTimeout(this.refreshTimer);
    // Server clock, not ours: wait the difference the server names.
    const delay = Math.max(0, (ack.refreshAt - ack.serverTime) * 1000);
    this.refreshTimer = setTimeout(() => this.refresh(), delay);
  }

  #startHeartbeat() {
    clearInterval(this.heartbeatTimer);
    const beat = () => {
      if (!this.ready) return;
      this.request("heartbeat").catch(() => {
        // A refused heartbeat (NOT_CONNECTED: the server forgot us) means a new socket is needed.
      });
    };
    beat();
    this.heartbeatTimer = setInterval(beat, HEARTBEAT_MS);
  }

  #onClose(ws) {
    for (const [id, waiter] of this.pending) {
      if (waiter.ws === ws) {
        this.pending.delete(id);
        clearTimeout(waiter.timer);
        waiter.reject(new Error("connection closed"));
      }
    }
    if (ws !== this.socket || this.closed || this.refreshing) return;
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    if (this.closed) return;
    this.#setState("reconnecting");
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.refresh(), this.#backoff());
  }

  #backoff() {
    this.failures += 1;
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures, 8));
    return base / 2 + Math.random() * base / 2;
  }

  #closeQuietly(ws, reason) {
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, reason);
  }

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }
}
