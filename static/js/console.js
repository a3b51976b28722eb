// Small progressive enhancements; every page works without them.
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const source = document.getElementById(copy.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim());
      copy.textContent = "Copied";
    }
  }
  // A button that does much at once (dismissing an incident's many alerts) asks first;
  // "{verdict}" in its question is the verdict chosen in its form, "{selected}" the number
  // of rows ticked for it (a bulk form's boxes sit in the rows, tied by form="…").
  const confirmed = event.target.closest("[data-confirm]");
  if (confirmed) {
    const form = confirmed.form;
    const verdict = form && form.querySelector("select[name=verdict]");
    const ticked = form ? Array.from(form.elements).filter(
      (e) => e.type === "checkbox" && e.name === "ids" && e.checked).length : 0;
    const question = confirmed.dataset.confirm
      .replace("{verdict}", verdict ? verdict.selectedOptions[0].textContent.toLowerCase()
        : "dismissed")
      .replace("{selected}", String(ticked));
    if (!window.confirm(question)) event.preventDefault();
  }
});

// Remediation checklists remember their ticks in this browser.
function restoreChecklists(root) {
  root.querySelectorAll("[data-checklist]").forEach((list) => {
    const key = "soc:" + list.dataset.checklist;
    let ticked = [];
    try { ticked = JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { ticked = []; }
    const boxes = Array.from(list.querySelectorAll("input[type=checkbox]"));
    boxes.forEach((box, i) => {
      box.checked = ticked.includes(i);
      box.addEventListener("change", () => {
        const now = boxes.flatMap((b, j) => (b.checked ? [j] : []));
        localStorage.setItem(key, JSON.stringify(now));
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", () => restoreChecklists(document));

// Keyboard triage on tables marked data-keyboard-rows: j/k move, o open, x select, d dismiss
// with the row's verdict, r resolve (focuses the row's comment; Enter there resolves), Esc
// leaves a field for the rows again. The selected row stays selected when htmx swaps it.
let selectedRowId = null;
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && document.querySelector("[data-keyboard-rows]") &&
      event.target.closest("input, select, textarea")) {
    event.target.blur();  // back to the rows, from any field of the page
    return;
  }
  if (event.target.closest("input, textarea, select") || event.metaKey || event.ctrlKey) return;
  const table = document.querySelector("[data-keyboard-rows]");
  if (!table) return;
  const rows = Array.from(table.querySelectorAll("tbody tr[id]"));
  if (!rows.length) return;
  let current = rows.findIndex((row) => row.classList.contains("selected"));
  const select = (i) => {
    rows.forEach((row) => row.classList.remove("selected"));
    const row = rows[Math.max(0, Math.min(rows.length - 1, i))];
    row.classList.add("selected");
    selectedRowId = row.id;
    row.scrollIntoView({ block: "nearest" });
  };
  const row = rows[current];
  if (event.key === "j") select(current + 1);
  else if (event.key === "k") select(current < 0 ? 0 : current - 1);
  else if (event.key === "o" && row) row.querySelector("td a")?.click();
  else if (event.key === "x" && row) row.querySelector("input[type=checkbox]")?.click();
  else if (event.key === "d" && row) row.querySelector("form[action$='/dismiss/'] button")?.click();
  else if (event.key === "r" && row) {
    const comment = row.querySelector("form[action$='/resolve/'] input[name=comment]");
    if (comment && !comment.value.trim()) comment.focus();
    else row.querySelector("form[action$='/resolve/'] button")?.click();
  } else return;
  event.preventDefault();
});
document.addEventListener("htmx:afterSettle", () => {
  const row = selectedRowId && document.getElementById(selectedRowId);
  if (row && !row.classList.contains("selected")) row.classList.add("selected");
});

// A refused htmx request (400, 403…) says why at the top of the page, as text.
document.addEventListener("htmx:responseError", (event) => {
  const main = document.querySelector("main");
  if (!main) return;
  let list = document.getElementById("messages");
  if (!list) {
    list = document.createElement("ul");
    list.id = "messages";
    list.className = "messages";
    main.prepend(list);
  }
  const item = document.createElement("li");
  item.className = "msg msg-error";
  item.setAttribute("role", "alert");
  const text = (event.detail.xhr.responseText || "").trim();
  item.textContent = text && text.length < 500 && !text.startsWith("<") ? text :
    `The server refused it (${event.detail.xhr.status}).`;
  list.replaceChildren(item);
});

// The search page: custom range fields only when "Custom" is chosen; Ctrl+Enter runs.
function syncRange(form) {
  const range = form.querySelector("select[name=range]");
  if (!range) return;
  form.querySelectorAll(".custom-range").forEach((label) => {
    label.hidden = range.value !== "custom";
  });
}
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".search-form").forEach(syncRange);
});
document.addEventListener("change", (event) => {
  const form = event.target.closest(".search-form");
  if (form && event.target.name === "range") syncRange(form);
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.matches("textarea.kql")) {
    event.preventDefault();
    event.target.form.requestSubmit();
  }
});
