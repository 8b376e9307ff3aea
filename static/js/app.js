// Debrief's progressive enhancement: every page works without this file.
// With it, the parts of a postmortem are edited in place: forms inside a
// section marked data-live are sent in the background and the section is
// swapped for its new version, and "Edit" links open their form where the
// section stands.
"use strict";

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
  if (section && form.method.toLowerCase() === "post" && window.fetch) {
    event.preventDefault();
    submitInPlace(form, section);
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
  // "Edit" opens the section's form in place.
  const link = target.closest("a.edit-link[data-inline]");
  if (link && window.fetch) {
    event.preventDefault();
    openInPlace(link);
  }
});

/** Sends the form, then replaces its section with the page's new version of it. */
async function submitInPlace(form, section) {
  const buttons = form.querySelectorAll("button");
  buttons.forEach((button) => { button.disabled = true; });
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = page.getElementById(section.id);
    const flashes = page.querySelectorAll("main > .flash");
    if (fresh) {
      section.replaceWith(fresh);
      showFlashes(flashes);
    } else {
      // Not a page with this section (an error page): show it whole.
      document.documentElement.replaceWith(page.documentElement);
    }
  } catch (_) {
    form.submit();
  }
}

/** Loads the edit page of a section and puts its form in place of the section's text. */
async function openInPlace(link) {
  const section = link.closest("li.event, section, header");
  try {
    const response = await fetch(link.href, { credentials: "same-origin" });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const form = page.querySelector("main form.form");
    const extra = Array.from(page.querySelectorAll("main form:not(.form)"));
    if (!response.ok || !form || !section) {
      window.location.href = link.href;
      return;
    }
    const holder = document.createElement("div");
    holder.className = "card inline-edit";
    holder.appendChild(document.importNode(form, true));
    extra.forEach((other) => holder.appendChild(document.importNode(other, true)));
    const cancel = holder.querySelector(".form-actions a");
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
