// Short notices in an ARIA live region: dismissible, and never shown twice for the same event.

import { el } from "./dom.js";

const STORE_KEY = "helpdesk.toasted";
const REMEMBERED = 200;

function remembered() {
  try {
    return JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "[]");
  } catch {
    return [];
  }
}

function rememberKey(key) {
  const keys = remembered().filter((known) => known !== key);
  keys.push(key);
  try {
    window.sessionStorage.setItem(STORE_KEY, JSON.stringify(keys.slice(-REMEMBERED)));
  } catch {
    // Private mode without storage: duplicates across pages are then possible, nothing worse.
  }
}

export function toast(text, { href = null, key = null, kind = "info", timeout = 8000 } = {}) {
  const region = document.getElementById("toasts");
  if (!region) return null;
  if (key !== null) {
    const storeKey = String(key);
    if (remembered().includes(storeKey)) return null;
    rememberKey(storeKey);
  }
  const close = el("button", { type: "button", className: "toast-close", "aria-label": "Dismiss notification" }, "×");
  const body = href ? el("a", { href }, text) : el("span", {}, text);
  const node = el("div", { className: `toast ${kind}` }, body, close);
  close.addEventListener("click", () => node.remove());
  let timer = window.setTimeout(() => node.remove(), timeout);
  const hold = () => window.clearTimeout(timer);
  const release = () => { timer = window.setTimeout(() => node.remove(), timeout / 2); };
  node.addEventListener("mouseenter", hold);
  node.addEventListener("focusin", hold);
  node.addEventListener("mouseleave", release);
  node.addEventListener("focusout", release);
  region.append(node);
  return node;
}
