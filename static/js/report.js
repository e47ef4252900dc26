// The report form: sent as JSON so the API's own errors appear beside the fields they name.

import { api, sentence } from "./api.js";
import { $ } from "./dom.js";
import { clearFieldError, clearFormError, showFieldError, showFormError } from "./ticket.js";

const FIELDS = ["title", "description", "category", "location", "priority"];

export function startReportForm() {
  const form = $("#report-form");
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    clearFormError(form);
    for (const name of FIELDS) clearFieldError(form, name);
    const fields = new FormData(form);
    if (!fields.get("category")) {
      showFieldError(form, "category", "Choose a category.");
      return;
    }
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
