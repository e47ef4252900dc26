// The board's saved filters: saving and deleting through the API, without leaving the board.
// Each is a plain link to the board's address, as the server renders it; picking one follows it.

import { api, sentence } from "./api.js";
import { $, announce, el } from "./dom.js";

export function startSavedFilters() {
  const list = $("#saved-list");
  const form = $("#save-filter-form");
  if (!list || !form) return;
  const query = form.elements.query.value;
  const nameField = form.elements.name;

  function item(saved) {
    const href = saved.query ? `/board?${saved.query}` : "/board";
    const link = el("a", { href }, saved.name);
    if (saved.query === query) link.setAttribute("aria-current", "true");
    return el("li", { dataset: { filterId: saved.id } }, link, " ",
      el("form", { method: "post", action: `/board/filters/${saved.id}/delete`, className: "inline delete-filter" },
        el("input", { type: "hidden", name: "back", value: query }),
        el("button", { type: "submit", className: "link", "aria-label": `Delete the saved filter ${saved.name}` }, "Delete")));
  }

  function problem(text) {
    $("#save-name-error")?.remove();
    if (!text) {
      nameField.removeAttribute("aria-invalid");
      nameField.removeAttribute("aria-describedby");
      return;
    }
    form.append(el("p", { className: "field-error", id: "save-name-error" }, text));
    nameField.setAttribute("aria-invalid", "true");
    nameField.setAttribute("aria-describedby", "save-name-error");
    nameField.focus();
  }

  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const name = nameField.value.trim();
    if (!name) {
      problem("Give the filters a name.");
      return;
    }
    const result = await api("POST", "/me/filters", { name, query });
    if (!result.ok) {
      problem(sentence(result.error.detail));
      return;
    }
    problem(null);
    $("#no-saved")?.remove();
    const saved = result.data;
    const fresh = item(saved);
    const old = list.querySelector(`[data-filter-id="${saved.id}"]`);
    if (old) old.replaceWith(fresh);
    else {
      const after = [...list.children].find((other) => $("a", other)?.textContent.localeCompare(saved.name) > 0);
      list.insertBefore(fresh, after || null);
    }
    nameField.value = "";
    announce(result.status === 201 ? `Saved as “${saved.name}”.` : `“${saved.name}” now keeps these filters.`);
  });

  list.addEventListener("submit", async (submit) => {
    const row = submit.target.closest("[data-filter-id]");
    if (!row) return;
    submit.preventDefault();
    const name = $("a", row).textContent;
    const result = await api("DELETE", `/me/filters/${row.dataset.filterId}`);
    if (!result.ok && result.status !== 404) {
      announce(`Could not delete “${name}”: ${sentence(result.error.detail)}`);
      return;
    }
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    (next ? $("a", next) : $("#filter-q")).focus(); // where the keyboard was stays in reach
    announce(`The saved filter “${name}” is deleted.`);
  });
}
