// Flame graphs, made explorable: click a frame (or focus it and press
// Enter) to zoom into it, Escape or "Reset zoom" to see everything again,
// and type in the search box to highlight the frames whose names match
// (a plain substring, any case, or /a regex/) with the share they cover.
// The graph is an inline <svg class="flame-graph"> drawn by the server;
// each frame is a <g class="frame"> carrying data-name, data-value,
// data-start and data-depth. Controls are looked up inside the graph's
// closest [data-flame] element (input[data-flame-search],
// button[data-flame-reset], [data-flame-matched], [data-flame-details])
// and made when missing, since they only work with this script.
"use strict";

(() => {
  // As the server lays labels out: a monospace font of 12 user units whose
  // glyphs are 0.6 of it wide, 3 units of padding on each side.
  const CHAR_WIDTH = 12 * 0.6;
  const TEXT_PADDING = 3;

  function fit(name, width) {
    const room = Math.floor((width - 2 * TEXT_PADDING) / CHAR_WIDTH);
    if (room < 3) return "";
    const chars = Array.from(name);
    if (chars.length <= room) return name;
    return chars.slice(0, room - 2).join("") + "..";
  }

  function frameData(g) {
    return {
      g,
      rect: g.querySelector("rect"),
      text: g.querySelector("text"),
      name: g.dataset.name || "",
      start: Number(g.dataset.start) || 0,
      value: Number(g.dataset.value) || 0,
      depth: Number(g.dataset.depth) || 0,
    };
  }

  function control(container, selector, make) {
    const found = container.querySelector(selector);
    if (found) return found;
    const made = make();
    let bar = container.querySelector(".flame-controls");
    if (!bar) {
      bar = document.createElement("div");
      bar.className = "flame-controls";
      const svg = container.querySelector("svg.flame-graph");
      container.insertBefore(bar, svg && svg.parentNode === container ? svg : container.firstChild);
    }
    bar.appendChild(made);
    return made;
  }

  function element(tag, attributes, text) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
    if (text) el.textContent = text;
    return el;
  }

  // A search box's text as a test of names: /re/flags or a substring, any case.
  function matcher(query) {
    const regex = /^\/(.+)\/([a-z]*)$/.exec(query);
    if (regex) {
      const re = new RegExp(regex[1], regex[2].replace(/[gy]/g, ""));
      return (name) => re.test(name);
    }
    const needle = query.toLowerCase();
    return (name) => name.toLowerCase().includes(needle);
  }

  // The width covered by frames, counting a frame inside another once.
  function covered(frames) {
    const spans = frames.map((f) => [f.start, f.start + f.value]).sort((a, b) => a[0] - b[0]);
    let sum = 0;
    let end = -Infinity;
    for (const [s, e] of spans) {
      if (e <= end) continue;
      sum += e - Math.max(s, end);
      end = e;
    }
    return sum;
  }

  function percent(part, whole) {
    if (!whole) return "0%";
    const p = (part / whole) * 100;
    return (p >= 10 || p === 0 ? p.toFixed(1) : p.toPrecision(2)) + "%";
  }

  function enhance(svg) {
    const frames = Array.from(svg.querySelectorAll("g.frame"), frameData);
    if (frames.length === 0) return;
    const width = svg.viewBox.baseVal ? svg.viewBox.baseVal.width : Number(svg.getAttribute("width"));
    const root = frames.find((f) => f.depth === 0) || frames[0];
    const container = svg.closest("[data-flame]") || svg.parentElement;

    const search = control(container, "input[data-flame-search]", () => {
      const label = element("label", { class: "flame-search" }, "Search ");
      label.appendChild(element("input", { type: "search", "data-flame-search": "", placeholder: "function or /regex/" }));
      return label;
    });
    const input = search.matches("input") ? search : search.querySelector("input");
    const reset = control(container, "[data-flame-reset]", () =>
      element("button", { type: "button", class: "button", "data-flame-reset": "" }, "Reset zoom"),
    );
    const matched = control(container, "[data-flame-matched]", () =>
      element("output", { "data-flame-matched": "", "aria-live": "polite" }),
    );
    const details = control(container, "[data-flame-details]", () =>
      element("output", { class: "flame-details", "data-flame-details": "" }),
    );
    reset.disabled = true;

    function layout(focus) {
      const span = focus.value || 1;
      for (const f of frames) {
        let x;
        let w;
        const inside = f.depth >= focus.depth && f.start >= focus.start && f.start + f.value <= focus.start + focus.value;
        const ancestor = f.depth < focus.depth && f.start <= focus.start && f.start + f.value >= focus.start + focus.value;
        if (inside) {
          x = ((f.start - focus.start) / span) * width;
          w = (f.value / span) * width;
        } else if (ancestor) {
          x = 0;
          w = width;
        }
        const shown = inside || ancestor;
        f.g.classList.toggle("flame-hidden", !shown);
        f.g.classList.toggle("flame-ancestor", ancestor && f !== focus);
        if (!shown) continue;
        f.rect.setAttribute("x", x.toFixed(2));
        f.rect.setAttribute("width", w.toFixed(2));
        if (f.text) {
          f.text.setAttribute("x", (x + TEXT_PADDING).toFixed(2));
          f.text.textContent = fit(f.name, w);
        }
      }
      reset.disabled = focus === root;
    }

    function highlight() {
      const query = input.value.trim();
      input.removeAttribute("aria-invalid");
      let test = null;
      if (query) {
        try {
          test = matcher(query);
        } catch (err) {
          input.setAttribute("aria-invalid", "true");
        }
      }
      const hits = [];
      for (const f of frames) {
        const hit = test !== null && test(f.name);
        f.g.classList.toggle("flame-match", hit);
        if (hit) hits.push(f);
      }
      matched.textContent = test === null ? "" : `Matched: ${percent(covered(hits), root.value)} (${hits.length} frames)`;
    }

    function frameOf(target) {
      const g = target instanceof Element ? target.closest("g.frame") : null;
      return g && frames.find((f) => f.g === g);
    }

    function show(target) {
      const f = frameOf(target);
      if (!f) return;
      const title = f.g.querySelector("title");
      details.textContent = title ? title.textContent : f.name;
    }

    svg.addEventListener("click", (event) => {
      const f = frameOf(event.target);
      if (f) layout(f);
    });
    svg.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        layout(root);
        return;
      }
      if (event.key !== "Enter" && event.key !== " ") return;
      const f = frameOf(event.target);
      if (!f) return;
      event.preventDefault();
      layout(f);
    });
    svg.addEventListener("mouseover", (event) => show(event.target));
    svg.addEventListener("focusin", (event) => show(event.target));
    reset.addEventListener("click", () => layout(root));
    input.addEventListener("input", highlight);
    highlight();
  }

  function start() {
    document.querySelectorAll("svg.flame-graph").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
