// The investigation map: pan and zoom the server's SVG, click a node (htmx), lazy tabs.
// The layout is the server's; this script only moves the view box.
(function () {
  "use strict";

  let view = null;          // the user's view box {x, y, w, h}, kept across swaps
  let drag = null;

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
    return view || (s ? parseBox(s.dataset.viewBox) : null);
  }

  function zoom(factor, cx, cy) {
    const box = current();
    if (!box) return;
    const w = Math.min(Math.max(box.w * factor, 120), 40000);
    const h = box.h * (w / box.w);
    const px = cx === undefined ? box.x + box.w / 2 : cx;
    const py = cy === undefined ? box.y + box.h / 2 : cy;
    view = { x: px - (px - box.x) * (w / box.w), y: py - (py - box.y) * (h / box.h), w, h };
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
        view = null;
        const s = svg();
        if (s) s.setAttribute("viewBox", s.dataset.viewBox);
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

  // After htmx redraws the map, keep the user's pan and zoom.
  document.addEventListener("htmx:afterSettle", () => apply());
  document.addEventListener("htmx:responseError", () => {
    const main = document.getElementById("inv-main");
    if (main) main.classList.remove("busy");
  });
})();
