// A form's file tray: photos (a phone's picker offers its camera) and PDFs chosen, dropped on
// the form or pasted into it, each uploaded at once with its progress, previewed with a way to
// take it back, and handed to the form's own sending as upload ids. It enhances the plain file
// field the server renders (templates/macros.html file_field), which works without scripts.

import { api } from "./api.js";
import { $, $$, announce, el } from "./dom.js";

const MEGABYTE = 1024 * 1024;
const PREVIEWABLE = /^image\/(jpeg|png|webp|gif|avif|bmp)$/; // HEIC photos wait for the server's thumbnail

// "830 KB", "4.2 MB": as the server words sizes (helpdesk/domain/attachments.py describe_size).
export function describeSize(size) {
  if (size < MEGABYTE) return `${Math.max(1, Math.round(size / 1024))} KB`;
  return `${(size / MEGABYTE).toFixed(1)} MB`;
}

// One file's upload: XMLHttpRequest, since fetch reports no upload progress. Resolves to the
// answer as api() gives it, or {aborted: true}.
function send(url, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const body = new FormData();
  body.append("file", file, file.name);
  const done = new Promise((resolve) => {
    xhr.upload.addEventListener("progress", (progress) => {
      if (progress.lengthComputable) onProgress(progress.loaded / progress.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 401) window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
      const data = xhr.response;
      if (xhr.status === 201 && data) resolve({ ok: true, data });
      else resolve({ ok: false, status: xhr.status, error: data?.error || { detail: `the server answered ${xhr.status}` } });
    });
    xhr.addEventListener("error", () => resolve({
      ok: false, status: 0, error: { detail: "the upload did not get through; check the connection and try again" },
    }));
    xhr.addEventListener("abort", () => resolve({ ok: false, aborted: true }));
  });
  xhr.open("POST", url);
  xhr.responseType = "json";
  xhr.setRequestHeader("Accept", "application/json");
  xhr.send(body);
  return { done, abort: () => xhr.abort() };
}

// The tray of `form`'s [data-attach] field, uploading to `uploadUrl`. Returns what the form's
// sending needs: the ids, whether uploads are still in flight, and a way to empty it.
export function attachTray(form, uploadUrl) {
  const field = $("[data-attach]", form);
  const input = $('input[type="file"]', field);
  const tray = $(".attach-tray", field);
  const problems = $(".attach-errors", field);
  const sendButtons = $$('button[type="submit"]', form);
  const maxFileBytes = Number(field.dataset.maxFileBytes);
  const maxFiles = Number(field.dataset.maxFiles);
  const items = []; // {file, node, upload, attachment, preview}
  const described = input.getAttribute("aria-describedby");
  input.setAttribute("aria-describedby", described ? `${described} ${problems.id}` : problems.id);

  const kept = () => $$('input[name="attachment_ids"]:checked', tray); // sent earlier without scripts
  const inFlight = () => items.some((item) => !item.attachment);

  function renderBusy() {
    const busy = inFlight();
    for (const button of sendButtons) button.disabled = busy;
    form.toggleAttribute("aria-busy", busy);
  }

  function complain(text) {
    problems.append(el("p", {}, text));
  }

  function itemNode(item) {
    const { file } = item;
    const preview = item.preview
      ? el("img", { src: item.preview, alt: "", className: "attach-thumb" })
      : el("span", { className: "attach-icon", "aria-hidden": "true" }, file.type === "application/pdf" ? "PDF" : "📎");
    const progress = el("progress", { max: 100, value: 0, "aria-label": `Uploading ${file.name}` });
    const remove = el("button", { type: "button", className: "button small attach-remove" },
      "Remove", el("span", { className: "visually-hidden" }, ` ${file.name}`));
    remove.addEventListener("click", () => drop(item, { byHand: true }));
    return el("li", { className: "attach-item", dataset: { state: "uploading" } },
      preview,
      el("span", { className: "attach-about" },
        el("span", { className: "attach-name" }, file.name),
        el("span", { className: "attach-size" }, describeSize(file.size)),
        progress,
        el("span", { className: "attach-state" }, "Uploading…")),
      remove);
  }

  function forget(item) {
    items.splice(items.indexOf(item), 1);
    if (item.preview) URL.revokeObjectURL(item.preview);
    item.node.remove();
    renderBusy();
  }

  // Taken back: a running upload is stopped, a finished one deleted (what is left of a delete
  // that did not get through goes with the uploads never sent, removed by the server in a day).
  function drop(item, { byHand = false } = {}) {
    const next = item.node.nextElementSibling || item.node.previousElementSibling;
    if (item.attachment) api("DELETE", `/attachments/${item.attachment.id}`);
    else item.upload.abort();
    forget(item);
    if (byHand) {
      const nextRemove = next ? $(".attach-remove", next) : null;
      (nextRemove || input).focus(); // the button is gone: the keyboard stays in the tray
      announce(`${item.file.name} removed.`);
    }
  }

  async function upload(item) {
    const progress = $("progress", item.node);
    item.upload = send(uploadUrl, item.file, (share) => { progress.value = Math.round(share * 100); });
    const result = await item.upload.done;
    if (result.aborted) return;
    if (!result.ok) {
      forget(item);
      // As the page without scripts words it (helpdesk/pages/tickets.py about_file).
      const detail = result.error.detail.replace(/\.$/, "");
      complain(`${detail.startsWith(item.file.name) ? detail : `${item.file.name}: ${detail}`}.`);
      return;
    }
    item.attachment = result.data;
    progress.value = 100;
    item.node.dataset.state = "done";
    item.node.dataset.attachmentId = result.data.id;
    $(".attach-state", item.node).textContent = "Ready to send";
    const thumb = $("img", item.node);
    if (!thumb && result.data.thumbnail_url) {
      $(".attach-icon", item.node).replaceWith(el("img", { src: result.data.thumbnail_url, alt: "", className: "attach-thumb" }));
    }
    renderBusy();
    announce(`${item.file.name} uploaded.`);
  }

  function add(files) {
    problems.replaceChildren();
    for (const file of files) {
      if (items.length + kept().length >= maxFiles) {
        complain(`Attach at most ${maxFiles} files to one message.`);
        break;
      }
      if (file.size > maxFileBytes) {
        complain(`${file.name} is ${describeSize(file.size)}; files may be at most ${describeSize(maxFileBytes)}.`);
        continue;
      }
      const item = { file, attachment: null, preview: PREVIEWABLE.test(file.type) ? URL.createObjectURL(file) : null };
      item.node = itemNode(item);
      items.push(item);
      tray.append(item.node);
      upload(item);
    }
    renderBusy();
    sendButtons.at(-1)?.scrollIntoView({ block: "nearest" }); // on a phone the tray can push it out of view
  }

  input.addEventListener("change", () => {
    add(Array.from(input.files));
    input.value = ""; // the same photo can be chosen again after removing it
  });

  const carriesFiles = (drag) => Array.from(drag.dataTransfer?.types || []).includes("Files");
  form.addEventListener("dragover", (over) => {
    if (!carriesFiles(over)) return;
    over.preventDefault();
    form.classList.add("dropping");
  });
  form.addEventListener("dragleave", (leave) => {
    if (!form.contains(leave.relatedTarget)) form.classList.remove("dropping");
  });
  form.addEventListener("drop", (dropped) => {
    form.classList.remove("dropping");
    if (!carriesFiles(dropped)) return;
    dropped.preventDefault();
    add(Array.from(dropped.dataTransfer.files));
  });

  // A pasted screenshot becomes an attachment; pasted text still goes into the text.
  form.addEventListener("paste", (paste) => {
    const images = Array.from(paste.clipboardData?.files || []).filter((file) => file.type.startsWith("image/"));
    if (!images.length) return;
    if (!paste.clipboardData.types.includes("text/plain")) paste.preventDefault();
    add(images);
  });

  return {
    get busy() {
      return inFlight();
    },
    ids() {
      return [
        ...kept().map((box) => Number(box.value)),
        ...items.filter((item) => item.attachment).map((item) => item.attachment.id),
      ];
    },
    // What was uploaded here, as the API describes it: the pending message shows them at once.
    attachments() {
      return items.filter((item) => item.attachment).map((item) => item.attachment);
    },
    showError(text) {
      problems.replaceChildren();
      complain(text);
    },
    // After sending: the files belong to the message now.
    clear() {
      for (const item of [...items]) forget(item);
      for (const box of kept()) box.closest(".attach-item").remove();
      problems.replaceChildren();
    },
  };
}
