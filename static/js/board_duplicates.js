// "Possible duplicates" on an open or active card: asked for only when staff open it (never for
// every card on the board), then kept for the page. Similar tickets can be selected together with
// this one; a known issue it may belong to closes it as a duplicate (asking first).

import { api, sentence } from "./api.js";
import { $, announce, el } from "./dom.js";

export function duplicatesHint({ bulk }) {
  const found = new Map(); // ticket id -> the answer, asked once a page

  function addTo(card) {
    if (card.dataset.status === "closed" || $(".card-dupes", card)) return;
    const ticketId = Number(card.dataset.ticketId);
    const panelId = `dupes-${ticketId}`;
    const button = el("button", {
      type: "button", className: "link card-dupes", "aria-expanded": "false", "aria-controls": panelId,
    }, "Possible duplicates");
    const panel = el("div", { className: "card-dupes-list", id: panelId, hidden: true });
    button.addEventListener("click", () => toggle(ticketId, button, panel));
    card.append(el("div", { className: "card-hint" }, button, panel));
  }

  async function toggle(ticketId, button, panel) {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    if (!open) return;
    if (!found.has(ticketId)) {
      panel.replaceChildren(el("p", { className: "hint" }, "Looking for similar tickets…"));
      const result = await api("GET", `/tickets/${ticketId}/duplicates`);
      if (!result.ok) {
        panel.replaceChildren(el("p", { className: "hint" }, `No suggestions: ${sentence(result.error.detail)}`));
        return;
      }
      found.set(ticketId, result.data);
    }
    show(ticketId, found.get(ticketId), panel);
  }

  function show(ticketId, { tickets, known_issues: issues }, panel) {
    if (!tickets.length && !issues.length) {
      panel.replaceChildren(el("p", { className: "hint" }, "No likely duplicates."));
      announce(`No likely duplicates of #${ticketId}.`);
      return;
    }
    const parts = [];
    if (issues.length) {
      parts.push(el("p", { className: "hint" }, "It may be one of these known issues:"),
        el("ul", {}, issues.map((issue) => el("li", {},
          `Known issue #${issue.id} ${issue.public_title} · ${issue.affected_count} affected `,
          el("button", { type: "button", className: "link", dataset: { into: issue.id } }, "Close as its duplicate")))));
    }
    if (tickets.length) {
      parts.push(el("p", { className: "hint" }, "Similar tickets:"),
        el("ul", {}, tickets.map((ticket) => el("li", {},
          el("a", { href: `/tickets/${ticket.id}` }, `#${ticket.id} ${ticket.title}`), ` (${ticket.status})`))),
        el("button", { type: "button", className: "link", dataset: { selectAll: "" } },
          `Select these ${tickets.length + 1} together`));
    }
    panel.replaceChildren(...parts);
    panel.onclick = (click) => {
      const into = click.target.dataset?.into;
      if (into) bulk.openMerge([ticketId], Number(into));
      else if (click.target.matches("[data-select-all]")) bulk.select([ticketId, ...tickets.map((ticket) => ticket.id)]);
    };
    announce(`${issues.length + tickets.length} possible duplicates of #${ticketId}.`);
  }

  return { addTo };
}
