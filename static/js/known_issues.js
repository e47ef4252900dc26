// Known issues in the browser: cards kept live from the known-issues room (published, withdrawn,
// counted, updated), "I'm affected too" sent without leaving the page, and the news of the ones
// I follow (my own room) as toasts. The cards are those templates/known_issues/_macros.html
// renders; what is built here for what arrives live has the same shape.

import { api, sentence } from "./api.js";
import { $, $$, announce, el } from "./dom.js";
import { knownIssueStatus } from "./texts.js";
import { timeTag } from "./time.js";
import { toast } from "./toasts.js";

const ROOM = "known-issues";
const FOLLOW = "I'm affected too";
const UNFOLLOW = "Not affected any more";
const FOLLOWING = "You are one of them: you will hear when it is fixed.";
const GONE = "The helpdesk no longer lists this known issue.";
const FRESH_MS = 5 * 60_000; // older news replayed after a reconnect is not worth a toast

export function issueHref(id) {
  return `/known-issues/${id}`;
}

export function statusTag(status) {
  return el("span", { className: `issue-status issue-status-${status}` }, knownIssueStatus(status));
}

function metaLine(issue) {
  return el("p", { className: "known-issue-meta" },
    statusTag(issue.status), " ",
    el("span", { className: "known-issue-building" }, issue.building || "Campus"),
    " · listed ", timeTag(issue.published_at));
}

function lastUpdate(update) {
  return el("p", { className: "known-issue-update", hidden: !update },
    el("span", { className: "update-head" }, "Latest from the helpdesk, ", update ? timeTag(update.at) : null, ":"),
    " ", el("span", { className: "update-body prewrap" }, update ? update.body : ""));
}

function affectedForm(issue, back) {
  const affected = Boolean(issue.affected_by_me);
  return el("form", { className: "affected-form", method: "post", action: `${issueHref(issue.id)}/affected` },
    el("input", { type: "hidden", name: "next", value: back }),
    el("input", { type: "hidden", name: "affected", value: affected ? "no" : "yes" }),
    el("p", { className: "affected-count" },
      el("span", { className: "count" }, String(issue.affected_count)), " affected"),
    el("p", { className: "affected-note", hidden: !affected }, FOLLOWING),
    el("button", { type: "submit", className: affected ? "button" : "button primary" }, affected ? UNFOLLOW : FOLLOW),
    el("p", { className: "field-error", role: "alert", hidden: true }));
}

function issueCard(issue, back) {
  return el("li", {
    className: "known-issue",
    id: `known-issue-${issue.id}`,
    dataset: {
      knownIssueId: issue.id,
      status: issue.status,
      building: issue.building || "",
      affected: issue.affected_by_me ? "yes" : "no",
    },
  },
  el("h3", { className: "known-issue-title" }, el("a", { href: issueHref(issue.id) }, issue.public_title)),
  metaLine(issue),
  issue.public_note ? el("p", { className: "known-issue-note prewrap" }, issue.public_note) : null,
  lastUpdate(issue.last_update),
  affectedForm(issue, back));
}

function cardOf(root, id) {
  return root.querySelector(`[data-known-issue-id="${Number(id)}"]`);
}

function setCount(card, count) {
  const shown = card.querySelector(".affected-count .count");
  if (shown) shown.textContent = String(count);
  card.dataset.countChanges = String(Number(card.dataset.countChanges || 0) + 1);
}

function setAffected(card, affected) {
  card.dataset.affected = affected ? "yes" : "no";
  const form = card.querySelector(".affected-form");
  if (!form) return;
  form.elements.affected.value = affected ? "no" : "yes";
  form.querySelector(".affected-note").hidden = !affected;
  const button = form.querySelector("button");
  button.textContent = affected ? UNFOLLOW : FOLLOW;
  button.classList.toggle("primary", !affected);
}

// News of an issue already shown: its words, state, latest update and count, changed in place
// (keyboard focus on its button stays where it is).
function patchCard(card, issue) {
  card.dataset.status = issue.status;
  card.querySelector(".issue-status")?.replaceWith(statusTag(issue.status));
  const title = card.querySelector(".known-issue-title a") ?? card.querySelector("h1");
  if (title) title.textContent = issue.public_title;
  let note = card.querySelector(".known-issue-note");
  if (issue.public_note) {
    if (!note) {
      note = el("p", { className: "known-issue-note prewrap" });
      card.querySelector(".known-issue-meta").after(note);
    }
    note.textContent = issue.public_note;
  } else {
    note?.remove();
  }
  card.querySelector(".known-issue-update")?.replaceWith(lastUpdate(issue.last_update));
  if (issue.affected_count !== undefined) setCount(card, issue.affected_count);
}

function showError(form, text) {
  const error = form.querySelector(".field-error");
  error.textContent = text;
  error.hidden = false;
}

// "I'm affected too" and its undo, sent over the API; the plain form is the fallback.
async function sendAffected(form) {
  const card = form.closest("[data-known-issue-id]");
  if (form.dataset.busy === "true") return;
  form.dataset.busy = "true";
  const wanted = form.elements.affected.value === "yes";
  const changesBefore = card.dataset.countChanges;
  const id = Number(card.dataset.knownIssueId);
  const result = await api(wanted ? "POST" : "DELETE", `/known-issues/${id}/affected`);
  form.dataset.busy = "false";
  if (!result.ok) {
    showError(form, result.status === 404 ? GONE : sentence(result.error.detail));
    return;
  }
  form.querySelector(".field-error").hidden = true;
  setAffected(card, wanted);
  // A count that arrived live meanwhile is newer than this answer's.
  if (result.data && card.dataset.countChanges === changesBefore) setCount(card, result.data.affected_count);
  announce(wanted ? "Noted: you will hear when it is fixed." : "Noted: you are no longer counted as affected.");
}

function enhanceForms(root) {
  root.addEventListener("submit", (submit) => {
    const form = submit.target.closest(".affected-form");
    if (!form) return;
    submit.preventDefault();
    sendAffected(form);
  });
}

// "I'm affected too" from anywhere else (the report form's suggestions): the issue as I now see it.
export async function followIssue(id) {
  return api("POST", `/known-issues/${Number(id)}/affected`);
}

// The known-issues room, and my own room's news of the issues I follow, for a page showing
// cards under `root`. `place` puts a newly published issue on the page (or declines to);
// `gone` takes a withdrawn one off.
function followRoom(socket, me, root, { since, place, gone, onNews = () => {} }) {
  const mine = new Set(); // published from my own ticket: I am affected from the start
  function news(issue) {
    const card = cardOf(root, issue.id);
    if (card) patchCard(card, issue);
    onNews(issue);
  }
  socket.on("event", (frame) => {
    const data = frame.data;
    if (frame.room === ROOM) {
      if (frame.kind === "known_issue.published") {
        const card = cardOf(root, data.id);
        if (card) patchCard(card, data);
        else place({ ...data, affected_by_me: mine.has(data.id) });
      } else if (frame.kind === "known_issue.withdrawn") {
        gone(data.id);
      } else if (frame.kind === "known_issue.affected") {
        const card = cardOf(root, data.id);
        if (card) setCount(card, data.affected_count);
      } else if (frame.kind === "known_issue.update_posted") {
        news(data);
      }
    } else if (frame.room === `user:${me.id}`) {
      if (frame.kind === "known_issue.status_changed" || frame.kind === "known_issue.update_posted") {
        news(data);
      } else if (frame.kind === "ticket.published" && data.reporter?.id === me.id && data.known_issue) {
        mine.add(data.known_issue.id);
        const card = cardOf(root, data.known_issue.id);
        if (card) setAffected(card, true);
      }
    }
  });
  socket.join(ROOM, Number.isFinite(since) ? since : null);
}

function showEmpty(root) {
  const empty = $("#no-known-issues", root);
  if (empty) empty.hidden = root.querySelector(".known-issue") !== null;
}

function sameBuilding(a, b) {
  return (a || "").toLocaleLowerCase() === (b || "").toLocaleLowerCase();
}

// The known issues page: by building, A to Z, those of no building last (as the server groups).
export function startKnownIssueList(socket, me) {
  const root = $("#known-issues");
  const groups = $("#known-issue-groups");
  const back = root.dataset.back;
  enhanceForms(root);
  if (!socket) return;

  function groupFor(building) {
    const existing = $$(".building-group", groups).find((group) => sameBuilding(group.dataset.building, building));
    if (existing) return existing.querySelector(".known-issue-list");
    const group = el("section", { className: "building-group", dataset: { building: building || "" } },
      el("h2", {}, building || "Elsewhere on campus"),
      el("ul", { className: "known-issue-list" }));
    const after = $$(".building-group", groups).find((other) => {
      const name = other.dataset.building;
      if (!building) return false;
      return !name || name.localeCompare(building, undefined, { sensitivity: "base" }) > 0;
    });
    groups.insertBefore(group, after ?? null);
    return group.querySelector(".known-issue-list");
  }

  followRoom(socket, me, root, {
    since: Number(root.dataset.roomSince),
    place(issue) {
      // Words are matched by the server: a search shows what it found, the rest on reload.
      if (root.dataset.q) return;
      if (root.dataset.building && !sameBuilding(root.dataset.building, issue.building)) return;
      groupFor(issue.building).prepend(issueCard(issue, back));
      showEmpty(root);
      announce(`New known issue: ${issue.public_title}`);
    },
    gone(id) {
      const card = cardOf(root, id);
      if (!card) return;
      const group = card.closest(".building-group");
      card.remove();
      if (group && !group.querySelector(".known-issue")) group.remove();
      showEmpty(root);
    },
  });
}

// The dashboard's few: the newest first, at most as many as it was rendered with.
export function startDashboardIssues(socket, me) {
  const root = $("#known-issues");
  if (!root) return;
  const list = $("#known-issue-list", root);
  const limit = Number(root.dataset.limit) || 5;
  enhanceForms(root);
  if (!socket) return;
  followRoom(socket, me, root, {
    since: Number(root.dataset.roomSince),
    place(issue) {
      list.prepend(issueCard(issue, root.dataset.back));
      while (list.children.length > limit) list.lastElementChild.remove();
      showEmpty(root);
    },
    gone(id) {
      cardOf(root, id)?.remove();
      showEmpty(root);
    },
  });
}

// One known issue's page: every update as it is posted, and a notice if it is withdrawn.
export function startKnownIssuePage(socket, me) {
  const root = $(".known-issue-page");
  const id = Number(root.dataset.knownIssueId);
  const updates = $("#known-issue-updates");
  enhanceForms(root);
  if (!socket) return;
  followRoom(socket, me, root, {
    since: Number(root.dataset.roomSince),
    place() {},
    gone(goneId) {
      if (goneId !== id) return;
      $("#withdrawn-notice").hidden = false;
      root.querySelector(".affected-form button").disabled = true;
    },
    onNews(issue) {
      const update = issue.last_update;
      if (issue.id !== id || !update) return;
      // The same news comes in the public room and, to the affected, in their own.
      if ($$("li", updates).some((item) => item.dataset.at === update.at)) return;
      updates.append(el("li", { dataset: { at: update.at } },
        el("span", { className: "update-body prewrap" }, update.body), " ", timeTag(update.at)));
      $("#no-updates").hidden = true;
    },
  });
}

function viewingIssue(id) {
  const page = $(".known-issue-page");
  return page !== null && Number(page.dataset.knownIssueId) === id && document.visibilityState === "visible";
}

// Toasts for the known issues I follow: "Library wifi outage: fixed", or the helpdesk's update.
export function watchKnownIssueNews(socket, me) {
  socket.on("event", (frame) => {
    if (frame.room !== `user:${me.id}` || !frame.kind.startsWith("known_issue.")) return;
    if (Date.now() - Date.parse(frame.at) > FRESH_MS) return;
    const issue = frame.data;
    let text = null;
    if (frame.kind === "known_issue.status_changed") {
      text = `${issue.public_title}: ${knownIssueStatus(issue.status).toLocaleLowerCase()}`;
    } else if (frame.kind === "known_issue.update_posted" && issue.last_update) {
      text = `${issue.public_title}: ${issue.last_update.body.slice(0, 140)}`;
    }
    if (text && !viewingIssue(issue.id)) toast(text, { href: issueHref(issue.id), key: `event-${frame.id}` });
  });
}
