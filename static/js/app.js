// Debrief's progressive enhancement: every page works without this file.
// With it, the parts of a postmortem are edited in place: forms inside a
// part marked data-live are sent in the background with the part's name,
// the server answers with that part alone and it is swapped in; "Edit"
// links open their form where the part stands; Delete asks in a dialog
// instead of on its own page; the table of contents marks where the reader is.
"use strict";

const PART_HEADER = "X-Debrief-Part";

document.addEventListener("submit", (event) => {
  // Forms that do something hard to undo ask first.
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  const section = form.closest("[data-live]");
  if (section && form.hasAttribute("data-upload") && window.XMLHttpRequest && window.DataTransfer) {
    event.preventDefault();
    uploadInPlace(form, section);
    return;
  }
  if (section && section.id && !form.hasAttribute("data-plain") && form.method.toLowerCase() === "post" && window.fetch) {
    event.preventDefault();
    submitInPlace(form, section, event.submitter);
  }
});

document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return;
  // A secret shown once can be copied with a click.
  if (target.matches("code.secret") && navigator.clipboard) {
    navigator.clipboard.writeText(target.textContent.trim()).then(() => {
      target.dataset.copied = "true";
    });
    return;
  }
  // A known service or tag is added to its comma-separated field.
  const chip = target.closest("button[data-add-to]");
  if (chip) {
    const field = document.getElementById(chip.dataset.addTo);
    if (field) {
      const values = field.value.split(",").map((v) => v.trim()).filter(Boolean);
      if (!values.includes(chip.dataset.value)) values.push(chip.dataset.value);
      field.value = values.join(", ");
    }
    return;
  }
  // Delete: a link to its confirmation page; with the script, a dialog and
  // then the same post the confirmation page makes.
  const remove = target.closest("a[data-confirm-post]");
  if (remove) {
    event.preventDefault();
    if (!window.confirm(remove.dataset.confirmPost)) return;
    const form = document.createElement("form");
    form.method = "post";
    form.action = remove.href;
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = remove.dataset.csrf || "";
    form.appendChild(token);
    form.hidden = true;
    remove.parentElement.appendChild(form);
    form.requestSubmit();
    return;
  }
  if (target.closest("button[data-print]")) {
    window.print();
    return;
  }
  // "Edit" opens the part's form in place.
  const link = target.closest("a.edit-link[data-inline]");
  if (link && window.fetch) {
    event.preventDefault();
    openInPlace(link);
  }
});

/** Sends the form, then replaces its part with the part the server sends back. */
async function submitInPlace(form, section, submitter) {
  // Read before the buttons are disabled: the clicked one's name and value
  // are part of what is sent (Approve or Ask for changes).
  const body = new URLSearchParams(new FormData(form, submitter || null));
  const buttons = form.querySelectorAll("button");
  buttons.forEach((button) => { button.disabled = true; });
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { [PART_HEADER]: section.id },
    });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.querySelector(`.doc-part[id="${CSS.escape(section.id)}"]`);
    const flashes = page.querySelectorAll("body > .flash, main > .flash");
    if (fresh) {
      section.replaceWith(document.importNode(fresh, true));
      // Other parts sent along (the head, whose forms carry the version).
      page.querySelectorAll(".doc-part[id]").forEach((part) => {
        if (part === fresh) return;
        const old = document.querySelector(`.doc-part[id="${CSS.escape(part.id)}"]`);
        if (old) old.replaceWith(document.importNode(part, true));
      });
      showFlashes(flashes);
      page.querySelectorAll(".toc-update[data-section]").forEach(updateContents);
      markContents();
      showAges();
    } else if (page.querySelector("main")) {
      // Not this part (an error page, a conflict to merge): show it whole.
      document.documentElement.replaceWith(document.importNode(page.documentElement, true));
    } else {
      window.location.reload();
    }
  } catch (_) {
    form.submit();
  }
}

/** Sends one file of an upload form, reporting its progress; resolves with the answer. */
function sendFile(form, file, line) {
  return new Promise((resolve) => {
    const data = new FormData();
    ["note", "timeline_event_id"].forEach((name) => {
      const field = form.elements.namedItem(name);
      if (field && field.value) data.append(name, field.value);
    });
    data.append("file", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-CSRF-Token", form.elements.namedItem("csrf_token").value);
    request.setRequestHeader(PART_HEADER, "evidence");
    const bar = line.querySelector("progress");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.value = event.loaded / event.total;
    });
    request.addEventListener("load", () => resolve({ ok: request.status < 300, status: request.status, text: request.responseText }));
    request.addEventListener("error", () => resolve({ ok: false, status: 0, text: "" }));
    request.send(data);
  });
}

/** Why the server refused a file, from its answer. */
function refusal(answer) {
  if (answer.status === 0) return "the connection failed";
  const page = new DOMParser().parseFromString(answer.text, "text/html");
  const message = page.querySelector(".flash-error, .error-message, main p");
  return message ? message.textContent.trim() : `refused (${answer.status})`;
}

/** Uploads the chosen files one by one, each with its progress, then shows the evidence part anew. */
async function uploadInPlace(form, section) {
  const input = form.querySelector("input[type=file]");
  const files = Array.from(input.files);
  if (files.length === 0) return;
  const list = form.querySelector("[data-upload-progress]");
  list.replaceChildren();
  list.hidden = false;
  form.querySelectorAll("button").forEach((button) => { button.disabled = true; });
  let last = null;
  let failed = false;
  for (const file of files) {
    const line = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    line.append(name, " ", bar);
    list.append(line);
    const answer = await sendFile(form, file, line);
    if (answer.ok) {
      bar.value = 1;
      last = answer;
    } else {
      failed = true;
      const why = document.createElement("span");
      why.className = "error-text";
      why.textContent = ` ${refusal(answer)}`;
      line.append(why);
    }
  }
  form.querySelectorAll("button").forEach((button) => { button.disabled = false; });
  if (last && !failed) {
    const page = new DOMParser().parseFromString(last.text, "text/html");
    const fresh = page.querySelector(`.doc-part[id="${CSS.escape(section.id)}"]`);
    if (fresh) {
      section.replaceWith(document.importNode(fresh, true));
      showFlashes(page.querySelectorAll("body > .flash, main > .flash"));
      page.querySelectorAll(".doc-part[id]").forEach((part) => {
        if (part === fresh) return;
        const old = document.querySelector(`.doc-part[id="${CSS.escape(part.id)}"]`);
        if (old) old.replaceWith(document.importNode(part, true));
      });
      page.querySelectorAll(".toc-update[data-section]").forEach(updateContents);
      markContents();
      showAges();
    }
  }
}

/** Files dropped on an upload form's zone are uploaded as if chosen. */
document.addEventListener("dragover", (event) => {
  const zone = event.target instanceof Element && event.target.closest("[data-drop-zone]");
  if (!zone) return;
  event.preventDefault();
  zone.classList.add("is-dragging");
});
document.addEventListener("dragleave", (event) => {
  const zone = event.target instanceof Element && event.target.closest("[data-drop-zone]");
  if (zone) zone.classList.remove("is-dragging");
});
document.addEventListener("drop", (event) => {
  const zone = event.target instanceof Element && event.target.closest("[data-drop-zone]");
  if (!zone || !event.dataTransfer || event.dataTransfer.files.length === 0) return;
  event.preventDefault();
  zone.classList.remove("is-dragging");
  const form = zone.closest("form");
  form.querySelector("input[type=file]").files = event.dataTransfer.files;
  form.requestSubmit();
});

/** Loads the edit page of a part and puts its form where the part's text stands. */
async function openInPlace(link) {
  const section = link.closest("li.event, .doc-part");
  try {
    const response = await fetch(link.href, { credentials: "same-origin" });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const form = page.querySelector("main form.form");
    if (!response.ok || !form || !section) {
      window.location.href = link.href;
      return;
    }
    // The holder takes the place (and, for a part, the name) of what it
    // replaces, so the markup stays valid and the save comes back in place.
    const holder = document.createElement(section.tagName === "LI" ? "li" : "section");
    holder.className = "card inline-edit";
    if (section.classList.contains("doc-part")) {
      holder.id = section.id;
      holder.classList.add("doc-part");
      holder.dataset.live = "";
    }
    holder.appendChild(document.importNode(form, true));
    const cancel = holder.querySelector(".form-actions a:not([data-confirm-post])");
    if (cancel) {
      cancel.addEventListener("click", (event) => {
        event.preventDefault();
        holder.replaceWith(section);
      });
    }
    section.replaceWith(holder);
    const first = holder.querySelector("textarea, input:not([type=hidden]), select");
    if (first) first.focus();
  } catch (_) {
    window.location.href = link.href;
  }
}

function showFlashes(flashes) {
  const main = document.querySelector("main");
  if (!main) return;
  main.querySelectorAll(":scope > .flash").forEach((old) => old.remove());
  Array.from(flashes).reverse().forEach((flash) => main.prepend(document.importNode(flash, true)));
}

/** Puts a part's new count in its line of the table of contents. */
function updateContents(update) {
  const line = document.querySelector(`nav.toc li[data-section="${CSS.escape(update.dataset.section)}"]`);
  if (!line) return;
  let count = line.querySelector(".toc-count");
  if (!count) {
    count = document.createElement("span");
    count.className = "toc-count";
    line.querySelector("a").after(count);
  }
  count.textContent = update.textContent;
}

/** Marks in the table of contents the part being read. */
let watching = null;
function markContents() {
  const toc = document.querySelector("nav.toc");
  if (!toc || !("IntersectionObserver" in window)) return;
  if (watching) watching.disconnect();
  const links = new Map();
  toc.querySelectorAll("li[data-section] > a[href^='#']").forEach((a) => links.set(a.getAttribute("href").slice(1), a));
  watching = new IntersectionObserver((entries) => {
    entries.forEach((entry) => {
      if (!entry.isIntersecting) return;
      links.forEach((a) => a.removeAttribute("aria-current"));
      const current = links.get(entry.target.id);
      if (current) current.setAttribute("aria-current", "location");
    });
  }, { rootMargin: "0px 0px -70% 0px" });
  document.querySelectorAll(".doc-part[id]").forEach((part) => {
    if (links.has(part.id)) watching.observe(part);
  });
}

/** "just now", "5 min ago", "3 h ago", "2 days ago" since a moment. */
function ago(then, now) {
  const minutes = Math.max(0, Math.floor((now - then) / 60000));
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 2880) return `${Math.floor(minutes / 60)} h ago`;
  return `${Math.floor(minutes / 1440)} days ago`;
}

/** Shows the moments marked data-ago as time since, the moment itself as their title. */
function showAges() {
  document.querySelectorAll("time[data-ago]").forEach((time) => {
    const then = Date.parse(time.getAttribute("datetime"));
    if (Number.isNaN(then)) return;
    if (!time.title) time.title = time.textContent;
    time.textContent = ago(then, Date.now());
  });
}

/** Puts the fragment of another page where its link stands ("seen this before?"). */
async function loadFragment(holder) {
  try {
    const response = await fetch(holder.dataset.loadFragment, { credentials: "same-origin" });
    if (!response.ok) return;
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fragment = page.querySelector("[data-fragment]");
    if (fragment) holder.replaceWith(document.importNode(fragment, true));
  } catch (_) {
    // The link stays: it leads to the same list.
  }
}

document.querySelectorAll("[data-load-fragment]").forEach(loadFragment);
document.querySelectorAll("button[data-print]").forEach((button) => { button.hidden = false; });
document.querySelectorAll(".drop-hint").forEach((hint) => { hint.hidden = false; });
markContents();
showAges();
setInterval(showAges, 30000);
