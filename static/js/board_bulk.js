// Many tickets at once on the board: cards selected by their boxes (or Space), then assigned or
// closed as duplicates of a known issue through the bulk API, each ticket's answer shown beside
// the others (a refused one named, with the server's reason).

import { api, sentence } from "./api.js";
import { $, announce, el } from "./dom.js";

const MOST = 100; // the bulk API's limit on one request
const NUMBER = /^#?\s*([0-9]{1,10})$/;

function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

export function startBulk({ me, cardFor, place }) {
  const bar = $("#bulk-bar");
  const results = $("#bulk-results");
  const dialog = $("#merge-dialog");
  const selected = new Set(); // ticket numbers, whether or not their card is on the page now
  $("#select-help")?.removeAttribute("hidden");

  function render() {
    const count = selected.size;
    $("#bulk-count").textContent = count ? `${plural(count, "ticket")} selected` : "No tickets selected";
    for (const button of bar.querySelectorAll("#bulk-assign, #bulk-merge, #bulk-clear")) button.disabled = count === 0;
    bar.hidden = count === 0 && !results.childElementCount;
  }

  function mark(card, on) {
    card.classList.toggle("selected", on);
    const box = $(".card-select input", card);
    if (box) box.checked = on;
  }

  function set(ticketId, on) {
    if (on) selected.add(ticketId);
    else selected.delete(ticketId);
    const card = cardFor(ticketId);
    if (card) mark(card, on);
  }

  // The box of a card (rendered or built), ticked if that ticket is selected already.
  function addBox(card, title) {
    if ($(".card-select", card)) return;
    const ticketId = Number(card.dataset.ticketId);
    const box = el("input", { type: "checkbox", tabindex: "-1" });
    box.addEventListener("change", () => {
      set(ticketId, box.checked);
      render();
    });
    card.prepend(el("label", { className: "card-select" }, box,
      el("span", { className: "visually-hidden" }, `Select #${ticketId} ${title}`)));
    mark(card, selected.has(ticketId));
  }

  function toggle(card) {
    const ticketId = Number(card.dataset.ticketId);
    const on = !selected.has(ticketId);
    set(ticketId, on);
    render();
    announce(`#${ticketId} ${on ? "selected" : "no longer selected"}; ${plural(selected.size, "ticket")} selected.`);
  }

  function select(ids) {
    for (const ticketId of ids) set(ticketId, true);
    render();
    announce(`${plural(selected.size, "ticket")} selected.`);
  }

  function clear() {
    for (const ticketId of [...selected]) set(ticketId, false);
    results.replaceChildren();
    render();
  }

  // One request for the whole selection; each ticket answered on its own.
  async function apply(ids, body, done) {
    if (ids.length > MOST) {
      show([], `Select at most ${MOST} tickets at a time; ${ids.length} are selected.`);
      return;
    }
    bar.setAttribute("aria-busy", "true");
    const result = await api("POST", "/tickets/bulk", { ids, ...body });
    bar.removeAttribute("aria-busy");
    if (!result.ok) {
      show([], `Nothing was changed: ${sentence(result.error.detail)}`);
      return;
    }
    const lines = result.data.results.map((each) => {
      if (each.status !== 200) {
        return el("li", { className: "refused" }, `#${each.id} was not changed: ${sentence(each.error.detail)}`);
      }
      place(each.ticket);
      set(each.id, false);
      return el("li", {}, `#${each.id} ${done(each.ticket)}.`);
    });
    const made = result.data.results.filter((each) => each.status === 200).length;
    const refused = ids.length - made;
    show(lines, `${plural(made, "ticket")} changed${refused ? `, ${refused} refused` : ""}.`);
  }

  function show(lines, summary) {
    results.replaceChildren(el("p", { className: "bulk-summary" }, summary), lines.length ? el("ul", {}, lines) : null);
    render();
  }

  $("#bulk-assign").addEventListener("click", () => {
    const choice = $("#bulk-assignee").value;
    const assignee = choice === "me" ? me.id : choice === "none" ? null : Number(choice);
    const name = $("#bulk-assignee").selectedOptions[0].textContent;
    apply([...selected], { action: "assign", assignee_id: assignee },
      () => (assignee === null ? "is unassigned" : `is assigned to ${assignee === me.id ? "you" : name}`));
  });
  $("#bulk-clear").addEventListener("click", () => {
    clear();
    announce("Selection cleared.");
  });
  $("#bulk-merge").addEventListener("click", () => openMerge([...selected]));

  // "Close as duplicate of…": which known issue, from the current ones or by its number.
  let mergeIds = [];
  let opener = null;
  async function openMerge(ids, into = null) {
    mergeIds = ids;
    opener = document.activeElement;
    $("#merge-dialog-title", dialog).textContent = ids.length === 1
      ? `Close #${ids[0]} as a duplicate` : `Close ${plural(ids.length, "ticket")} as duplicates`;
    $("#merge-dialog-submit", dialog).textContent = ids.length === 1 ? "Close as a duplicate" : "Close as duplicates";
    $("#merge-into", dialog).value = into ? String(into) : "";
    const problem = $("#merge-dialog-error", dialog);
    problem.hidden = true;
    dialog.returnValue = "";
    dialog.showModal();
    const choices = $("#merge-issue-choices", dialog);
    const listed = await api("GET", "/known-issues");
    const issues = listed.ok ? listed.data.items : [];
    choices.replaceChildren(...(issues.length ? issues.map((issue) => el("label", { className: "choice-line" },
      el("input", { type: "radio", name: "merge-issue", value: issue.id, checked: Number(into) === issue.id }),
      ` #${issue.id} ${issue.public_title}`,
      el("span", { className: "hint-inline" }, ` · ${issue.building ? `${issue.building} · ` : ""}${issue.affected_count} affected`)))
      : [el("p", { className: "hint" }, listed.ok ? "No known issues are published: publish one from its ticket first." : "The known issues could not be listed; enter a number.")]));
  }

  dialog.addEventListener("change", (change) => {
    if (change.target.name === "merge-issue") $("#merge-into", dialog).value = change.target.value;
  });

  $("#merge-dialog-form").addEventListener("submit", (submit) => {
    if (submit.submitter?.value !== "merge") return; // Cancel closes the dialog
    const number = NUMBER.exec($("#merge-into", dialog).value.trim());
    if (!number) {
      submit.preventDefault();
      const problem = $("#merge-dialog-error", dialog);
      problem.textContent = "Choose a known issue, or enter its number.";
      problem.hidden = false;
      $("#merge-into", dialog).focus();
      return;
    }
    const into = Number(number[1]);
    apply(mergeIds, { action: "merge", into }, () => `is closed as a duplicate of known issue #${into}`);
  });

  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "merge") announce("Nothing was closed.");
    if (opener?.isConnected) opener.focus();
    else results.closest(".bulk-bar").focus();
  });

  render();
  return { addBox, toggle, select, openMerge };
}
