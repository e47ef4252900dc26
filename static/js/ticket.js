// The ticket page, live: the conversation with typing, presence and "seen"; status, assignment
// and edits through the API with the version the page holds; every change from others applied.

import { api, sentence } from "./api.js";
import { attachTray, describeSize } from "./attach.js";
import { $, $$, announce, el, linkify, priorityBadge, statusBadge } from "./dom.js";
import { linkIssues, startKnownIssuePanel } from "./known_issue_panel.js";
import { categoryLabel } from "./texts.js";
import { timeTag } from "./time.js";
import { toast } from "./toasts.js";

const TYPING_EVERY_MS = 2500;
const TYPING_SHOWN_MS = 4000;
const EARLIER_PAGE = 50;
const CHANGE_VERBS = { active: "started work on this ticket", closed: "closed this ticket", open: "moved this ticket back to open" };
const MOVE_LABELS = { active: "Start work", closed: "Close ticket", open: "Back to open" };
// The largest side a thumbnail is shown at, as templates/macros.html attachment_list has it.
const THUMBNAIL_BOX = 240;

// A message's files as the server renders them: photos as thumbnails opening the full image,
// PDFs by name and size.
function attachmentList(attachments) {
  if (!attachments?.length) return null;
  return el("ul", { className: "attachments" }, attachments.map((file) => {
    if (!file.thumbnail_url) {
      return el("li", { className: "attachment" },
        el("a", { className: "attachment-file", href: file.url }, el("span", { className: "attachment-kind", "aria-hidden": "true" }, "PDF"), ` ${file.filename}`),
        " ", el("span", { className: "attachment-size" }, describeSize(file.size)));
    }
    const scale = file.width && file.height ? Math.min(1, THUMBNAIL_BOX / Math.max(file.width, file.height)) : null;
    const image = el("img", {
      src: file.thumbnail_url,
      alt: file.filename,
      width: scale && Math.round(file.width * scale),
      height: scale && Math.round(file.height * scale),
      loading: "lazy",
    });
    return el("li", { className: "attachment" },
      el("a", { className: "attachment-thumb", href: file.url, target: "_blank", rel: "noopener" }, image));
  }));
}

// "the title, the category and the location": the fields an edit changed.
function editedFields(changes) {
  const names = changes.map((change) => `the ${change.field}`);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0];
}

// Each field's old and new value; the description, whose text is not kept, has none.
function fieldChanges(changes, className) {
  const shown = (change, value) => (value === null ? "none" : change.field === "category" ? categoryLabel(value) : value);
  return changes.filter((change) => "from" in change).map((change) => el("p", { className },
    `${change.field[0].toUpperCase()}${change.field.slice(1)}: ${shown(change, change.from)} → ${shown(change, change.to)}`));
}

export function startTicketPage(socket, me) {
  const page = $("#ticket");
  const ticketId = Number(page.dataset.ticketId);
  const room = `ticket:${ticketId}`;
  const workflow = JSON.parse(page.dataset.workflow);
  const list = $("#messages");
  const replyForm = $("#reply-form");
  const state = { version: Number(page.dataset.version), status: page.dataset.status, reporterId: Number(page.dataset.reporterId) };
  const markers = new Map(); // user id -> {user, message_id}
  const typists = new Map(); // user id -> timer
  let lastRead = 0;
  let lastTypingSent = 0;
  let baseTitle = document.title;
  let unseen = 0; // replies that arrived while the tab was in the background
  const issuePath = page.dataset.issuePath;
  for (const text of $$("[data-linkify]", page)) text.replaceChildren(linkify(text.textContent));
  for (const note of $$(".event-note", page)) linkIssues(note, issuePath);

  // --- the conversation -------------------------------------------------------------------

  function messageNode(message, { pending = false } = {}) {
    const classes = ["message"];
    if (message.author.id === me.id) classes.push("mine");
    if (message.internal) classes.push("internal");
    if (message.author.role !== "user") classes.push("from-staff");
    if (pending) classes.push("pending");
    const head = el("p", { className: "message-head" },
      el("span", { className: "author" }, message.author.display_name),
      message.author.role !== "user" ? el("span", { className: "badge" }, "helpdesk") : null,
      message.internal ? el("span", { className: "badge internal-badge" }, "internal note") : null,
      message.created_at ? timeTag(message.created_at) : el("span", { className: "message-state" }, "Sending…"));
    return el("li", {
      className: classes.join(" "),
      dataset: { messageId: message.id ?? "", authorId: message.author.id, clientId: message.client_id ?? "" },
    }, head,
    message.body ? el("p", { className: "message-body prewrap" }, linkify(message.body)) : null,
    attachmentList(message.attachments));
  }

  // A move along the workflow or an edit of the details, shown where it happened.
  function changeNode(change) {
    const edit = change.kind === "edit";
    const verb = edit ? `changed ${editedFields(change.changes)}`
      : change.from === "closed" ? "reopened this ticket" : CHANGE_VERBS[change.to];
    const note = change.note ? el("p", { className: "event-note prewrap" }, linkify(change.note)) : null;
    linkIssues(note, issuePath);
    return el("li", { className: "conversation-event", dataset: { changeId: change.id ? `${change.kind}-${change.id}` : "" } },
      el("p", { className: "event-head" },
        el("span", { className: "author" }, change.actor.display_name), ` ${verb} `, timeTag(change.at)),
      edit ? fieldChanges(change.changes, "event-note") : null,
      note);
  }

  function addChange(change) {
    if (list.hasAttribute("data-windowed")) return;
    const following = atLatest();
    list.append(changeNode(change));
    if (following) showLatest();
  }

  // The changes made among earlier messages just shown (the history is short: one read).
  let history = null;
  async function changesBetween(start, end) {
    if (history === null) {
      const result = await api("GET", `/tickets/${ticketId}/history`);
      if (!result.ok) return [];
      history = result.data.items;
    }
    return history.filter((change) => {
      const at = Date.parse(change.at);
      return (start === null || at >= start) && at < end && !list.querySelector(`[data-change-id="${change.kind}-${change.id}"]`);
    });
  }

  function findMessage(message) {
    const byId = message.id ? list.querySelector(`[data-message-id="${message.id}"]`) : null;
    if (byId) return byId;
    return message.client_id ? list.querySelector(`[data-client-id="${CSS.escape(message.client_id)}"]`) : null;
  }

  // The end of the conversation (the newest message and the reply box) in view.
  function showLatest() {
    $("#conversation").scrollIntoView({ block: "end" });
  }

  function atLatest() {
    return $("#conversation").getBoundingClientRect().bottom <= window.innerHeight + 80;
  }

  function addMessage(message) {
    // A page of earlier messages (?before=) is not where the conversation goes on.
    if (list.hasAttribute("data-windowed")) return null;
    $("#no-messages")?.remove();
    const existing = findMessage(message);
    const node = messageNode(message);
    const following = atLatest();
    if (existing) existing.replaceWith(node);
    else list.append(node);
    if (!existing && message.author.id !== me.id && document.visibilityState !== "visible") {
      unseen += 1;
      renderTitle();
    }
    if (following) showLatest();
    if (message.author.id !== me.id) {
      clearTyping(message.author.id);
      markRead();
    }
    renderSeen();
    return node;
  }

  const earlierLink = $("#show-earlier");
  let loadingEarlier = false;
  earlierLink?.addEventListener("click", async (click) => {
    click.preventDefault();
    if (loadingEarlier) return;
    loadingEarlier = true;
    try {
      await showEarlier();
    } finally {
      loadingEarlier = false;
    }
  });

  async function showEarlier() {
    const before = Number(earlierLink.dataset.before);
    const result = await api("GET", `/tickets/${ticketId}/messages?before=${before}&limit=${EARLIER_PAGE}`);
    if (!result.ok) {
      toast(`Could not load earlier messages. ${sentence(result.error.detail)}`, { kind: "error" });
      return;
    }
    const items = result.data.items;
    const shownFrom = list.querySelector("time[datetime]");
    const start = items.length && result.data.has_more ? Date.parse(items[0].created_at) : null;
    const end = shownFrom ? Date.parse(shownFrom.dateTime) : Infinity;
    const changes = await changesBetween(start, end);
    const dated = [
      ...items.filter((message) => !findMessage(message)).map((message) => [message.created_at, messageNode(message)]),
      ...changes.map((change) => [change.at, changeNode(change)]),
    ].sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]));
    const nodes = dated.map(([, node]) => node);
    // Keep what the reader was looking at where it was, as the earlier messages go in above it.
    const anchor = list.firstElementChild;
    const top = anchor ? anchor.getBoundingClientRect().top : 0;
    // Read out as one sentence below, not as fifty new messages.
    list.setAttribute("aria-live", "off");
    list.prepend(...nodes);
    window.requestAnimationFrame(() => list.setAttribute("aria-live", "polite"));
    if (anchor) window.scrollBy(0, anchor.getBoundingClientRect().top - top);
    if (items.length) earlierLink.dataset.before = items[0].id;
    if (!result.data.has_more) {
      earlierLink.closest(".show-earlier").remove();
      list.prepend(el("li", { className: "empty conversation-start" }, "This is where the conversation began."));
    }
    announce(`${items.length} earlier messages shown.`);
  }

  function lastMessageId(filter = () => true) {
    const ids = $$("[data-message-id]", list)
      .filter(filter)
      .map((node) => Number(node.dataset.messageId))
      .filter((id) => id > 0);
    return ids.length ? Math.max(...ids) : 0;
  }

  function markRead() {
    if (document.visibilityState !== "visible") return;
    const newest = lastMessageId();
    if (newest > lastRead) {
      lastRead = newest;
      socket.markRead(room, newest);
    }
  }

  function renderSeen() {
    const mineId = lastMessageId((node) => Number(node.dataset.authorId) === me.id);
    const readers = [...markers.values()]
      .filter((marker) => marker.user.id !== me.id && marker.message_id >= mineId && mineId > 0)
      .map((marker) => marker.user.display_name);
    $("#seen").textContent = readers.length ? `Seen by ${readers.join(", ")}` : "";
  }

  function renderTitle() {
    document.title = unseen ? `(${unseen}) ${baseTitle}` : baseTitle;
  }

  function clearTyping(userId) {
    window.clearTimeout(typists.get(userId)?.timer);
    typists.delete(userId);
    renderTyping();
  }

  function renderTyping() {
    const entries = [...typists.values()];
    $("#typing").textContent = entries.length
      ? entries.map((entry) => `${entry.name} is ${entry.internal ? "writing an internal note" : "typing"}…`).join(" ")
      : "";
  }

  if (replyForm) {
    const textarea = $("#body", replyForm);
    const internalBox = $("#internal", replyForm);
    const tray = attachTray(replyForm, `/api/v1/tickets/${ticketId}/attachments`);
    replyForm.addEventListener("submit", (submit) => {
      submit.preventDefault();
      const body = textarea.value.trim();
      clearFieldError(replyForm, "body");
      if (tray.busy) { // the button waits for the uploads; so does Ctrl+Enter
        announce("Wait until the files have uploaded, then send.");
        return;
      }
      const attachmentIds = tray.ids();
      if (!body && !attachmentIds.length) {
        showFieldError(replyForm, "body", "Write a message or attach a file.");
        return;
      }
      if (body.length > 5000) {
        showFieldError(replyForm, "body", "Keep it to 5000 characters or fewer.");
        return;
      }
      const internal = Boolean(internalBox && internalBox.checked);
      const clientId = socket.say(room, body, internal, attachmentIds);
      const pendingNode = messageNode({
        id: null,
        client_id: clientId,
        author: { id: me.id, display_name: me.name, role: me.role },
        body,
        internal,
        attachments: tray.attachments(),
      }, { pending: true });
      $("#no-messages")?.remove();
      list.append(pendingNode);
      if (!socket.isOpen) $(".message-state", pendingNode).textContent = "Waiting for the connection…";
      textarea.value = "";
      tray.clear();
      if (internalBox) internalBox.checked = false; // the next one is a reply again, unless chosen
      textarea.focus();
    });
    textarea.addEventListener("input", () => {
      const now = Date.now();
      if (textarea.value.trim() && now - lastTypingSent > TYPING_EVERY_MS) {
        lastTypingSent = now;
        socket.typing(room, Boolean(internalBox && internalBox.checked));
      }
    });
    textarea.addEventListener("keydown", (key) => {
      if (key.key === "Enter" && (key.ctrlKey || key.metaKey)) replyForm.requestSubmit();
    });
  }

  socket.on("ack", (ack) => {
    const node = list.querySelector(`[data-client-id="${CSS.escape(ack.client_id || "")}"]`);
    if (node && !node.dataset.messageId) {
      node.dataset.messageId = ack.message_id;
      node.classList.remove("pending");
      const stateNode = $(".message-state", node);
      if (stateNode) stateNode.replaceWith(timeTag(new Date().toISOString()));
    }
  });

  socket.on("error", (error) => {
    if (!error.client_id) return;
    const node = list.querySelector(`[data-client-id="${CSS.escape(error.client_id)}"]`);
    if (!node || socket.pending.has(error.client_id)) return;
    node.classList.add("failed");
    const stateNode = $(".message-state", node) || node.querySelector("time");
    const text = `Not sent: ${sentence(error.detail)}`;
    if (stateNode) stateNode.replaceWith(el("span", { className: "message-state", role: "alert" }, text));
  });

  socket.on("open", () => {
    for (const node of $$(".message.pending .message-state", list)) node.textContent = "Sending…";
  });

  socket.on("typing", (frame) => {
    if (frame.room !== room || frame.user.id === me.id) return;
    window.clearTimeout(typists.get(frame.user.id)?.timer);
    const timer = window.setTimeout(() => clearTyping(frame.user.id), TYPING_SHOWN_MS);
    typists.set(frame.user.id, { name: frame.user.display_name, internal: frame.internal, timer });
    renderTyping();
  });

  socket.on("presence", (frame) => {
    if (frame.room !== room) return;
    const names = frame.viewers.map((viewer) => (viewer.id === me.id ? "you" : viewer.display_name));
    $("#viewers").textContent = names.length > 1 ? `Viewing now: ${names.join(", ")}` : "";
  });

  socket.on("reads", (frame) => {
    if (frame.room !== room) return;
    markers.clear();
    for (const marker of frame.markers) markers.set(marker.user.id, marker);
    renderSeen();
    markRead();
  });

  socket.on("read", (frame) => {
    if (frame.room !== room) return;
    markers.set(frame.user.id, frame);
    renderSeen();
  });

  // --- the ticket itself ------------------------------------------------------------------

  function applyTicket(ticket) {
    if (ticket.version < state.version) return;
    state.version = ticket.version;
    state.status = ticket.status;
    page.dataset.version = ticket.version;
    page.dataset.status = ticket.status;
    baseTitle = `#${ticket.id} ${ticket.title} · Campus Helpdesk`;
    renderTitle();
    $("#ticket-title").textContent = ticket.title;
    $("#ticket-description").replaceChildren(linkify(ticket.description));
    $("#ticket-status").replaceChildren(statusBadge(ticket.status));
    $("#ticket-priority").replaceChildren(priorityBadge(ticket.priority) || "");
    $("#ticket-category").textContent = categoryLabel(ticket.category);
    $("#ticket-location").textContent = ticket.location || "";
    $("#ticket-where").hidden = !ticket.location;
    $("#ticket-assignee").textContent = ticket.assignee
      ? `assigned to ${ticket.assignee.display_name}` : "not assigned yet";
    for (const input of $$('input[name="version"]', page)) input.value = ticket.version;
    const assignee = $("#assignee_id");
    if (assignee) assignee.value = ticket.assignee ? String(ticket.assignee.id) : "";
    const assignMe = $("#assign-me-form");
    if (assignMe) assignMe.hidden = ticket.assignee?.id === me.id;
    renderMoves();
    const closedForMe = me.role === "user" && ticket.status === "closed";
    if (replyForm) replyForm.hidden = closedForMe;
    const closedNotice = $("#closed-notice");
    if (closedNotice) closedNotice.hidden = !closedForMe;
    $("#edit-details").closest(".panel").hidden = closedForMe;
    if (ticket.merged_into) showMerged(ticket.merged_into);
  }

  // Closed as a duplicate: where its reporter follows the news from now on.
  function showMerged(issueId) {
    if ($("#merged-notice", page)) return;
    const name = `known issue #${issueId}`;
    $(".ticket-head", page).append(el("p", { className: "notice merged-notice", id: "merged-notice" },
      "Closed as a duplicate of ", issuePath ? el("a", { href: `${issuePath}${issueId}` }, name) : name,
      issuePath ? ". News about it is posted there." : "."));
  }

  function renderMoves() {
    const form = $("#status-form");
    if (!form) return;
    const row = $(".button-row", form);
    const moves = workflow[state.status] || [];
    row.replaceChildren(...moves.map((move, index) => el("button", {
      type: "submit", name: "status", value: move, className: index === 0 ? "button primary" : "button",
    }, state.status === "closed" && move === "active" ? "Reopen" : MOVE_LABELS[move])));
    form.closest(".panel").hidden = moves.length === 0;
  }

  function appendHistory(change) {
    const edit = change.kind === "edit";
    const item = el("li", {},
      el("span", { className: "timeline-what" }, edit ? `Changed ${editedFields(change.changes)}` : `${change.from} → ${change.to}`),
      ` by ${change.actor.display_name} `, timeTag(change.at),
      edit ? fieldChanges(change.changes, "timeline-note") : null,
      change.note ? el("p", { className: "timeline-note prewrap" }, change.note) : null);
    linkIssues($(".timeline-note", item), issuePath);
    $("#history").append(item);
  }

  // A change from the socket, as the history would list it.
  function changeFrom(frame) {
    return { ...frame.data, kind: frame.kind === "ticket.updated" ? "edit" : "status", id: null, at: frame.data.updated_at };
  }

  socket.on("event", (frame) => {
    if (frame.room !== room) return;
    if (frame.kind === "message.created") addMessage(frame.data);
    else if (["ticket.updated", "ticket.assigned", "ticket.status_changed"].includes(frame.kind)) {
      applyTicket(frame.data);
      if (frame.kind === "ticket.status_changed") announce(`This ticket is now ${frame.data.to}.`);
      if (frame.kind !== "ticket.assigned") {
        appendHistory(changeFrom(frame));
        addChange(changeFrom(frame));
      }
    }
  });

  socket.on("joined", (frame) => {
    if (frame.room === room && frame.reset) window.location.reload();
  });

  async function conflictOr(result, form) {
    if (result.ok) {
      applyTicket(result.data);
      return true;
    }
    if (result.error.code === "version_conflict" && result.data.ticket) {
      applyTicket(result.data.ticket);
      showFormError(form, "Someone else changed this ticket meanwhile. It now shows their change; try again if still needed.");
    } else {
      showFormError(form, sentence(result.error.detail), result.error.field);
    }
    return false;
  }

  $("#status-form")?.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const form = submit.currentTarget;
    const target = submit.submitter ? submit.submitter.value : null;
    if (!target) return;
    clearFormError(form);
    const note = $("#note", form).value.trim();
    const result = await api("POST", `/tickets/${ticketId}/status`, { status: target, note: note || null, version: state.version });
    if (await conflictOr(result, form)) {
      $("#note", form).value = "";
      announce(`Moved to ${target}.`);
    }
  });

  $("#assign-form")?.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const form = submit.currentTarget;
    clearFormError(form);
    const value = $("#assignee_id", form).value;
    const result = await api("POST", `/tickets/${ticketId}/assign`, { assignee_id: value ? Number(value) : null, version: state.version });
    if (await conflictOr(result, form)) announce("Assignment saved.");
  });

  $("#assign-me-form")?.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const form = submit.currentTarget;
    clearFormError(form);
    const result = await api("POST", `/tickets/${ticketId}/assign`, { assignee_id: me.id, version: state.version });
    if (await conflictOr(result, form)) {
      $("#assignee_id").focus(); // the button is gone: the picker is where a change of mind goes
      announce("Assigned to you.");
    }
  });

  $("#edit-form")?.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const form = submit.currentTarget;
    clearFormError(form);
    for (const name of ["title", "description", "category", "location", "priority"]) clearFieldError(form, name);
    const fields = new FormData(form);
    const changes = {
      title: String(fields.get("title") || ""),
      description: String(fields.get("description") || ""),
      category: fields.get("category") || undefined,
      location: String(fields.get("location") || "").trim() || null,
      version: state.version,
    };
    if (fields.has("priority")) changes.priority = fields.get("priority");
    const result = await api("PATCH", `/tickets/${ticketId}`, changes);
    if (await conflictOr(result, form)) {
      $("#edit-details").open = false;
      toast("Changes saved.", { timeout: 3000 });
    }
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible") return;
    unseen = 0;
    renderTitle();
    markRead();
  });
  if (me.role !== "user" && $("#known-issue", page)) startKnownIssuePanel({ socket, page, ticketId, applyTicket });
  if (!window.location.hash || window.location.hash === "#latest") showLatest();
  socket.join(room, Number(page.dataset.since));
}

// --- inline errors, shared with the report form ---------------------------------------------

export function showFieldError(form, name, text) {
  const input = form.querySelector(`[name="${name}"]`);
  const field = input ? input.closest(".field") : null;
  if (!field) {
    showFormError(form, text);
    return;
  }
  field.classList.add("has-error");
  const message = el("p", { className: "field-error", id: `${name}-error` }, text);
  field.append(message);
  for (const control of field.querySelectorAll("input, textarea, select")) {
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", message.id);
  }
  input.focus();
}

export function clearFieldError(form, name) {
  const input = form.querySelector(`[name="${name}"]`);
  const field = input ? input.closest(".field") : null;
  if (!field) return;
  field.classList.remove("has-error");
  field.querySelector(".field-error")?.remove();
  for (const control of field.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
}

export function showFormError(form, text, fieldName = null) {
  if (fieldName && form.querySelector(`[name="${fieldName}"]`)) {
    showFieldError(form, fieldName, text);
    return;
  }
  clearFormError(form);
  form.prepend(el("div", { className: "alert error", role: "alert", dataset: { formError: "" } }, text));
}

export function clearFormError(form) {
  form.querySelector("[data-form-error]")?.remove();
}
