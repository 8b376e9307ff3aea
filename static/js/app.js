// Debrief's progressive enhancement: every page works without this file.
"use strict";

document.addEventListener("submit", (event) => {
  // Forms that do something hard to undo ask first.
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

document.addEventListener("click", (event) => {
  // A secret shown once can be copied with a click.
  const target = event.target;
  if (target instanceof HTMLElement && target.matches("code.secret") && navigator.clipboard) {
    navigator.clipboard.writeText(target.textContent.trim()).then(() => {
      target.dataset.copied = "true";
    });
  }
});
