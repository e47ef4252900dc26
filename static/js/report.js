// The report form: sent as JSON so the API's own errors appear beside the fields they name.

import { api, sentence } from "./api.js";
import { $ } from "./dom.js";
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

export function startReportForm() {
  const form = $("#report-form");
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    clearFormError(form);
    for (const name of FIELDS) clearFieldError(form, name);
    const fields = new FormData(form);
    const found = problems(form, fields);
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
    });
    button.disabled = false;
    if (result.ok) {
      window.location.assign(`/tickets/${result.data.id}`);
      return;
    }
    const text = sentence(result.error.detail.replace(/^[a-z_]+: /, ""));
    if (result.error.field && FIELDS.includes(result.error.field)) showFieldError(form, result.error.field, text);
    else showFormError(form, text);
  });
}
