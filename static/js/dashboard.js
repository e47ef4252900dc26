// The reporter's dashboard, live: my tickets change state, gain unread replies, and appear when
// reported from another tab; recent activity grows at the top; the known issues of campus stay
// current.

import { $, el, priorityBadge, statusBadge } from "./dom.js";
import { issueHref, startDashboardIssues } from "./known_issues.js";
import { categoryLabel, feedLine } from "./texts.js";
import { timeTag } from "./time.js";

const ACTIVITY_SHOWN = 10;

export function startDashboard(socket, me) {
  startDashboardIssues(socket, me);
  const dashboard = $("#dashboard");
  const since = Number(dashboard.dataset.userRoomSince);
  const list = $("#my-tickets");
  const view = list.dataset.show; // current, closed, or search
  const takesNew = list.dataset.takesNew === "true"; // the first page of a view, not a search
  const activity = $("#activity");

  function row(ticket) {
    return el("li", { className: "ticket-row", dataset: { ticketId: ticket.id, status: ticket.status } },
      el("a", { href: `/tickets/${ticket.id}`, className: "ticket-link" },
        el("span", { className: "ticket-title" }, ticket.title),
        el("span", { className: "ticket-meta" },
          `#${ticket.id} · ${categoryLabel(ticket.category)}${ticket.location ? ` · ${ticket.location}` : ""} · `,
          timeTag(ticket.updated_at))),
      statusBadge(ticket.status), " ", priorityBadge(ticket.priority),
      el("span", { className: "unread", dataset: { unread: "0" }, hidden: true },
        el("span", { className: "count" }, "0"), " ",
        el("span", { className: "visually-hidden" }, "unread messages")));
  }

  // Search results stay what was found, each row kept up to date; a view keeps to its statuses.
  function belongsHere(ticket) {
    if (view === "search") return true;
    return view === "closed" ? ticket.status === "closed" : ticket.status !== "closed";
  }

  function upsert(ticket) {
    const existing = list.querySelector(`[data-ticket-id="${ticket.id}"]`);
    if (!belongsHere(ticket)) {
      existing?.remove();
      return;
    }
    const fresh = row(ticket);
    if (existing) {
      const unread = existing.querySelector(".unread");
      fresh.querySelector(".unread").replaceWith(unread);
      existing.replaceWith(fresh);
    } else if (takesNew) {
      list.querySelector(".empty")?.remove();
      list.prepend(fresh);
    }
  }

  function countUnread(message) {
    const badge = list.querySelector(`[data-ticket-id="${message.ticket_id}"] .unread`);
    if (!badge) return;
    const count = Number(badge.dataset.unread) + 1;
    badge.dataset.unread = String(count);
    badge.querySelector(".count").textContent = String(count);
    badge.hidden = false;
  }

  function addActivity(frame) {
    activity.querySelector(".empty")?.remove();
    // A known issue's news names the issue, not a ticket.
    const href = frame.kind.startsWith("known_issue.")
      ? issueHref(frame.data.id)
      : `/tickets/${frame.data.ticket_id ?? frame.data.id}`;
    activity.prepend(el("li", { dataset: { eventId: frame.id } },
      el("a", { href }, feedLine(frame.kind, frame.data)), " ",
      timeTag(frame.at)));
    while (activity.children.length > ACTIVITY_SHOWN) activity.lastElementChild.remove();
  }

  socket.on("event", (frame) => {
    if (frame.room !== `user:${me.id}` || frame.id <= since) return; // older ones are on the page
    addActivity(frame);
    if (frame.kind === "message.created") {
      if (frame.data.author.id !== me.id) countUnread(frame.data);
    } else if (frame.data.reporter && frame.data.reporter.id === me.id) {
      upsert(frame.data);
    }
  });
}
