// The report form: sent as JSON so the API's own errors appear beside the fields they name,
// with the photos and PDFs its tray uploaded.

import { api, sentence } from "./api.js";
import { attachTray } from "./attach.js";
import { $, announce, el } from "./dom.js";
import { clearFieldError, clearFormError, showFieldError, showFormError } from "./ticket.js";

const FIELDS = ["title", "description", "category", "location", "priority"];

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

export function startReportForm() {
  const form = $("#report-form");
  const reporter = reporterField(form);
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
