// Start-up shared by the speaker and listener pages.
import { Session } from "./auth.js";
import { loadConfig } from "./config.js";
import { $, say } from "./ui.js";

/** Show text in the page's connection status line. */
export function setConnectionStatus(text) {
  $("connection-status").textContent = text;
}

/**
 * Load config.json into `app.config` and the sign-in Session into `app.auth`; the password field
 * is hidden when the stack signs in without one (local mode). Answers false, with the reason
 * shown on the page, when the page cannot start.
 */
export async function startPage(app) {
  try {
    app.config = await loadConfig();
  } catch (error) {
    setConnectionStatus("The page cannot start.");
    say("page-error", error.message);
    return false;
  }
  app.auth = new Session(app.config);
  $("password-field").hidden = app.config.auth.kind === "local";
  return true;
}
