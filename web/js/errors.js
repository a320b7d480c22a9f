// What to tell a person for each error code of docs/protocol.md.

const MESSAGES = {
  SESSION_FULL: (e) => `This session is full${e.maxListeners ? ` (${e.maxListeners} listeners)` : ""}. Try again in a little while.`,
  SESSION_ENDED: () => "This session has ended.",
  SESSION_NOT_FOUND: (e) => `There is no session${e.sessionId ? ` “${e.sessionId}”` : " with that id"}. Check the id and try again.`,
  UNSUPPORTED_LANGUAGE: (e) => `That language is not offered${e.supported ? `. Choose one of: ${e.supported.join(", ")}` : ""}.`,
  SESSION_UNAVAILABLE: () => "The session could not take you just now. Try again in a moment.",
  ALREADY_IN_SESSION: () => "This connection is already in a session. Leave it first.",
  NOT_IN_SESSION: () => "You are not in a session.",
  RATE_LIMITED: (e) => `Too many attempts. Try again in ${e.retryAfterSeconds || 60} seconds.`,
  RATE_LIMIT_UNAVAILABLE: (e) => `The service is busy. Try again in ${e.retryAfterSeconds || 5} seconds.`,
  SESSION_ID_UNAVAILABLE: () => "No session id was free. Try again.",
  FORBIDDEN_ROLE: () => "This connection cannot do that (wrong role).",
  NOT_SESSION_SPEAKER: () => "Another connection now controls this session.",
  FORBIDDEN: () => "That connection belongs to another user.",
  INVALID_REFRESH_TOKEN: () => "This place in the session was taken over by another connection; join again.",
  NOT_CONNECTED: () => "The server lost this connection; reconnecting.",
  TRANSCRIPTION_UNAVAILABLE: () => "Speech recognition is unavailable right now; your audio is kept and retried in a minute.",
  INTERNAL_ERROR: () => "The server failed. Try again.",
  ACTION_UNAVAILABLE: () => "The service is being updated. Try again shortly.",
};

/** A sentence for a person about an `error` message (or a ProtocolError's reply). */
export function describeError(reply) {
  const make = MESSAGES[reply.code];
  return make ? make(reply) : reply.message || `Error ${reply.code}`;
}
