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
  const confirmed = event.target.closest("[data-confirm]");
  if (confirmed && !window.confirm(confirmed.dataset.confirm)) {
    event.preventDefault();
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
