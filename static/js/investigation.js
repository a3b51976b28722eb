// The investigation map: pan and zoom the server's SVG, click a node (htmx), lazy tabs.
// The layout is the server's; this script only moves the view box.
(function () {
  "use strict";

  let view = null;          // the user's view box {x, y, w, h}, kept across swaps
  let drag = null;
  let moved = false;        // whether the user panned or zoomed since the view was chosen
  let shown = -1;           // how many nodes the map had then
  const READABLE = 0.8;     // screen pixels per map unit below which labels are too small
  const CLOSE = 1.2;        // and above which a few nodes fill the screen
  const KEEP = 0.6;         // the smallest scale at which the incident is kept in view

  function union(a, b) {
    const x = Math.min(a.x, b.x);
    const y = Math.min(a.y, b.y);
    return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
  }

  function svg() { return document.getElementById("inv-svg"); }

  function parseBox(text) {
    const [x, y, w, h] = text.split(/\s+/).map(Number);
    return { x, y, w, h };
  }

  function apply() {
    const s = svg();
    if (s && view) s.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  }

  function current() {
    const s = svg();
    return view || (s ? parseBox(s.getAttribute("viewBox")) : null);
  }

  function selectedPoint(s) {
    const node = s.querySelector(".node.selected");
    const match = node && /translate\((-?[\d.]+) (-?[\d.]+)\)/.exec(node.getAttribute("transform"));
    return match ? { x: Number(match[1]), y: Number(match[2]) } : null;
  }

  // The first view of a map: all of it when its labels can be read so; else as much as
  // can be read, around the selected node and what its last click brought in (or around
  // the selected node alone when that is already too much), within the map's bounds.
  function initialView() {
    const s = svg();
    if (!s) return;
    const rect = s.getBoundingClientRect();
    if (!rect.width || !rect.height) return;
    const scale = (b) => Math.min(rect.width / b.w, rect.height / b.h);
    const full = parseBox(s.dataset.viewBox);
    const focus = parseBox(s.dataset.focusBox || s.dataset.viewBox);
    let box = full;
    if (scale(full) > CLOSE) {  // a small map is not blown up
      const w = rect.width / CLOSE;
      const h = rect.height / CLOSE;
      box = { x: full.x + full.w / 2 - w / 2, y: full.y + full.h / 2 - h / 2, w, h };
    } else if (scale(full) < READABLE) {
      // What the map is about (the incident and its alerts) stays in view with what the
      // last click brought, a little smaller if need be; failing that, the click's nodes.
      const keep = parseBox(s.dataset.keepBox || s.dataset.focusBox || s.dataset.viewBox);
      const both = union(keep, focus);
      const fit = Math.min(READABLE, scale(both));
      const w = rect.width / Math.max(fit, KEEP);
      const h = rect.height / Math.max(fit, KEEP);
      // With nothing selected yet (a first map too big to read whole), that is the root.
      const at = fit >= KEEP ? { x: both.x + both.w / 2, y: both.y + both.h / 2 }
        : scale(focus) >= READABLE ? { x: focus.x + focus.w / 2, y: focus.y + focus.h / 2 }
          : selectedPoint(s) || { x: keep.x + keep.w / 2, y: keep.y + keep.h / 2 };
      const within = (start, size, lo, span) =>
        size >= span ? lo + span / 2 - size / 2 : Math.min(Math.max(start, lo), lo + span - size);
      box = { x: within(at.x - w / 2, w, full.x, full.w), y: within(at.y - h / 2, h, full.y, full.h), w, h };
    }
    view = box;
    moved = false;
    shown = s.querySelectorAll(".node").length;
    apply();
  }

  function zoom(factor, cx, cy) {
    const box = current();
    if (!box) return;
    const w = Math.min(Math.max(box.w * factor, 120), 40000);
    const h = box.h * (w / box.w);
    const px = cx === undefined ? box.x + box.w / 2 : cx;
    const py = cy === undefined ? box.y + box.h / 2 : cy;
    view = { x: px - (px - box.x) * (w / box.w), y: py - (py - box.y) * (h / box.h), w, h };
    moved = true;
    apply();
  }

  function toMap(s, clientX, clientY) {
    const box = current();
    const rect = s.getBoundingClientRect();
    const scale = Math.max(box.w / rect.width, box.h / rect.height);
    // preserveAspectRatio xMidYMid meet: the box is centred in the element.
    const offsetX = (rect.width * scale - box.w) / 2;
    const offsetY = (rect.height * scale - box.h) / 2;
    return { x: box.x - offsetX + (clientX - rect.left) * scale,
             y: box.y - offsetY + (clientY - rect.top) * scale, scale };
  }

  function headers() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    } catch (e) {
      return {};
    }
  }

  function choose(node) {
    const main = document.getElementById("inv-main");
    if (!main || !window.htmx) return;
    const id = node.dataset.node;
    if (main.dataset.canInvestigate === "true") {
      main.classList.add("busy");
      window.htmx.ajax("POST", main.dataset.selectUrl, {
        target: "#inv-main", swap: "outerHTML", values: { node: id }, headers: headers(),
      });
    } else {
      document.querySelectorAll("#inv-svg .node.selected").forEach((n) => n.classList.remove("selected"));
      node.classList.add("selected");
      window.htmx.ajax("GET", `${main.dataset.paneUrl}?node=${encodeURIComponent(id)}`, {
        target: "#inv-pane", swap: "outerHTML",
      });
    }
  }

  document.addEventListener("wheel", (event) => {
    const s = event.target.closest && event.target.closest("#inv-svg");
    if (!s) return;
    event.preventDefault();
    const p = toMap(s, event.clientX, event.clientY);
    zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
  }, { passive: false });

  document.addEventListener("pointerdown", (event) => {
    const s = event.target.closest && event.target.closest("#inv-svg");
    if (!s || event.button !== 0) return;
    const box = current();
    drag = { s, startX: event.clientX, startY: event.clientY, box, moved: false,
             node: event.target.closest(".node") };
  });

  document.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.startX;
    const dy = event.clientY - drag.startY;
    if (!drag.moved && Math.hypot(dx, dy) < 5) return;
    drag.moved = true;
    drag.s.classList.add("panning");
    const scale = toMap(drag.s, 0, 0).scale;
    view = { x: drag.box.x - dx * scale, y: drag.box.y - dy * scale, w: drag.box.w, h: drag.box.h };
    moved = true;
    apply();
  });

  document.addEventListener("pointerup", () => {
    if (!drag) return;
    const { moved, node, s } = drag;
    drag = null;
    s.classList.remove("panning");
    if (!moved && node) choose(node);
  });

  document.addEventListener("keydown", (event) => {
    const node = event.target.closest && event.target.closest("#inv-svg .node");
    if (node && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      choose(node);
    }
  });

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-zoom]");
    if (button) {
      if (button.dataset.zoom === "fit") {
        const s = svg();
        if (s) view = parseBox(s.dataset.viewBox);
        moved = true;
        apply();
      } else {
        zoom(button.dataset.zoom === "in" ? 1 / 1.3 : 1.3);
      }
      return;
    }
    const tab = event.target.closest("#inv-pane [data-tab]");
    if (tab) showTab(tab);
  });

  // A tab's rows are asked for the first time it is shown.
  function showTab(tab) {
    const pane = tab.closest("#inv-pane");
    pane.querySelectorAll("[data-tab]").forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
    pane.querySelectorAll(".tab-panel").forEach((panel) => {
      panel.hidden = panel.id !== `tab-${tab.dataset.tab}`;
    });
    const panel = document.getElementById(`tab-${tab.dataset.tab}`);
    if (panel && panel.dataset.src && !panel.dataset.loaded && window.htmx) {
      panel.dataset.loaded = "true";
      window.htmx.ajax("GET", panel.dataset.src, { target: panel, swap: "innerHTML" });
    }
  }

  // After htmx redraws the map, keep the user's pan and zoom while the selected node is in
  // it; otherwise show the selected node and what its click brought in.
  document.addEventListener("htmx:afterSettle", () => {
    const s = svg();
    if (!s) return;
    const at = selectedPoint(s);
    const inside = view && at && at.x >= view.x && at.x <= view.x + view.w &&
      at.y >= view.y && at.y <= view.y + view.h;
    if (moved && inside && s.querySelectorAll(".node").length === shown) apply();
    else initialView();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", initialView);
  } else {
    initialView();
  }
  document.addEventListener("htmx:responseError", () => {
    const main = document.getElementById("inv-main");
    if (main) main.classList.remove("busy");
  });
})();
