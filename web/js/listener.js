// The listener page: join a session in a language, read captions, hear the translation in order.
import { SignInError } from "./auth.js";
import { HandshakeError, LiveConnection, ProtocolError } from "./connection.js";
import { describeError } from "./errors.js";
import { TARGET_LANGUAGES, fillLanguageSelect, languageName } from "./languages.js";
import { setConnectionStatus, startPage } from "./page.js";
import { SegmentPlayer } from "./playback.js";
import { $, CONNECTION_STATES, focusFirst, say, showSections } from "./ui.js";

const SECTIONS = ["join", "live", "ended"];
const MAX_CAPTIONS = 200;
const END_REASONS = {
  speakerEnded: "The speaker ended the session.",
  speakerGone: "The speaker was disconnected for too long, so the session ended.",
  maxDuration: "The session reached its maximum length.",
};
const SPEAKER_STATES = {
  paused: ["Paused by the speaker", "paused"],
  muted: ["Speaker muted", "paused"],
  speakerDisconnected: ["Speaker reconnecting…", "paused"],
};

/** Page state, exposed as window.listenerApp for diagnostics (and the browser tests). */
const app = { config: null, auth: null, connection: null, player: null, sessionId: null, language: null };
window.listenerApp = app;

function guessLanguage() {
  const wanted = (navigator.language || "en").toLowerCase();
  return TARGET_LANGUAGES.find((code) => code.toLowerCase() === wanted)
    || TARGET_LANGUAGES.find((code) => code.toLowerCase() === wanted.split("-")[0]) || "en";
}

async function main() {
  if (!(await startPage(app))) return;
  const params = new URLSearchParams(location.search);
  const lang = TARGET_LANGUAGES.find((c) => c.toLowerCase() === (params.get("lang") || "").toLowerCase());
  fillLanguageSelect($("join-language"), TARGET_LANGUAGES, lang || guessLanguage());
  fillLanguageSelect($("switch-language"), TARGET_LANGUAGES, lang || guessLanguage());
  $("session-input").value = params.get("session") || "";
  app.player = new SegmentPlayer();
  app.player.addEventListener("caption", (e) => renderCaption(e.detail));
  app.player.addEventListener("playing", (e) => markPlaying(e.detail.sequence, true));
  app.player.addEventListener("ended", (e) => markPlaying(e.detail.sequence, false));
  app.player.addEventListener("skipped", (e) => markPlaying(e.detail.sequence, false));
  app.player.addEventListener("blocked", () => { $("sound-button").hidden = false; });
  $("join-form").addEventListener("submit", onJoin);
  $("sign-in-form").addEventListener("submit", onSignIn);
  $("switch-button").addEventListener("click", onSwitch);
  $("leave-button").addEventListener("click", onLeave);
  $("rejoin").addEventListener("click", () => { showSections(SECTIONS, ["join"]); focusFirst("join"); });
  $("show-original").addEventListener("change", () => {
    $("captions").classList.toggle("with-original", $("show-original").checked);
    for (const li of $("captions").children) renderOriginal(li);
  });
  $("sound-button").addEventListener("click", () => {
    $("sound-button").hidden = true;
    app.player.resume();
  });
  setConnectionStatus("Not connected");
  showSections(SECTIONS, ["join"]);
  focusFirst("join");
}

async function onSignIn(event) {
  event.preventDefault();
  try {
    await app.auth.signIn($("username").value.trim(), $("password").value);
    $("password").value = "";
    $("sign-in-status").textContent = `Signed in as ${app.auth.username}.`;
    app.connection?.close();
    app.connection = null;
  } catch (error) {
    $("sign-in-status").textContent = error instanceof SignInError ? error.message : `Could not sign in: ${error.message}`;
  }
}

async function ensureConnection() {
  if (app.connection && !app.connection.closed) return app.connection;
  const connection = new LiveConnection({
    url: app.config.websocketUrl, role: "listener",
    token: async () => (app.auth.signedIn ? app.auth.token() : null),
  });
  connection.addEventListener("state", (e) => setConnectionStatus(CONNECTION_STATES[e.detail] || e.detail));
  connection.addEventListener("push", (e) => onPush(e.detail));
  connection.addEventListener("sessionLost", (e) => sessionOver(describeError(e.detail.reply)));
  connection.addEventListener("replaced", () => sessionOver("This session continues in another window or tab."));
  await connection.connect();
  app.connection = connection;
  return connection;
}

async function onJoin(event) {
  event.preventDefault();
  say("join-error", "");
  const sessionId = $("session-input").value.trim();
  const language = $("join-language").value;
  if (!sessionId) {
    say("join-error", "Enter the session id the speaker shows.");
    $("session-input").focus();
    return;
  }
  $("join-button").disabled = true;
  try {
    const connection = await ensureConnection();
    startLive(await connection.request("joinSession", { sessionId, targetLanguage: language }));
  } catch (error) {
    if (error instanceof HandshakeError) {
      say("join-error", app.auth.signedIn
        ? "The service refused the connection. Try again in a minute."
        : "The service refused the connection: it may ask listeners to sign in (below), or be busy.");
      if (!app.auth.signedIn) $("sign-in-details").open = true;
    } else {
      say("join-error", error instanceof ProtocolError ? describeError(error.reply) : `Could not join: ${error.message}`);
    }
  } finally {
    $("join-button").disabled = false;
  }
}

function startLive(reply) {
  app.sessionId = reply.sessionId;
  app.language = reply.targetLanguage;
  app.player.reset();
  app.player.setLanguage(reply.targetLanguage);
  $("captions").replaceChildren();
  $("live-session").textContent = reply.sessionId;
  $("switch-language").value = reply.targetLanguage;
  renderSpeakerState(reply.paused ? "paused" : reply.muted ? "muted" : "resumed");
  $("source-language").textContent = `Speaker's language: ${languageName(reply.sourceLanguage)}`;
  say("live-error", "");
  const url = new URL(location.href);
  url.searchParams.set("session", reply.sessionId);
  url.searchParams.set("lang", reply.targetLanguage);
  history.replaceState(null, "", url);
  showSections(SECTIONS, ["live"]);
  $("live-title").focus();
}

function onPush(message) {
  switch (message.type) {
    case "caption":
    case "audio":
      if (message.sessionId === app.sessionId) app.player.accept(message);
      break;
    case "sessionUpdate":
      if (message.sessionId === app.sessionId) renderSpeakerState(message.event);
      break;
    case "sessionEnded":
      if (message.sessionId === app.sessionId) sessionOver(END_REASONS[message.reason] || "The session ended.");
      break;
    case "error":
      say("live-error", describeError(message));
      break;
    default:
      break;
  }
}

async function onSwitch() {
  const language = $("switch-language").value;
  if (language === app.language) return;
  $("switch-button").disabled = true;
  say("live-error", "");
  try {
    const reply = await app.connection.request("listenerControl", { command: "switchLanguage", targetLanguage: language });
    app.language = reply.targetLanguage;
    app.player.setLanguage(reply.targetLanguage);
    $("playback-status").textContent = `Now in ${languageName(reply.targetLanguage)}.`;
    const url = new URL(location.href);
    url.searchParams.set("lang", reply.targetLanguage);
    history.replaceState(null, "", url);
  } catch (error) {
    $("switch-language").value = app.language;
    say("live-error", error instanceof ProtocolError ? describeError(error.reply) : `Could not switch: ${error.message}`);
    if (error instanceof ProtocolError && error.code === "SESSION_ENDED") sessionOver(describeError(error.reply));
  } finally {
    $("switch-button").disabled = false;
  }
}

async function onLeave() {
  try {
    await app.connection?.request("listenerControl", { command: "leave" });
  } catch {
    // Closing the socket leaves too.
  }
  app.connection?.close();
  app.connection = null;
  app.player.reset();
  app.sessionId = null;
  setConnectionStatus("Not connected");
  showSections(SECTIONS, ["join"]);
  focusFirst("join");
}

function sessionOver(reason) {
  app.sessionId = null;
  $("ended-reason").textContent = reason;
  // Audio already queued may finish; nothing new arrives after sessionEnded.
  showSections(SECTIONS, ["ended"]);
  $("ended-title").focus();
}

function renderSpeakerState(event) {
  const [text, kind] = SPEAKER_STATES[event] || ["Live", "live"];
  const badge = $("speaker-state");
  badge.textContent = text;
  badge.className = `badge ${kind}`;
}

/** Captions in speech order (by sequence), whatever order they arrived in. */
function renderCaption(caption) {
  const list = $("captions");
  let li = list.querySelector(`li[data-segment="${CSS.escape(caption.segmentId)}"]`);
  if (!li) {
    li = document.createElement("li");
    li.dataset.segment = caption.segmentId;
    li.dataset.sequence = String(caption.sequence);
    const before = [...list.children].find((other) => Number(other.dataset.sequence) > caption.sequence);
    list.insertBefore(li, before || null);
  }
  li.dataset.language = caption.language;
  li.dataset.continues = String(caption.continuesSentence);
  li.lang = caption.language;
  li.classList.toggle("partial", caption.isFinal === false);
  li.dataset.original = caption.sourceText || "";
  li.replaceChildren(document.createTextNode(caption.text));
  if (caption.sourceText && caption.translated) $("original-row").hidden = false;
  renderOriginal(li);
  // A sentence cut into several segments reads as one line: a segment whose predecessor
  // continues its sentence joins it.
  for (const item of [li, li.nextElementSibling]) {
    item?.classList.toggle("joined", item.previousElementSibling?.dataset.continues === "true");
  }
  while (list.children.length > MAX_CAPTIONS) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function renderOriginal(li) {
  li.querySelector(".original")?.remove();
  if ($("show-original").checked && li.dataset.original) {
    const original = document.createElement("span");
    original.className = "original";
    original.textContent = li.dataset.original;
    li.append(original);
  }
}

function markPlaying(sequence, playing) {
  const li = $("captions").querySelector(`li[data-sequence="${sequence}"]`);
  li?.classList.toggle("playing", playing);
  $("playback-status").textContent = playing ? `Playing segment ${sequence}` : "";
}

main();
