// The staff board, live: cards appear, move and change as events arrive; staff move them by
// dragging or from the keyboard, and a move made on a stale card shows the conflict.

import { api, sentence } from "./api.js";
import { $, $$, announce, el, priorityBadge } from "./dom.js";
import { categoryLabel, feedLine } from "./texts.js";
import { timeTag } from "./time.js";
import { toast } from "./toasts.js";

const ORDER = ["open", "active", "closed"];
const COLUMN_NAMES = { open: "Open", active: "Active", closed: "Closed" };
const URGENCY = { urgent: 3, high: 2, normal: 1, low: 0 };
const TICKET_NUMBER = /^#?\s*([0-9]{1,10})$/;

// The board's sorts, as the tickets API orders them (helpdesk/domain/tickets.py ORDERS): each a
// comparison of two cards' datasets, ending on the number so that no two cards tie.
function activity(card) {
  const { updatedAt, lastMessageAt } = card;
  return lastMessageAt && lastMessageAt > updatedAt ? lastMessageAt : updatedAt;
}
const SORTS = {
  newest: (a, b) => b.ticketId - a.ticketId,
  activity: (a, b) => (activity(a) === activity(b) ? b.ticketId - a.ticketId : (activity(a) < activity(b) ? 1 : -1)),
  waiting: (a, b) => a.ticketId - b.ticketId,
  priority: (a, b) => URGENCY[b.priority] - URGENCY[a.priority] || a.ticketId - b.ticketId,
};

export function startBoard(socket, me) {
  const board = $("#board");
  const workflow = JSON.parse(board.dataset.workflow);
  const filters = {
    category: board.dataset.filterCategory,
    assignee: board.dataset.filterAssignee,
    q: board.dataset.filterQ.toLowerCase(),
  };
  const comesBefore = SORTS[board.dataset.sort] || SORTS.newest;
  const lists = Object.fromEntries(ORDER.map((status) => [status, $(`ol.cards[data-status="${status}"]`, board)]));

  function matches(ticket) {
    if (filters.category && ticket.category !== filters.category) return false;
    if (filters.assignee === "none" && ticket.assignee) return false;
    if (filters.assignee && filters.assignee !== "none"
        && (!ticket.assignee || String(ticket.assignee.id) !== filters.assignee)) return false;
    if (filters.q) {
      // As the API searches: the number, or the text of the ticket and of its reporter's names.
      const number = TICKET_NUMBER.exec(filters.q.trim());
      if (number && Number(number[1]) === ticket.id) return true;
      const { reporter } = ticket;
      const text = [ticket.title, ticket.description, ticket.location, reporter?.display_name, reporter?.username]
        .filter(Boolean).join("\n").toLowerCase();
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
      dataset: {
        ticketId: ticket.id,
        version: ticket.version,
        status: ticket.status,
        priority: ticket.priority,
        createdAt: ticket.created_at,
        updatedAt: ticket.updated_at,
        lastMessageAt: ticket.last_message_at || "",
      },
    },
    el("a", { className: "card-title", href: `/tickets/${ticket.id}` }, ticket.title),
    el("p", { className: "card-meta" }, `#${ticket.id} · `,
      el("span", { className: "card-category" }, categoryLabel(ticket.category)),
      ticket.location ? [" · ", el("span", { className: "card-location" }, ticket.location)] : null,
      " ", priorityBadge(ticket.priority), filesCount(ticket.attachments)),
    el("p", { className: "card-meta" },
      el("span", { className: "card-assignee" }, ticket.assignee ? ticket.assignee.display_name : "Unassigned"),
      " · opened ", timeTag(ticket.created_at), " · ", lastReply),
    assignToMe(ticket));
  }

  // "📎 2": the report came with photos or PDFs.
  function filesCount(attachments) {
    const count = attachments?.length || 0;
    if (!count) return null;
    return [" ", el("span", { className: "card-files", title: `${count} attached to the report` },
      el("span", { "aria-hidden": "true" }, "📎"), ` ${count}`,
      el("span", { className: "visually-hidden" }, count === 1 ? " file" : " files"))];
  }

  // As the server renders it: a form that works without scripts, sent through the API here.
  function assignToMe(ticket) {
    if (ticket.status === "closed" || ticket.assignee?.id === me.id) return null;
    return el("form", { method: "post", action: `/tickets/${ticket.id}/assign`, className: "card-actions" },
      el("input", { type: "hidden", name: "assignee_id", value: me.id }),
      el("input", { type: "hidden", name: "version", value: ticket.version }),
      el("button", { type: "submit", className: "button small" }, "Assign to me"));
  }

  function prepare(card) {
    card.tabIndex = 0;
    card.draggable = true;
    card.setAttribute("aria-describedby", "board-help");
    card.setAttribute("aria-label", `${card.querySelector(".card-title").textContent}, ${card.dataset.status}`);
  }

  // The query of a column as the server rendered it: "Show more" and the counts ask for it.
  function columnQuery(status) {
    const query = new URLSearchParams({ status, sort: board.dataset.sort });
    if (filters.category) query.set("category", filters.category);
    if (filters.assignee) query.set("assignee", filters.assignee);
    if (board.dataset.filterQ) query.set("q", board.dataset.filterQ);
    if (status === "closed" && board.dataset.closedAfter) query.set("closed_after", board.dataset.closedAfter);
    return query;
  }

  // Columns hold more than they show, so their counts come from the database: asked again,
  // once, after a burst of changes.
  let recounting = null;
  function recount() {
    window.clearTimeout(recounting);
    recounting = window.setTimeout(async () => {
      const answers = await Promise.all(ORDER.map((status) => api("GET", `/tickets/count?${columnQuery(status)}`)));
      let total = 0;
      ORDER.forEach((status, index) => {
        if (!answers[index].ok) return;
        total += answers[index].data.count;
        $("[data-count]", lists[status].closest(".column")).textContent = String(answers[index].data.count);
      });
      const none = $("#no-matches");
      if (none && answers.every((answer) => answer.ok)) none.hidden = total > 0;
    }, 250);
  }

  // Where a card goes in its column's sort: before the first card it comes before. A card that
  // sorts past the last one shown, in a column with more to show, belongs to a later page.
  function insert(card, list) {
    const next = Array.from(list.children).find((other) => other !== card && comesBefore(card.dataset, other.dataset) < 0);
    if (next) list.insertBefore(card, next);
    else if (list.lastElementChild === card) return true; // still where the page ends
    else if ($(".show-more", list.closest(".column"))) {
      card.remove();
      return false;
    } else list.append(card);
    return true;
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
    else existing?.remove();
    if (!insert(card, target)) {
      recount();
      return null;
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
    if (!card) return;
    $(".card-reply", card).replaceChildren("last reply ", timeTag(message.created_at));
    card.dataset.lastMessageAt = message.created_at;
    const hadFocus = card.contains(document.activeElement);
    insert(card, card.parentElement);
    if (hadFocus) card.focus();
  }

  socket.on("event", (frame) => {
    if (frame.room !== "board") return;
    if (frame.kind === "message.created") touchReply(frame.data);
    else if (frame.kind.startsWith("ticket.")) {
      const hadCard = cardFor(frame.data.id) !== null;
      const card = place(frame.data, { flash: true });
      if (card && frame.kind === "ticket.created" && !hadCard) announce(feedLine(frame.kind, frame.data));
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
    } else refused(ticketId, result, "move", "move");
  }

  // A change the server did not make: a stale card shows what changed meanwhile.
  function refused(ticketId, result, verb, noun) {
    const current = result.data && result.data.ticket;
    if (result.error.code === "version_conflict" && current) {
      const fresh = place(current);
      fresh?.classList.add("conflict");
      fresh?.focus();
      const text = `#${ticketId} changed meanwhile: it is now ${current.status}` +
        `${current.assignee ? ` with ${current.assignee.display_name}` : ""}. Your ${noun} was not made.`;
      toast(text, { kind: "error", href: `/tickets/${ticketId}` });
      announce(text);
    } else {
      toast(`Could not ${verb} #${ticketId}: ${sentence(result.error.detail)}`, { kind: "error" });
    }
  }

  board.addEventListener("submit", async (submit) => {
    const card = submit.target.closest(".card");
    if (!card || !submit.target.matches(".card-actions")) return;
    submit.preventDefault();
    const ticketId = Number(card.dataset.ticketId);
    const button = $("button", submit.target);
    button.disabled = true;
    const result = await api("POST", `/tickets/${ticketId}/assign`, { assignee_id: me.id, version: Number(card.dataset.version) });
    button.disabled = false;
    if (result.ok) {
      place(result.data)?.focus();
      announce(`#${ticketId} is assigned to you.`);
    } else refused(ticketId, result, "assign", "assignment");
  });

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
    const query = columnQuery(status);
    query.set("cursor", button.dataset.cursor);
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
      button.remove();
      added[0]?.focus(); // the button is gone: keep the keyboard where the new cards are
    }
    announce(`${added.length} more ${COLUMN_NAMES[status].toLowerCase()} tickets shown.`);
  }

  for (const button of $$(".show-more", board)) {
    button.hidden = false;
    button.addEventListener("click", () => showMore(button));
  }
  for (const card of $$(".card", board)) prepare(card);
  socket.join("board", Number(board.dataset.since));
}
