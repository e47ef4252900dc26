// Building DOM from data. User text only ever goes in through textContent, never innerHTML.

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Links in what people write: http(s) only, never opening with this page's rights or its
// address, and never vouched for; any other scheme (javascript:, data:) stays text.
const LINK_START = /\bhttps?:\/\/[^\s<>"]+/gi;
const LINK_REL = "noopener noreferrer nofollow";
const TRAILING = /[.,;:!?'"’”»]+$/;
const BRACKETS = { ")": "(", "]": "[", "}": "{" };

function count(text, character) {
  return text.split(character).length - 1;
}

// "(see https://x.example/a)." links https://x.example/a; a bracket the link opened stays in.
function trimLink(candidate) {
  let link = candidate.replace(TRAILING, "");
  while (link && BRACKETS[link.at(-1)]) {
    const closer = link.at(-1);
    if (count(link, BRACKETS[closer]) >= count(link, closer)) break;
    link = link.slice(0, -1).replace(TRAILING, "");
  }
  return link;
}

function webAddress(text) {
  try {
    const url = new URL(text);
    return ["http:", "https:"].includes(url.protocol) && url.hostname ? url : null;
  } catch {
    return null;
  }
}

// The one place text becomes text-with-links: for what the server rendered and what arrives live.
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  let done = 0;
  for (const match of text.matchAll(LINK_START)) {
    const link = trimLink(match[0]);
    const url = webAddress(link);
    if (!url) continue;
    fragment.append(text.slice(done, match.index));
    fragment.append(el("a", { href: url.href, rel: LINK_REL, target: "_blank" }, link));
    done = match.index + link.length;
  }
  fragment.append(text.slice(done));
  return fragment;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return Array.from(root.querySelectorAll(selector));
}

// Says something to screen-reader users without moving focus.
export function announce(text) {
  const region = $("#announcer");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 50);
}

export function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

export function statusBadge(status) {
  return el("span", { className: `status status-${status}` }, status);
}

export function priorityBadge(priority) {
  if (priority === "normal") return null;
  return el("span", { className: `priority priority-${priority}` }, priority);
}
