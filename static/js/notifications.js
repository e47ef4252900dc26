// Toasts from the user's own room: status changes on my tickets, replies to me, assignments,
// shown while I am elsewhere. The room is rejoined from where the previous page left off, so news
// that arrived while navigating is not lost, and toasted events are not repeated.

import { toast } from "./toasts.js";

const LAST_KEY = "helpdesk.userRoomSince";
const FRESH_MS = 5 * 60_000;

function storedSince() {
  const value = Number(window.sessionStorage.getItem(LAST_KEY));
  return Number.isFinite(value) && value > 0 ? value : null;
}

// A page that shows the user room's events says how far it was rendered; with nothing stored
// from an earlier page, replay from there, or what happened while the socket connected is lost.
function renderedSince() {
  const value = Number(document.querySelector("[data-user-room-since]")?.dataset.userRoomSince);
  return Number.isFinite(value) && value >= 0 ? value : null;
}

function viewingTicket(ticketId) {
  const page = document.getElementById("ticket");
  return page !== null && Number(page.dataset.ticketId) === ticketId && document.visibilityState === "visible";
}

function describe(frame, me) {
  const data = frame.data;
  const ticketId = data.ticket_id ?? data.id;
  const href = `/tickets/${ticketId}`;
  if (frame.kind === "ticket.status_changed" && data.reporter.id === me.id && data.actor.id !== me.id) {
    const verb = data.to === "closed" ? "was closed" : data.from === "closed" ? "was reopened" : `is now ${data.to}`;
    return { ticketId, href, text: `Your ticket “${data.title}” ${verb}.` };
  }
  if (frame.kind === "message.created" && data.author.id !== me.id && !data.internal) {
    return { ticketId, href, text: `${data.author.display_name}: ${data.body.slice(0, 140)}` };
  }
  if (frame.kind === "ticket.assigned" && data.assignee && data.assignee.id === me.id && data.actor.id !== me.id) {
    return { ticketId, href, text: `${data.actor.display_name} assigned “${data.title}” to you.` };
  }
  return null;
}

export function watchNotifications(socket, me) {
  const room = `user:${me.id}`;
  socket.on("event", (frame) => {
    if (frame.room !== room) return;
    try {
      window.sessionStorage.setItem(LAST_KEY, String(frame.id));
    } catch {
      // No storage: the next page simply starts from now.
    }
    if (Date.now() - Date.parse(frame.at) > FRESH_MS) return;
    const notice = describe(frame, me);
    if (notice && !viewingTicket(notice.ticketId)) {
      toast(notice.text, { href: notice.href, key: `event-${frame.id}` });
    }
  });
  socket.join(room, storedSince() ?? renderedSince());
}
