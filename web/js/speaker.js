// The speaker page: sign in, create a session, share it, stream the microphone, control it.
import { SignInError } from "./auth.js";
import { MicrophoneCapture } from "./capture.js";
import { HandshakeError, LiveConnection, ProtocolError } from "./connection.js";
import { describeError } from "./errors.js";
import { SOURCE_LANGUAGES, fillLanguageSelect, languageName } from "./languages.js";
import { setConnectionStatus, startPage } from "./page.js";
import { renderQr } from "./qr.js";
import { $, CONNECTION_STATES, focusFirst, say, setToggle, showSections } from "./ui.js";
import { AudioUplink } from "./uplink.js";

const SECTIONS = ["sign-in", "setup", "live", "ended"];
const STATUS_POLL_MS = 15_000;
const END_REASONS = {
  speakerEnded: "You ended the session.",
  speakerGone: "The session ended because this page was disconnected for too long.",
  maxDuration: "The session reached its maximum length.",
};
const QUALITY_TEXT = {
  low_snr: "Background noise is high: move closer to the microphone or somewhere quieter.",
  clipping: "Your audio is clipping: lower the microphone volume or move back a little.",
  silence: "No speech heard: check that the right microphone is selected and unmuted.",
};

/** Page state, exposed as window.speakerApp for diagnostics (and the browser tests). */
const app = {
  config: null, auth: null, connection: null, uplink: null, mic: null,
  sessionId: null, paused: false, muted: false, statusTimer: null, status: null, qualityWarnings: [],
};
window.speakerApp = app;

function guessSourceLanguage() {
  const wanted = (navigator.language || "en-US").toLowerCase();
  return SOURCE_LANGUAGES.find((code) => code.toLowerCase() === wanted)
    || SOURCE_LANGUAGES.find((code) => code.toLowerCase().startsWith(wanted.split("-")[0]))
    || "en-US";
}

async function main() {
  if (!(await startPage(app))) return;
  fillLanguageSelect($("source-language"), SOURCE_LANGUAGES, guessSourceLanguage());
  $("sign-in-form").addEventListener("submit", onSignIn);
  $("setup-form").addEventListener("submit", onCreate);
  $("copy-link").addEventListener("click", onCopyLink);
  $("pause-button").addEventListener("click", () => control(app.paused ? "resume" : "pause"));
  $("mute-button").addEventListener("click", () => control(app.muted ? "unmute" : "mute"));
  $("end-button").addEventListener("click", () => control("end"));
  $("new-session").addEventListener("click", () => {
    showSections(SECTIONS, ["setup"]);
    focusFirst("setup");
  });
  setConnectionStatus(`Not signed in (stack ${app.config.stack || "?"})`);
  showSections(SECTIONS, ["sign-in"]);
  focusFirst("sign-in");
}

async function onSignIn(event) {
  event.preventDefault();
  say("sign-in-error", "");
  $("sign-in-button").disabled = true;
  try {
    await app.auth.signIn($("username").value.trim(), $("password").value);
    $("password").value = "";
    await connect();
    showSections(SECTIONS, ["setup"]);
    focusFirst("setup");
  } catch (error) {
    say("sign-in-error", error instanceof SignInError ? error.message
      : error instanceof HandshakeError ? "The server refused the connection: your sign-in may not be valid for this stack."
        : `Could not sign in: ${error.message}`);
  } finally {
    $("sign-in-button").disabled = false;
  }
}

async function connect() {
  app.connection?.close();
  const connection = new LiveConnection({ url: app.config.websocketUrl, role: "speaker", token: () => app.auth.token() });
  connection.addEventListener("state", (e) => setConnectionStatus(CONNECTION_STATES[e.detail] || e.detail));
  connection.addEventListener("push", (e) => onPush(e.detail));
  connection.addEventListener("refreshed", () => setConnectionStatus("Connected (connection refreshed)"));
  connection.addEventListener("sessionLost", (e) => sessionOver(describeError(e.detail.reply)));
  connection.addEventListener("replaced", () => sessionOver("Another window took over this session."));
  await connection.connect();
  app.connection = connection;
  app.uplink = new AudioUplink(connection);
  app.uplink.addEventListener("dropped", (e) => say("live-error", `Audio was refused: ${describeError(e.detail)}`));
}

async function onCreate(event) {
  event.preventDefault();
  say("setup-error", "");
  $("create-button").disabled = true;
  try {
    const reply = await app.connection.request("createSession", { sourceLanguage: $("source-language").value });
    startLive(reply);
  } catch (error) {
    say("setup-error", error instanceof ProtocolError ? describeError(error.reply) : `Could not start: ${error.message}`);
  } finally {
    $("create-button").disabled = false;
  }
}

async function startLive(reply) {
  app.sessionId = reply.sessionId;
  app.paused = false;
  app.muted = false;
  app.qualityWarnings = [];
  $("quality").replaceChildren();
  say("live-error", "");
  $("session-id").textContent = reply.sessionId;
  const link = new URL(`listener.html?session=${encodeURIComponent(reply.sessionId)}`, document.baseURI).toString();
  $("listener-link").value = link;
  renderQr($("qr"), link);
  renderControls();
  renderStatus({ listenerCount: 0, languages: {} });
  showSections(SECTIONS, ["live"]);
  $("live-title").focus?.();
  app.uplink.start(reply.sessionId);
  clearInterval(app.statusTimer);
  app.statusTimer = setInterval(pollStatus, STATUS_POLL_MS);
  await startMicrophone();
}

async function startMicrophone() {
  if (app.mic?.running) return;
  app.mic = new MicrophoneCapture();
  app.mic.addEventListener("chunk", (e) => {
    $("level").value = Math.min(1, e.detail.rms * 4);
    if (!app.paused && !app.muted) app.uplink.push(e.detail.pcm);
    $("chunks-sent").textContent = `${app.uplink.sent} chunks (${(app.uplink.sent / 10).toFixed(1)} s)`;
  });
  try {
    await app.mic.start();
    $("mic-status").textContent = "Microphone on: speak now.";
  } catch (error) {
    $("mic-status").textContent = "";
    say("live-error", error.name === "NotAllowedError"
      ? "Microphone access was refused. Allow it in the browser's site settings, then reload."
      : `The microphone could not start: ${error.message}`);
  }
}

async function control(command) {
  say("live-error", "");
  // Stop sending before asking: nothing said after the click may go out.
  if (command === "pause" || command === "mute" || command === "end") app.uplink.stop();
  const buttons = ["pause-button", "mute-button", "end-button"].map($);
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const reply = await app.connection.request("speakerControl", { sessionId: app.sessionId, command });
    if (command === "end") {
      sessionOver(END_REASONS.speakerEnded);
      return;
    }
    app.paused = Boolean(reply.paused);
    app.muted = Boolean(reply.muted);
    renderControls();
  } catch (error) {
    say("live-error", error instanceof ProtocolError ? describeError(error.reply) : `${command} failed: ${error.message}`);
    if (error instanceof ProtocolError && error.code === "SESSION_ENDED") sessionOver(describeError(error.reply));
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
    if (app.sessionId && !app.paused && !app.muted) app.uplink.start(app.sessionId);
  }
}

function renderControls() {
  setToggle("pause-button", app.paused, app.paused ? "Resume" : "Pause");
  setToggle("mute-button", app.muted, app.muted ? "Unmute" : "Mute");
  const badge = $("session-state");
  badge.textContent = app.paused ? "Paused" : app.muted ? "Muted" : "Live";
  badge.className = `badge ${app.paused || app.muted ? "paused" : "live"}`;
  $("mic-status").textContent = app.paused || app.muted
    ? "Not sending: listeners hear nothing until you resume."
    : app.mic?.running ? "Microphone on: speak now." : $("mic-status").textContent;
}

async function pollStatus() {
  if (!app.sessionId || !app.connection?.ready) return;
  try {
    renderStatus(await app.connection.request("getSessionStatus", { sessionId: app.sessionId }));
  } catch {
    // The next poll or the minute's push will do.
  }
}

function renderStatus(status) {
  app.status = status;
  $("listener-count").textContent = String(status.listenerCount ?? 0);
  const languages = Object.entries(status.languages || {}).filter(([, n]) => n > 0);
  $("listener-languages").textContent = languages.length
    ? languages.map(([code, n]) => `${languageName(code)}: ${n}`).join(", ") : "none yet";
}

function onPush(message) {
  switch (message.type) {
    case "sessionStatus":
      if (message.sessionId === app.sessionId) renderStatus(message);
      break;
    case "audioQuality":
      showQuality(message);
      break;
    case "controlApplied":
      // A late reply to a control whose request timed out: the server's state wins.
      if (message.sessionId !== app.sessionId) break;
      if (message.command === "end" || message.status === "ended") {
        sessionOver(END_REASONS.speakerEnded);
        break;
      }
      app.paused = Boolean(message.paused);
      app.muted = Boolean(message.muted);
      if (app.paused || app.muted) app.uplink.stop();
      else app.uplink.start(app.sessionId);
      renderControls();
      say("live-error", "");
      break;
    case "sessionEnded":
      if (message.sessionId === app.sessionId) sessionOver(END_REASONS[message.reason] || "The session ended.");
      break;
    case "error":
      if (app.uplink?.handleError(message)) break;
      if (message.code === "TRANSCRIPTION_UNAVAILABLE") showQuality({ issue: "transcription", message: describeError(message) });
      else say("live-error", describeError(message));
      break;
    default:
      break;
  }
}

function showQuality(message) {
  const text = QUALITY_TEXT[message.issue] || message.message || message.issue;
  app.qualityWarnings.push({ issue: message.issue, at: Date.now() });
  let item = $("quality").querySelector(`[data-issue="${message.issue}"]`);
  if (!item) {
    item = document.createElement("p");
    item.className = "warning";
    item.dataset.issue = message.issue;
    $("quality").append(item);
  }
  item.textContent = text;
}

function sessionOver(reason) {
  app.uplink?.stop();
  app.mic?.stop();
  clearInterval(app.statusTimer);
  app.sessionId = null;
  $("ended-reason").textContent = reason;
  showSections(SECTIONS, ["ended"]);
  focusFirst("ended");
}

async function onCopyLink() {
  const link = $("listener-link").value;
  try {
    await navigator.clipboard.writeText(link);
    $("copy-link").textContent = "Copied";
  } catch {
    $("listener-link").select();
    $("copy-link").textContent = "Press Ctrl+C to copy";
  }
  setTimeout(() => { $("copy-link").textContent = "Copy link"; }, 2000);
}

main();
