// Small DOM helpers shared by the pages.

export const $ = (id) => document.getElementById(id);

/** Show one message in an element (role=alert elements announce it), or hide it when empty. */
export function say(id, text) {
  const element = $(id);
  element.textContent = text || "";
  element.hidden = !text;
}

/** Show exactly the listed sections among `all`. */
export function showSections(all, visible) {
  for (const id of all) $(id).hidden = !visible.includes(id);
}

/** A pressed/unpressed toggle button with its label. */
export function setToggle(id, pressed, label) {
  const button = $(id);
  button.setAttribute("aria-pressed", String(pressed));
  button.textContent = label;
}

/** Move keyboard focus to the first focusable control inside a section that just appeared. */
export function focusFirst(id) {
  const target = $(id).querySelector("input:not([readonly]), select, button");
  target?.focus();
}

export const CONNECTION_STATES = {
  connecting: "Connecting…",
  open: "Connected",
  refreshing: "Refreshing the connection…",
  reconnecting: "Connection lost, reconnecting…",
  closed: "Disconnected",
};
