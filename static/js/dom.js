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

export const CATEGORY_LABELS = { facilities: "Facilities", it: "IT", services: "Services" };

export function statusBadge(status) {
  return el("span", { className: `status status-${status}` }, status);
}

export function priorityBadge(priority) {
  if (priority === "normal") return null;
  return el("span", { className: `priority priority-${priority}` }, priority);
}
