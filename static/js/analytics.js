// The analytics page, live: when the board's analytics.updated arrives (at most about once a
// second, however busy the helpdesk is), the numbers, tables and charts are refreshed in place.
// Without a socket (the stand-alone analytics app) it refreshes on a timer instead.

import { api } from "./api.js";
import { $, $$, el } from "./dom.js";
import { categoryLabel } from "./texts.js";

const POLL_MS = 15_000;
const MIN_GAP_MS = 1_000;

export function humanDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  let minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  let hours = Math.floor(minutes / 60);
  minutes %= 60;
  if (hours < 24) return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  hours %= 24;
  return hours ? `${days} d ${hours} h` : `${days} d`;
}

function pick(summary, path) {
  return path.split(".").reduce((value, key) => (value === null || value === undefined ? value : value[key]), summary);
}

function rows(cells) {
  return el("tr", {}, el("th", { scope: "row" }, cells[0]), ...cells.slice(1).map((cell) => el("td", { className: "num" }, cell)));
}

export function startAnalytics(socket) {
  const root = $("#analytics");
  const query = new URLSearchParams({ days: root.dataset.days });
  if (root.dataset.category) query.set("category", root.dataset.category);
  let lastRefresh = 0;
  let queued = false;

  function render(summary) {
    for (const node of $$("[data-stat]", root)) {
      const value = pick(summary, node.dataset.stat);
      node.textContent = node.hasAttribute("data-duration") ? humanDuration(value) : String(value);
    }
    $('[data-table="categories"]', root).replaceChildren(...Object.keys(summary.by_category).map((key) =>
      rows([categoryLabel(key), summary.backlog_by_category[key], summary.by_category[key]])));
    const places = summary.top_locations.map((place) => rows([place.location, place.open, place.active]));
    $('[data-table="locations"]', root).replaceChildren(...(places.length ? places
      : [el("tr", {}, el("td", { colspan: 3 }, "No open tickets with a location."))]));
    $('[data-table="staff"]', root).replaceChildren(...summary.staff_load.map((load) =>
      rows([load.user.display_name, load.active, load.closed_in_window])));
    const issues = summary.known_issues.top.map((issue) =>
      rows([issue.public_title, issue.affected_count, issue.duplicates_merged, humanDuration(issue.seconds_to_publish)]));
    $('[data-table="known-issues"]', root).replaceChildren(...(issues.length ? issues
      : [el("tr", {}, el("td", { colspan: 4 }, "No known issue published in this window."))]));
    for (const image of $$("img[data-chart]", root)) {
      const url = new URL(image.src, window.location.href);
      url.searchParams.set("v", summary.generated_at);
      image.src = url.toString();
    }
    const stamp = $("#analytics-updated time");
    if (stamp) {
      stamp.dateTime = summary.generated_at;
      stamp.textContent = "just now";
    }
  }

  async function refresh() {
    const wait = lastRefresh + MIN_GAP_MS - Date.now();
    if (wait > 0) {
      if (!queued) {
        queued = true;
        window.setTimeout(() => { queued = false; refresh(); }, wait);
      }
      return;
    }
    lastRefresh = Date.now();
    const result = await api("GET", `/analytics/summary?${query}`);
    if (result.ok) render(result.data);
  }

  if (socket) {
    socket.on("event", (frame) => {
      if (frame.room === "board" && frame.kind === "analytics.updated") refresh();
    });
    socket.join("board");
  } else {
    window.setInterval(refresh, POLL_MS);
  }
}
