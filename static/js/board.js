// The staff board, live: cards appear, move and change as events arrive; staff move them by
// dragging or from the keyboard, and a move made on a stale card shows the conflict.
//
// A column holds a page of cards at a time (the server's first, then "Show more"), however many
// tickets match, so that thousands of open tickets stay quick to draw. A live event costs about
// the same however many cards are shown: cards are found by number in an index, and a card's
// place by bisection of its column's cards, kept in an array in their order (indexing the list's
// live `children` after a change walks the list again).

import { api, sentence } from "./api.js";
import { startBulk } from "./board_bulk.js";
import { duplicatesHint } from "./board_duplicates.js";
import { $, $$, announce, el, priorityBadge } from "./dom.js";
import { startSavedFilters } from "./saved_filters.js";
import { categoryLabel, feedLine } from "./texts.js";
import { timeTag } from "./time.js";
import { toast } from "./toasts.js";

const ORDER = ["open", "active", "closed"];
const COLUMN_NAMES = { open: "Open", active: "Active", closed: "Closed" };
const URGENCY = { urgent: 3, high: 2, normal: 1, low: 0 };
const TICKET_NUMBER = /^#?\s*([0-9]{1,10})$/;
// Events that change what a card shows without a new version of the ticket.
const UNVERSIONED = new Set(["ticket.published", "ticket.withdrawn"]);

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
  const issuePath = board.dataset.issuePath;
  const filters = {
    category: board.dataset.filterCategory,
    assignee: board.dataset.filterAssignee,
    q: board.dataset.filterQ.toLowerCase(),
  };
  const comesBefore = SORTS[board.dataset.sort] || SORTS.newest;
  const columns = Object.fromEntries(ORDER.map((status) => {
    const list = $(`ol.cards[data-status="${status}"]`, board);
    return [status, { list, cards: Array.from(list.children), more: $(`.show-more[data-status="${status}"]`, board) }];
  }));
  const cards = new Map(); // ticket id -> its card, for every card on the board
  const bulk = startBulk({ me, cardFor, place });
  const hints = duplicatesHint({ bulk });

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
    return cards.get(Number(ticketId)) || null;
  }

  function columnOf(card) {
    return card.parentElement ? columns[card.parentElement.dataset.status] : null;
  }

  function detach(card) {
    const column = columnOf(card);
    const at = column ? column.cards.indexOf(card) : -1;
    if (at >= 0) column.cards.splice(at, 1);
    card.remove();
  }

  function forget(card) {
    if (cards.get(Number(card.dataset.ticketId)) === card) cards.delete(Number(card.dataset.ticketId));
    detach(card);
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
    knownIssueLine(ticket),
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

  // A published ticket counts who is affected; a merged one says where it went.
  function knownIssueLine(ticket) {
    if (ticket.known_issue_id) {
      return el("p", { className: "card-known" }, `Known issue #${ticket.known_issue_id} · `,
        el("span", { className: "card-affected" }, `${ticket.affected_count} affected`));
    }
    if (!ticket.merged_into) return null;
    const name = `known issue #${ticket.merged_into}`;
    return el("p", { className: "card-merged" }, "duplicate of ",
      issuePath ? el("a", { href: `${issuePath}${ticket.merged_into}` }, name) : name);
  }

  // As the server renders it: a form that works without scripts, sent through the API here.
  function assignToMe(ticket) {
    if (ticket.status === "closed" || ticket.assignee?.id === me.id) return null;
    return el("form", { method: "post", action: `/tickets/${ticket.id}/assign`, className: "card-actions" },
      el("input", { type: "hidden", name: "assignee_id", value: me.id }),
      el("input", { type: "hidden", name: "version", value: ticket.version }),
      el("button", { type: "submit", className: "button small" }, "Assign to me"));
  }

  // What scripts add to every card, rendered or built here: keyboard and dragging, the box
  // that selects it, and the hint of possible duplicates.
  function prepare(card) {
    const title = $(".card-title", card).textContent;
    card.tabIndex = 0;
    card.draggable = true;
    card.setAttribute("aria-describedby", "board-help");
    card.setAttribute("aria-label", `${title}, ${card.dataset.status}`);
    bulk.addBox(card, title);
    hints.addTo(card);
    cards.set(Number(card.dataset.ticketId), card);
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

  // Columns hold more than they show, so their counts come from the database: asked at most
  // every quarter second however many changes arrive (a busy board never stops counting), and
  // only the newest answer shown.
  let recounting = null;
  let asked = 0;
  function recount() {
    if (recounting !== null) return;
    recounting = window.setTimeout(async () => {
      recounting = null;
      const mine = ++asked;
      const answers = await Promise.all(ORDER.map((status) => api("GET", `/tickets/count?${columnQuery(status)}`)));
      if (mine !== asked) return;
      let total = 0;
      ORDER.forEach((status, index) => {
        if (!answers[index].ok) return;
        total += answers[index].data.count;
        $("[data-count]", columns[status].list.closest(".column")).textContent = String(answers[index].data.count);
      });
      const none = $("#no-matches");
      if (none && answers.every((answer) => answer.ok)) none.hidden = total > 0;
    }, 250);
  }

  // Where `card` goes among a column's cards: the index of the first one it comes before.
  function slotOf(card, column) {
    const shown = column.cards;
    let low = 0;
    let high = shown.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (comesBefore(card.dataset, shown[middle].dataset) < 0) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  // A card into its column's sort. One that sorts past the last card shown, in a column with
  // more to show, belongs to a later page: it leaves the board until that page is shown (unless
  // it was that last card already).
  function insert(card, column, keepAtEnd = false) {
    detach(card);
    const at = slotOf(card, column);
    if (at === column.cards.length && !keepAtEnd && column.more) {
      cards.delete(Number(card.dataset.ticketId));
      return false;
    }
    column.list.insertBefore(card, column.cards[at] || null);
    column.cards.splice(at, 0, card);
    return true;
  }

  function place(ticket, { flash = false, sameVersion = false } = {}) {
    const existing = cardFor(ticket.id);
    // Events and API answers both report changes: whichever comes second is already shown.
    if (existing) {
      const shown = Number(existing.dataset.version);
      if (shown > ticket.version || (shown === ticket.version && !sameVersion)) return existing;
    }
    const hadFocus = existing !== null && existing.contains(document.activeElement);
    if (!matches(ticket)) {
      if (existing) forget(existing);
      recount();
      return null;
    }
    const card = buildCard(ticket);
    prepare(card);
    const column = columns[ticket.status];
    const keepAtEnd = existing !== null && column.cards.at(-1) === existing;
    if (existing) detach(existing);
    if (!insert(card, column, keepAtEnd)) {
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
    const column = columnOf(card);
    if (insert(card, column, column.cards.at(-1) === card) && hadFocus) card.focus();
  }

  // "ticket.affected" carries the count alone: the card keeps everything else.
  function showAffected({ id, affected_count: count }) {
    const shown = cardFor(id)?.querySelector(".card-affected");
    if (shown) shown.textContent = `${count} affected`;
  }

  socket.on("event", (frame) => {
    if (frame.room !== "board") return;
    const { kind, data } = frame;
    if (kind === "message.created") touchReply(data);
    else if (kind === "ticket.affected") showAffected(data);
    else if (kind.startsWith("ticket.")) {
      const hadCard = cardFor(data.id) !== null;
      const card = place(data, { flash: true, sameVersion: UNVERSIONED.has(kind) });
      if (card && kind === "ticket.created" && !hadCard) announce(feedLine(kind, data));
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

  // The keyboard: arrows move a focused card to the next column the workflow allows that way;
  // Space selects it for the actions on many.
  board.addEventListener("keydown", (key) => {
    const card = key.target.closest?.(".card");
    if (!card || key.target !== card) return;
    if (key.key === "Enter") {
      $(".card-title", card).click();
      return;
    }
    if (key.key === " ") {
      key.preventDefault();
      bulk.toggle(card);
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
      added.push(card);
    }
    const column = columns[status];
    column.list.append(...added);
    column.cards.push(...added);
    if (result.data.next_cursor) button.dataset.cursor = result.data.next_cursor;
    else {
      button.remove();
      column.more = null;
      added[0]?.focus(); // the button is gone: keep the keyboard where the new cards are
    }
    announce(`${added.length} more ${COLUMN_NAMES[status].toLowerCase()} tickets shown.`);
  }

  for (const button of $$(".show-more", board)) {
    button.hidden = false;
    button.addEventListener("click", () => showMore(button));
  }
  for (const card of $$(".card", board)) prepare(card);
  startSavedFilters();
  socket.join("board", Number(board.dataset.since));
}
