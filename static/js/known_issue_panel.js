// Staff's known-issue panel on the ticket page: publish, post updates, withdraw, close as a
// duplicate, through the API; the affected count, updates and merged duplicates live. The panel's
// markup is the server's (templates/tickets/_known_issue.html): after a change of state it is
// taken again from the page rather than drawn a second time here.

import { api, sentence } from "./api.js";
import { $, announce, el } from "./dom.js";
import { timeTag } from "./time.js";
import { clearFieldError, clearFormError, showFormError } from "./ticket.js";

const ISSUES_ROOM = "known-issues";
const ISSUE_REFERENCE = /\bknown issue #([0-9]{1,10})\b/g;

// "known issue #12" in a note (a merge writes it so) becomes a link to that issue's page, where
// the app serves one (`path` is then its prefix, "/known-issues/").
export function linkIssues(node, path) {
  if (!path || !node) return;
  const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) if (!walker.currentNode.parentElement.closest("a")) texts.push(walker.currentNode);
  for (const text of texts) {
    const value = text.nodeValue;
    const parts = [];
    let done = 0;
    for (const match of value.matchAll(ISSUE_REFERENCE)) {
      const at = match.index + match[0].indexOf("#");
      parts.push(value.slice(done, at), el("a", { href: `${path}${match[1]}` }, `#${match[1]}`));
      done = at + match[1].length + 1;
    }
    if (!parts.length) continue;
    parts.push(value.slice(done));
    text.replaceWith(...parts);
  }
}

export function startKnownIssuePanel({ socket, page, ticketId, applyTicket }) {
  const side = $(".ticket-side", page);
  const path = page.dataset.issuePath;
  let joinedIssues = false;

  const panel = () => $("#known-issue", page);
  const issueId = () => Number(panel()?.dataset.knownIssueId) || null;

  // The live room of every known issue's public news: its affected counts come from there.
  function followIssues() {
    if (issueId() && !joinedIssues) {
      socket.join(ISSUES_ROOM);
      joinedIssues = true;
    } else if (!issueId() && joinedIssues) {
      socket.leave(ISSUES_ROOM);
      joinedIssues = false;
    }
  }

  // The panel (and the header's "closed as a duplicate" line) as the server renders them now.
  async function refresh() {
    let html;
    try {
      const response = await fetch(`/tickets/${ticketId}`, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      html = await response.text();
    } catch {
      return; // offline: the socket's reconnect brings the next change
    }
    const fresh = new DOMParser().parseFromString(html, "text/html");
    const hadFocus = panel()?.contains(document.activeElement);
    const next = fresh.getElementById("known-issue");
    if (next && panel()) panel().replaceWith(document.adoptNode(next));
    const notice = fresh.getElementById("merged-notice");
    if (notice && !$("#merged-notice", page)) $(".ticket-head", page).append(document.adoptNode(notice));
    if (hadFocus) focusHeading();
    followIssues();
  }

  function focusHeading() {
    const heading = $("#known-issue-heading", page);
    heading.tabIndex = -1;
    heading.focus();
  }

  function showCount(count) {
    const shown = $("#affected-count", page);
    if (shown && shown.textContent !== String(count)) shown.textContent = String(count);
  }

  function addUpdate(update) {
    const list = $("#issue-updates", page);
    if (!list) return;
    const seen = [...list.children].some((item) => item.dataset.at === update.at && $("p", item)?.textContent === update.body);
    if (seen) return;
    $("#no-updates", page)?.remove();
    list.append(el("li", { dataset: { at: update.at } }, el("p", { className: "prewrap" }, update.body), " ", timeTag(update.at)));
  }

  function addMerged(duplicate) {
    const history = $("#history", page);
    if (!history || $(`[data-merged-ticket="${duplicate.id}"]`, history)) return;
    history.append(el("li", { className: "timeline-merge", dataset: { mergedTicket: duplicate.id } },
      el("span", { className: "timeline-what merged-what" },
        el("a", { href: `/tickets/${duplicate.id}` }, `#${duplicate.id}`), " was merged into this"),
      " ", timeTag(duplicate.closed_at || duplicate.updated_at)));
    announce(`#${duplicate.id} was merged into this known issue.`);
  }

  // --- the forms, through the API ---------------------------------------------------------

  function fieldsOf(form) {
    return Object.fromEntries([...new FormData(form)].map(([name, value]) => [name, String(value).trim()]));
  }

  function refused(form, result, fields = {}) {
    // The API names its fields as the page's forms do, save these two.
    const field = result.error.field && (fields[result.error.field] || result.error.field);
    showFormError(form, sentence(result.error.detail), field);
  }

  const handlers = {
    async "publish-form"(form) {
      const { public_title: title, public_note: note } = fieldsOf(form);
      const result = await api("POST", `/tickets/${ticketId}/known-issue`, { public_title: title, public_note: note || null });
      if (!result.ok) return refused(form, result);
      await refresh();
      announce(result.status === 201 ? `Published as known issue #${result.data.id}.` : "The public words are saved.");
    },
    async "update-form"(form) {
      const { update } = fieldsOf(form);
      const result = await api("POST", `/known-issues/${issueId()}/updates`, { body: update });
      if (!result.ok) return refused(form, result, { body: "update" });
      addUpdate(result.data.last_update);
      $("#update", form).value = "";
      announce(`Update posted to the ${result.data.affected_count} affected.`);
    },
    async "withdraw-form"(form) {
      const result = await api("DELETE", `/tickets/${ticketId}/known-issue`);
      if (!result.ok) return refused(form, result);
      await refresh();
      announce("Withdrawn: it is no longer listed.");
    },
    async "merge-form"(form) {
      const { into, merge_note: note } = fieldsOf(form);
      const number = /^#?\s*([0-9]{1,10})$/.exec(into);
      if (!number) {
        showFormError(form, "Enter the number of a known issue, like 12.", "into");
        return;
      }
      const result = await api("POST", `/tickets/${ticketId}/merge`, { into: Number(number[1]), note: note || null });
      if (!result.ok) return refused(form, result, { note: "merge_note" });
      applyTicket(result.data);
      await refresh();
      announce(`Closed as a duplicate of known issue #${number[1]}.`);
    },
  };

  side.addEventListener("submit", async (submit) => {
    const handle = handlers[submit.target.id];
    if (!handle || !panel()?.contains(submit.target)) return;
    submit.preventDefault();
    const form = submit.target;
    clearFormError(form);
    for (const name of ["public_title", "public_note", "update", "into", "merge_note"]) clearFieldError(form, name);
    const button = submit.submitter || $("button[type=submit]", form);
    button.disabled = true;
    try {
      await handle(form);
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });

  // "Close as duplicate of…" opened: the known issues it may belong to, asked for then.
  side.addEventListener("toggle", (toggle) => {
    if (toggle.target.id === "merge-details" && toggle.target.open) suggest(toggle.target);
  }, true);

  async function suggest(details) {
    const box = $("#merge-suggestions", details);
    if (box.dataset.loaded) return;
    box.dataset.loaded = "yes";
    let result = await api("GET", `/tickets/${ticketId}/duplicates`);
    let issues = result.ok ? result.data.known_issues : null;
    if (!result.ok || !issues.length) {
      result = await api("GET", "/known-issues"); // no likely match: the newest ones instead
      issues = result.ok ? result.data.items : [];
    }
    const choices = $("#merge-choices", details);
    choices.replaceChildren(...issues.map((issue) => el("label", { className: "choice-line" },
      el("input", { type: "radio", name: "suggested", value: issue.id }),
      ` #${issue.id} ${issue.public_title}`,
      el("span", { className: "hint-inline" }, ` · ${issue.building ? `${issue.building} · ` : ""}${issue.affected_count} affected`))));
    box.hidden = issues.length === 0;
  }

  side.addEventListener("change", (change) => {
    if (change.target.name === "suggested") $("#into", page).value = change.target.value;
  });

  // --- live -------------------------------------------------------------------------------

  socket.on("event", (frame) => {
    const { kind, data } = frame;
    if (frame.room === ISSUES_ROOM) {
      if (kind === "known_issue.affected" && data.id === issueId()) showCount(data.affected_count);
      return;
    }
    if (frame.room !== `ticket:${ticketId}`) return;
    if (kind === "ticket.merged" && data.into_ticket_id === ticketId) {
      addMerged(data);
      showCount(data.known_issue.affected_count);
    } else if (kind === "known_issue.update_posted") {
      addUpdate(data.last_update);
    } else if (kind === "ticket.published" || kind === "ticket.withdrawn") {
      if ((data.known_issue_id || null) !== issueId()) refresh();
      else if (data.known_issue) showCount(data.known_issue.affected_count);
    } else if (kind === "ticket.status_changed") {
      refresh(); // open or closed decides what the panel offers
    }
  });

  // Each (re)join of the room: the count as it is now, whatever was missed meanwhile.
  socket.on("joined", async (frame) => {
    if (frame.room !== ISSUES_ROOM || !issueId()) return;
    const result = await api("GET", `/known-issues/${issueId()}`);
    if (result.ok) showCount(result.data.affected_count);
  });

  followIssues();
}
