// The staff board, live: cards appear, move and change as events arrive; staff move them by
// dragging or from the keyboard, and a move made on a stale card shows the conflict.

import { api, sentence } from "./api.js";
import { $, $$, CATEGORY_LABELS, announce, el, priorityBadge } from "./dom.js";
import { timeTag } from "./time.js";
import { toast } from "./toasts.js";

const ORDER = ["open", "active", "closed"];
const COLUMN_NAMES = { open: "Open", active: "Active", closed: "Closed" };

export function startBoard(socket) {
  const board = $("#board");
  const workflow = JSON.parse(board.dataset.workflow);
  const filters = {
    category: board.dataset.filterCategory,
    assignee: board.dataset.filterAssignee,
    q: board.dataset.filterQ.toLowerCase(),
  };
  const lists = Object.fromEntries(ORDER.map((status) => [status, $(`ol.cards[data-status="${status}"]`, board)]));

  function matches(ticket) {
    if (filters.category && ticket.category !== filters.category) return false;
    if (filters.assignee === "none" && ticket.assignee) return false;
    if (filters.assignee && filters.assignee !== "none"
        && (!ticket.assignee || String(ticket.assignee.id) !== filters.assignee)) return false;
    if (filters.q) {
      const text = `${ticket.title} ${ticket.description} ${ticket.location || ""}`.toLowerCase();
      if (!text.includes(filters.q)) return false;
    }
    return true;
  }

  function cardFor(ticketId) {
    return board.querySelector(`.card[data-ticket-id="${ticketId}"]`);
  }

  function buildCard(ticket) {
    const lastReply = ticket.last_message_at
      ? el("span", { className: "card-reply" }, "last reply ", timeTag(ticket.last_message_at))
      : el("span", { className: "card-reply" }, "no replies");
    return el("li", {
      className: `card priority-${ticket.priority}`,
      dataset: { ticketId: ticket.id, version: ticket.version, status: ticket.status, createdAt: ticket.created_at },
    },
    el("a", { className: "card-title", href: `/tickets/${ticket.id}` }, ticket.title),
    el("p", { className: "card-meta" }, `#${ticket.id} · ${CATEGORY_LABELS[ticket.category]}`,
      ticket.location ? [" · ", el("span", { className: "card-location" }, ticket.location)] : null,
      " ", priorityBadge(ticket.priority)),
    el("p", { className: "card-meta" },
      el("span", { className: "card-assignee" }, ticket.assignee ? ticket.assignee.display_name : "Unassigned"),
      " · opened ", timeTag(ticket.created_at), " · ", lastReply));
  }

  function prepare(card) {
    card.tabIndex = 0;
    card.draggable = true;
    card.setAttribute("aria-describedby", "board-help");
    card.setAttribute("aria-label", `${card.querySelector(".card-title").textContent}, ${card.dataset.status}`);
  }

  function recount() {
    for (const status of ORDER) {
      const counter = $("[data-count]", lists[status].closest(".column"));
      // A column the server cut at its page size has more than it shows.
      counter.textContent = `${lists[status].children.length}${counter.hasAttribute("data-more") ? "+" : ""}`;
    }
  }

  function place(ticket, { flash = false } = {}) {
    const existing = cardFor(ticket.id);
    // Events and API answers both report changes: whichever comes second is already shown.
    if (existing && Number(existing.dataset.version) >= ticket.version) return existing;
    const hadFocus = existing !== null && existing.contains(document.activeElement);
    if (!matches(ticket)) {
      existing?.remove();
      recount();
      return null;
    }
    const card = buildCard(ticket);
    prepare(card);
    const target = lists[ticket.status];
    if (existing && existing.parentElement === target) existing.replaceWith(card);
    else {
      existing?.remove();
      target.prepend(card);
    }
    if (hadFocus) card.focus();
    if (flash) {
      card.classList.add("flash");
      window.setTimeout(() => card.classList.remove("flash"), 1300);
    }
    recount();
    return card;
  }

  function touchReply(message) {
    if (message.internal) return;
    const card = cardFor(message.ticket_id);
    const reply = card && $(".card-reply", card);
    if (reply) reply.replaceChildren("last reply ", timeTag(message.created_at));
  }

  socket.on("event", (frame) => {
    if (frame.room !== "board") return;
    if (frame.kind === "message.created") touchReply(frame.data);
    else if (frame.kind.startsWith("ticket.")) {
      const hadCard = cardFor(frame.data.id) !== null;
      const card = place(frame.data, { flash: true });
      if (card && frame.kind === "ticket.created" && !hadCard) announce(`New ticket: ${frame.data.title}`);
    }
  });

  socket.on("joined", (frame) => {
    if (frame.room === "board" && frame.reset) window.location.reload();
  });

  // Closing tells the reporter, so it is never one stray key or drop away: it asks first, and
  // takes the note the reporter will read. Resolves to the note ("" for none), or null if cancelled.
  const closeDialog = $("#close-dialog");
  function confirmClose(card) {
    $("[data-close-ticket]", closeDialog).textContent = `#${card.dataset.ticketId} ${$(".card-title", card).textContent}`;
    const note = $("#close-note", closeDialog);
    note.value = "";
    closeDialog.returnValue = "";
    closeDialog.showModal();
    return new Promise((resolve) => {
      closeDialog.addEventListener("close", () => {
        if (closeDialog.returnValue === "close") resolve(note.value.trim());
        else {
          resolve(null);
          cardFor(card.dataset.ticketId)?.focus();
          announce(`#${card.dataset.ticketId} was not closed.`);
        }
      }, { once: true });
    });
  }

  async function move(card, target) {
    const from = card.dataset.status;
    if (!(workflow[from] || []).includes(target)) return;
    const ticketId = Number(card.dataset.ticketId);
    const note = target === "closed" ? await confirmClose(card) : "";
    if (note === null) return;
    card = cardFor(ticketId) || card; // a live event may have redrawn it while the dialog was open
    const body = { status: target, version: Number(card.dataset.version) };
    if (note) body.note = note;
    card.setAttribute("aria-busy", "true");
    const result = await api("POST", `/tickets/${ticketId}/status`, body);
    card.removeAttribute("aria-busy");
    if (result.ok) {
      place(result.data)?.focus();
      announce(`Moved #${ticketId} to ${COLUMN_NAMES[target]}.`);
      return;
    }
    const current = result.data && result.data.ticket;
    if (result.error.code === "version_conflict" && current) {
      const fresh = place(current);
      fresh?.classList.add("conflict");
      fresh?.focus();
      const text = `#${ticketId} changed meanwhile: it is now ${current.status}` +
        `${current.assignee ? ` with ${current.assignee.display_name}` : ""}. Your move was not made.`;
      toast(text, { kind: "error", href: `/tickets/${ticketId}` });
      announce(text);
    } else {
      toast(`Could not move #${ticketId}: ${sentence(result.error.detail)}`, { kind: "error" });
    }
  }

  // Dragging between columns.
  board.addEventListener("dragstart", (drag) => {
    const card = drag.target.closest(".card");
    if (!card) return;
    card.classList.add("dragging");
    drag.dataTransfer.setData("text/plain", card.dataset.ticketId);
    drag.dataTransfer.effectAllowed = "move";
  });
  board.addEventListener("dragend", (drag) => {
    drag.target.closest(".card")?.classList.remove("dragging");
    for (const column of $$(".column", board)) column.classList.remove("drop-target");
  });
  for (const column of $$(".column", board)) {
    column.addEventListener("dragover", (over) => {
      const dragging = $(".card.dragging", board);
      if (dragging && (workflow[dragging.dataset.status] || []).includes(column.dataset.status)) {
        over.preventDefault();
        column.classList.add("drop-target");
      }
    });
    column.addEventListener("dragleave", () => column.classList.remove("drop-target"));
    column.addEventListener("drop", (drop) => {
      drop.preventDefault();
      column.classList.remove("drop-target");
      const card = cardFor(drop.dataTransfer.getData("text/plain"));
      if (card) move(card, column.dataset.status);
    });
  }

  // The keyboard: arrows move a focused card to the next column the workflow allows that way.
  board.addEventListener("keydown", (key) => {
    const card = key.target.closest?.(".card");
    if (!card || key.target !== card) return;
    if (key.key === "Enter") {
      $(".card-title", card).click();
      return;
    }
    if (key.key !== "ArrowRight" && key.key !== "ArrowLeft") return;
    const here = ORDER.indexOf(card.dataset.status);
    const allowed = (workflow[card.dataset.status] || []).filter((to) =>
      key.key === "ArrowRight" ? ORDER.indexOf(to) > here : ORDER.indexOf(to) < here);
    key.preventDefault();
    if (allowed.length) move(card, allowed[0]);
    else announce(`#${card.dataset.ticketId} cannot move ${key.key === "ArrowRight" ? "right" : "left"}.`);
  });

  // Columns the server cut at its page size: the rest, a page at a time, from the API.
  async function showMore(button) {
    const status = button.dataset.status;
    const query = new URLSearchParams({ status, cursor: button.dataset.cursor });
    if (filters.category) query.set("category", filters.category);
    if (filters.assignee) query.set("assignee", filters.assignee);
    if (board.dataset.filterQ) query.set("q", board.dataset.filterQ);
    if (status === "closed") query.set("closed_after", board.dataset.closedAfter);
    button.disabled = true;
    const result = await api("GET", `/tickets?${query}`);
    button.disabled = false;
    if (!result.ok) {
      toast(`Could not show more tickets: ${sentence(result.error.detail)}`, { kind: "error" });
      return;
    }
    const added = [];
    for (const ticket of result.data.items) {
      if (cardFor(ticket.id) || !matches(ticket)) continue; // a live event has placed it already
      const card = buildCard(ticket);
      prepare(card);
      lists[status].append(card);
      added.push(card);
    }
    if (result.data.next_cursor) button.dataset.cursor = result.data.next_cursor;
    else {
      $("[data-count]", lists[status].closest(".column")).removeAttribute("data-more");
      button.remove();
      added[0]?.focus(); // the button is gone: keep the keyboard where the new cards are
    }
    recount();
    announce(`${added.length} more ${COLUMN_NAMES[status].toLowerCase()} tickets shown.`);
  }

  for (const button of $$(".show-more", board)) {
    button.hidden = false;
    button.addEventListener("click", () => showMore(button));
  }
  for (const card of $$(".card", board)) prepare(card);
  socket.join("board", Number(board.dataset.since));
}
