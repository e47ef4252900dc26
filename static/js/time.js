// Times in the reader's own time zone, and "5 min ago" that stays true while the page is open.

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

export function relative(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const ago = Math.max(0, now - then);
  if (ago < minute) return "just now";
  if (ago < hour) return `${Math.floor(ago / minute)} min ago`;
  if (ago < day) return `${Math.floor(ago / hour)} h ago`;
  if (ago < 7 * day) return `${Math.floor(ago / day)} d ago`;
  return new Date(then).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

export function localLabel(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function timeTag(iso) {
  const tag = document.createElement("time");
  tag.dateTime = iso;
  tag.dataset.relative = "";
  tag.textContent = relative(iso);
  tag.title = localLabel(iso);
  return tag;
}

export function refreshTimes(root = document) {
  for (const tag of root.querySelectorAll("time[data-relative]")) {
    tag.textContent = relative(tag.dateTime);
    tag.title = localLabel(tag.dateTime);
  }
}

export function startClock() {
  refreshTimes();
  window.setInterval(refreshTimes, 30_000);
}
