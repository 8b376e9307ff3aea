// The blameless-language assistant while typing: after a pause, the text of
// a field marked data-wording is checked (the same check as on save and in
// the API) and each note is listed under the field with its suggestion.
// It only points things out: saving is never held back.
"use strict";

(() => {
  const timers = new WeakMap();

  const csrf = (field) => {
    const form = field.closest("form");
    const input = form && form.elements.namedItem("csrf_token");
    return input ? input.value : "";
  };

  const list = (field) => {
    let notes = field.nextElementSibling;
    if (!notes || !notes.classList.contains("wording-notes")) {
      notes = document.createElement("ul");
      notes.className = "wording-notes";
      notes.setAttribute("aria-live", "polite");
      notes.dataset.testid = "wording-notes";
      field.insertAdjacentElement("afterend", notes);
    }
    return notes;
  };

  const show = (field, notes) => {
    const shown = list(field);
    shown.replaceChildren();
    const chars = Array.from(field.value);
    for (const note of notes) {
      const item = document.createElement("li");
      const words = document.createElement("strong");
      words.textContent = "\u201c" + chars.slice(note.start, note.end).join("") + "\u201d";
      const hint = document.createElement("span");
      hint.className = "muted";
      hint.textContent = note.suggestion;
      item.append(words, " " + note.message + " ", hint);
      shown.append(item);
    }
  };

  const check = async (field) => {
    const text = field.value;
    if (!text.trim()) {
      show(field, []);
      return;
    }
    try {
      const response = await fetch("/wording", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf(field) },
        body: JSON.stringify({ text }),
      });
      if (!response.ok) return;
      const body = await response.json();
      // A later keystroke has its own check coming.
      if (field.value === text) show(field, body.notes || []);
    } catch (_) {
      // Offline or busy: the notes come on save instead.
    }
  };

  document.addEventListener("input", (event) => {
    const field = event.target;
    if (!(field instanceof HTMLTextAreaElement) || !field.hasAttribute("data-wording")) return;
    clearTimeout(timers.get(field));
    timers.set(field, setTimeout(() => check(field), 500));
  });
})();
