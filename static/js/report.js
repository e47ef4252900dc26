// The report form: sent as JSON so the API's own errors appear beside the fields they name,
// with the photos and PDFs its tray uploaded. As the title and place are typed, the known
// issues they match are offered, to follow instead of reporting the same thing again.

import { api, sentence } from "./api.js";
import { attachTray } from "./attach.js";
import { $, announce, el } from "./dom.js";
import { followIssue, issueHref, statusTag } from "./known_issues.js";
import { clearFieldError, clearFormError, showFieldError, showFormError } from "./ticket.js";

const FIELDS = ["title", "description", "category", "location", "priority"];
const SUGGEST_AFTER_MS = 300; // a pause in typing, not every key
const SUGGESTED = 5;
const FOLLOWED = "You will hear when it is fixed — no need to report it.";

// Every field's problem at once, in the words the server uses without scripts
// (helpdesk/pages/forms.py), read from the form's own required and maxlength attributes.
function problems(form, fields) {
  const found = [];
  for (const name of FIELDS) {
    const control = form.querySelector(`[name="${name}"]`);
    const value = String(fields.get(name) || "").trim();
    if (control.type === "radio" && control.required && !value) found.push([name, "Choose a category."]);
    else if (control.required && !value) found.push([name, "Please fill this in."]);
    else if (control.maxLength > 0 && value.length > control.maxLength) {
      found.push([name, `Keep it to ${control.maxLength} characters or fewer.`]);
    }
  }
  return found;
}

// Staff logging a call ("Reporting for"): reporter accounts suggested as they type, and the
// username they end on turned into the account's id for the API. Absent for reporters.
function reporterField(form) {
  const input = form.querySelector('[name="reporter"]');
  if (!input) return null;
  const options = $("#reporter-options");
  const ids = new Map();
  async function search(text) {
    const result = await api("GET", `/reporters?${new URLSearchParams({ q: text })}`);
    const found = result.ok ? result.data.items : [];
    for (const user of found) ids.set(user.username, user.id);
    return found;
  }
  let typing = null;
  input.addEventListener("input", () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(async () => {
      const text = input.value.trim();
      const found = text ? await search(text) : [];
      if (input.value.trim() !== text) return; // typed on meanwhile
      options.replaceChildren(...found.map((user) =>
        el("option", { value: user.username }, `${user.display_name} (${user.username})`)));
    }, 200);
  });
  return {
    name: "reporter",
    // The id to report for: undefined for none given, null for a username no reporter has.
    async id() {
      const username = input.value.trim().toLowerCase();
      if (!username) return undefined;
      if (!ids.has(username)) await search(username);
      return ids.get(username) ?? null;
    },
  };
}

function matching(count) {
  return count === 1 ? "1 known issue matches" : `${count} known issues match`;
}

// Under the title: the known issues that match what is typed (similar words, the same building),
// each with "I'm affected too". Following one leaves the form as it is: filing anyway stays open.
function knownIssueSuggestions(form) {
  const title = form.querySelector('[name="title"]');
  const location = form.querySelector('[name="location"]');
  const status = $("#suggestions-status");
  const list = el("ul", { className: "suggestion-list" });
  const box = el("section", { className: "suggestions", id: "known-issue-suggestions", hidden: true, "aria-labelledby": "suggestions-heading" },
    el("h2", { id: "suggestions-heading" }, "Is it one of these?"),
    el("p", { className: "hint" }, "The helpdesk already knows of these. If yours is one of them, say you are affected instead of reporting it again."),
    list);
  title.closest(".field").after(box);
  let shown = 0;
  let asked = 0;
  let typing = null;

  function followed(issue) {
    return el("p", { className: "followed", tabindex: "-1" }, FOLLOWED, " ",
      el("a", { href: issueHref(issue.id) }, "See the known issue"));
  }

  function suggestion(issue) {
    const titleId = `suggestion-${issue.id}-title`;
    const item = el("li", { className: "suggestion", dataset: { knownIssueId: issue.id } },
      el("p", { className: "suggestion-title", id: titleId },
        el("a", { href: issueHref(issue.id) }, issue.public_title)),
      el("p", { className: "known-issue-meta" }, statusTag(issue.status), " ",
        issue.building || "Campus", ` · ${issue.affected_count} affected`),
      issue.last_update
        ? el("p", { className: "known-issue-update" }, `Latest from the helpdesk: ${issue.last_update.body}`)
        : null);
    if (issue.affected_by_me) {
      item.append(followed(issue));
      return item;
    }
    const button = el("button", { type: "button", className: "button primary", "aria-describedby": titleId }, "I'm affected too");
    const error = el("p", { className: "field-error", role: "alert", hidden: true });
    button.addEventListener("click", async () => {
      if (button.dataset.busy === "true") return;
      button.dataset.busy = "true";
      const result = await followIssue(issue.id);
      button.dataset.busy = "false";
      if (!result.ok) {
        error.textContent = result.status === 404
          ? "The helpdesk no longer lists this known issue."
          : sentence(result.error.detail);
        error.hidden = false;
        return;
      }
      const fresh = suggestion(result.data); // its count now includes me
      item.replaceWith(fresh);
      fresh.querySelector(".followed").focus();
      status.textContent = FOLLOWED;
    });
    item.append(button, error);
    return item;
  }

  function show(items) {
    list.replaceChildren(...items.map(suggestion));
    box.hidden = items.length === 0;
    if (items.length !== shown) status.textContent = items.length || shown ? matching(items.length) : "";
    shown = items.length;
  }

  async function lookUp() {
    const words = title.value.trim();
    const where = location.value.trim();
    const query = new URLSearchParams();
    if (words.length >= 3) query.set("q", words);
    if (where) query.set("location", where);
    const ticket = ++asked;
    if (![...query.keys()].length) {
      show([]);
      return;
    }
    const result = await api("GET", `/known-issues?${query}`);
    if (ticket !== asked) return; // typed on meanwhile: a newer answer is coming
    // What is fixed already is not what someone reporting a problem now is looking for.
    const open = result.ok ? result.data.items.filter((issue) => issue.status !== "closed") : [];
    show(open.slice(0, SUGGESTED));
  }

  for (const field of [title, location]) {
    field.addEventListener("input", () => {
      window.clearTimeout(typing);
      typing = window.setTimeout(lookUp, SUGGEST_AFTER_MS);
    });
  }
  if (title.value.trim() || location.value.trim()) lookUp(); // a form sent back with its values
}

export function startReportForm() {
  const form = $("#report-form");
  const reporter = reporterField(form);
  knownIssueSuggestions(form);
  const tray = attachTray(form, "/api/v1/attachments");
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    if (tray.busy) { // the button waits for the uploads; so does a form sent from the keyboard
      announce("Wait until the files have uploaded, then send the report.");
      return;
    }
    clearFormError(form);
    for (const name of FIELDS) clearFieldError(form, name);
    if (reporter) clearFieldError(form, reporter.name);
    const fields = new FormData(form);
    const found = problems(form, fields);
    const reporterId = reporter ? await reporter.id() : undefined;
    if (reporterId === null) found.unshift([reporter.name, "No reporter account has that username."]);
    for (const [name, text] of found.reverse()) showFieldError(form, name, text); // focus ends on the first
    if (found.length) return;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    const result = await api("POST", "/tickets", {
      title: String(fields.get("title") || ""),
      description: String(fields.get("description") || ""),
      category: fields.get("category"),
      location: String(fields.get("location") || "").trim() || null,
      priority: fields.get("priority") || "normal",
      reporter_id: reporterId,
      attachment_ids: tray.ids(),
    });
    button.disabled = false;
    if (result.ok) {
      window.location.assign(`/tickets/${result.data.id}`);
      return;
    }
    const text = sentence(result.error.detail.replace(/^[a-z_]+: /, ""));
    if (result.error.field === "reporter_id" && reporter) showFieldError(form, reporter.name, text);
    else if (result.error.field === "attachment_ids") tray.showError(text);
    else if (result.error.field && FIELDS.includes(result.error.field)) showFieldError(form, result.error.field, text);
    else showFormError(form, text);
  });
}
