// Enhancement only: every page works without it. A pressed submit button is disabled so a
// double click cannot post a form twice.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.method && form.method.toLowerCase() === "post") {
    for (const button of form.querySelectorAll("button[type=submit]")) {
      setTimeout(() => { button.disabled = true; }, 0);
    }
  }
});

// The timeline's marks are focusable: the tooltip of the mark reached by keyboard shows while it has focus
// (the mouse gets the SVG's own tooltip; screen readers read each mark's name).
const tip = document.createElement("div");
tip.className = "tip";
tip.hidden = true;
tip.setAttribute("aria-hidden", "true");
const markOf = (target) => (target instanceof Element ? target.closest(".timeline .mark") : null);
document.addEventListener("focusin", (event) => {
  const mark = markOf(event.target);
  if (!mark) return;
  if (!tip.isConnected) document.body.append(tip);
  tip.textContent = mark.getAttribute("aria-label");
  const box = mark.getBoundingClientRect();
  tip.style.left = `${window.scrollX + box.left}px`;
  tip.style.top = `${window.scrollY + box.bottom + 6}px`;
  tip.hidden = false;
});
document.addEventListener("focusout", (event) => {
  if (markOf(event.target)) tip.hidden = true;
});
